/* supervisor/server.h - what the server files share: the record a server
 * process runs with, and the start handshake.
 *
 * hv_server_start spawns the server with a struct hv__srv and waits for
 * {'$hv_init', Ref, Result} from it, monitoring it meanwhile (proc_lib's
 * init_ack): Result is ok, ignore or {stop, Reason}. */
#ifndef HV_SUPERVISOR_SERVER_H
#define HV_SUPERVISOR_SERVER_H

#include "hive/server.h"

struct hv__srv {
    hv_server_callbacks cb;
    void *arg;
    void *state;
    hv_term parent;   /* the starter when linked, else HV_NONE */
    hv_term starter;  /* who waits for init */
    hv_term init_ref; /* tags the init answer */
    bool trap_exit;
    /* A table server: its clauses compiled into one set, in order. */
    hv_rset *table;
    hv_server_handler **handlers;
    size_t nclauses;
};

/* The server process's body (server_loop.c); arg is a struct hv__srv,
 * which it owns from then on. */
void hv__server_main(void *arg);
/* Frees a server record (and its table). */
void hv__srv_free(struct hv__srv *s);
/* Spawns and waits for the server's init (server.c); takes s. */
int hv__server_spawn(struct hv__srv *s, const hv_server_opts *opts,
                     hv_term *pid, hv_term *reason);
/* The atoms the protocol uses. */
struct hv__srv_atoms {
    hv_term gen_call, gen_cast, hv_init, ok, ignore, stop, timeout,
        bad_request, already_started, bad_pattern, down;
};
const struct hv__srv_atoms *hv__srv_atoms(void);

#endif /* HV_SUPERVISOR_SERVER_H */

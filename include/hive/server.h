/* hive/server.h - gen_server-style servers: a process that owns a state
 * and answers calls, casts and other messages through callbacks, and the
 * client side: hv_call, hv_cast, hv_reply.
 *
 * The wire protocol is gen_server's, so servers answer bridges
 * (hv_bridge_call) and any process that speaks it:
 *   call   {'$gen_call', {From, Ref}, Request}  answered with {Ref, Reply}
 *   cast   {'$gen_cast', Msg}
 * Everything else a server receives goes to handle_info, and after
 * `timeout_ms` of no messages (when a callback asked for it) handle_info
 * gets the atom `timeout`, as gen_server's return timeouts do.
 *
 * Callbacks return an hv_server_result made with the helpers below:
 * reply (to a call), noreply (a call's reply comes later with hv_reply,
 * from any process), stop with a reason (and optionally a reply first).
 * A callback that ends the process (hv_exit, a stack overflow) ends the
 * server with that reason: terminate runs (as a cleanup: it may send but
 * not receive), and every caller waiting in hv_call gets HV_EEXIT with
 * the reason.  As in OTP, terminate does not run when init failed or
 * when an exit signal the server does not trap ends it (a linked process
 * crashing, `kill`); a server that traps exits and gets one from its
 * parent stops with that reason, terminate included.
 *
 * Ownership: requests and messages handed to callbacks are borrowed
 * (retain what you keep); replies and reasons in results are consumed;
 * `from` is borrowed (retain it to reply later). */
#ifndef HV_SERVER_H
#define HV_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "hive/error.h"
#include "hive/match.h"
#include "hive/process.h"
#include "hive/term.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hv_server_action {
    HV_SERVER_REPLY = 1, /* reply `reply` to the call */
    HV_SERVER_NOREPLY,   /* no reply now (or not a call) */
    HV_SERVER_STOP       /* terminate with `reason`, then reply `reply`
                            if set */
};

typedef struct hv_server_result {
    enum hv_server_action action;
    hv_term reply;  /* consumed; HV_NONE for none */
    hv_term reason; /* consumed; for HV_SERVER_STOP */
    /* After this many ms without a message handle_info gets `timeout`;
     * HV_INFINITY (the helpers' default): never. */
    int64_t timeout_ms;
} hv_server_result;

/* Result helpers. */
HV_API hv_server_result hv_result_reply(hv_term reply);
HV_API hv_server_result hv_result_noreply(void);
HV_API hv_server_result hv_result_stop(hv_term reason, hv_term reply);
/* r with an idle timeout. */
HV_API hv_server_result hv_result_timeout(hv_server_result r,
                                          int64_t timeout_ms);

/* What init returns. */
enum hv_server_init_action {
    HV_SERVER_INIT_OK = 1, /* run, with *state set */
    HV_SERVER_INIT_IGNORE, /* end quietly (reason normal); the starter
                              gets HV_EIGNORE */
    HV_SERVER_INIT_STOP    /* end with *reason; the starter gets HV_EEXIT
                              and the reason */
};

typedef struct hv_server_callbacks {
    /* Runs in the new server before hv_server_start returns.  Sets
     * *state (the state pointer every other callback gets) and may set
     * *timeout_ms (HV_INFINITY when left alone) or *reason (new) for
     * HV_SERVER_INIT_STOP.  NULL: state is arg. */
    enum hv_server_init_action (*init)(void *arg, void **state,
                                       int64_t *timeout_ms, hv_term *reason);
    /* A call.  NULL: every call is answered {error, {bad_request, Req}}. */
    hv_server_result (*handle_call)(hv_term request, hv_term from,
                                    void *state);
    /* A cast.  NULL: casts are dropped. */
    hv_server_result (*handle_cast)(hv_term msg, void *state);
    /* Any other message, and `timeout`.  NULL: dropped. */
    hv_server_result (*handle_info)(hv_term msg, void *state);
    /* The server ends with reason (borrowed): free the state here.  NULL:
     * nothing to do. */
    void (*terminate)(hv_term reason, void *state);
} hv_server_callbacks;

typedef struct hv_server_opts {
    hv_term name;     /* register under this atom (HV_NONE: none) */
    bool link;        /* link to the caller (start_link) */
    bool trap_exit;   /* trap exits; an exit from the parent (the starter,
                         when linked) then stops the server with its
                         reason, as gen_server does */
    int64_t start_timeout_ms; /* for init; 0: 5000; HV_INFINITY: none */
    hv_spawn_opts spawn;      /* stack, thread (name and link are above) */
} hv_server_opts;

/* Starts a server running cb with arg and waits for its init.  From a
 * process.  HV_OK with *pid; HV_EIGNORE (init said ignore); HV_EEXIT with
 * *reason (new; may be NULL) when init stopped or the server died during
 * init; HV_ETIMEOUT (the server is killed); HV_EBADARG (not a process,
 * cb NULL, the name taken: *reason is {already_started, Pid}). */
HV_API int hv_server_start(const hv_server_callbacks *cb, void *arg,
                           const hv_server_opts *opts, hv_term *pid,
                           hv_term *reason);

/* A call: sends request (consumed) to server (a pid or a registered
 * name) and waits up to timeout_ms for the reply (HV_INFINITY: forever),
 * monitoring the server meanwhile.  HV_OK with *reply (new); HV_ENOPROC
 * (no such server, or it was gone before it answered with reason
 * noproc); HV_EEXIT with *reply = the server's exit reason (new) if it
 * died before answering; HV_ETIMEOUT (a reply that comes later is
 * dropped, never queued); HV_EBADARG (not a process).  From a process;
 * plain threads use hv_bridge_call. */
HV_API int hv_call(hv_term server, hv_term request, int64_t timeout_ms,
                   hv_term *reply);
/* Sends {'$gen_cast', msg} (msg consumed) to server; never fails for a
 * dead server (HV_OK), as gen_server:cast. */
HV_API int hv_cast(hv_term server, hv_term msg);
/* Replies to a call whose handler returned noreply: from is the `from`
 * the handler got (borrowed); reply consumed.  Any process or thread. */
HV_API int hv_reply(hv_term from, hv_term reply);
/* Stops a server: terminate runs with reason (consumed) and the server
 * ends with it; waits up to timeout_ms.  HV_OK; HV_ENOPROC; HV_ETIMEOUT;
 * HV_EEXIT when it ended with another reason. */
HV_API int hv_server_stop(hv_term server, hv_term reason, int64_t timeout_ms);

/* ---- pattern-dispatched servers --------------------------------------
 * handle_call chosen by the request's shape: a table of clauses, each a
 * pattern (match.h) and the handler for requests it matches, compiled
 * into one receive set (so one request is tested against the table in
 * one pass).  A request that matches no clause is answered
 * {error, {bad_request, Request}} and the server runs on. */

typedef hv_server_result hv_server_handler(const hv_bindings *b,
                                           hv_term from, void *state);

typedef struct hv_server_clause {
    const char *pattern; /* e.g. "{withdraw, Amount} when Amount > 0" */
    hv_server_handler *handler;
} hv_server_clause;

/* Starts a server whose calls go through the n clauses (the table is
 * copied; patterns compiled once).  cb gives init, cast, info and
 * terminate (may be NULL: state is arg); its handle_call must be NULL.
 * A bad pattern is HV_EBADARG with *reason = {bad_pattern, Index, Text}
 * naming the clause and the compiler's message.  Otherwise as
 * hv_server_start. */
HV_API int hv_server_start_table(const hv_server_clause *clauses, size_t n,
                                 const hv_server_callbacks *cb, void *arg,
                                 const hv_server_opts *opts, hv_term *pid,
                                 hv_term *reason);

#ifdef __cplusplus
}
#endif
#endif /* HV_SERVER_H */

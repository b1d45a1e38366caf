/* supervisor/sup.h - the supervisor's state, shared by supervisor.c (start,
 * the server callbacks, restart strategies, intensity, backoff) and
 * sup_children.c (child records, starting and stopping one child,
 * which_children and count_children).
 *
 * A supervisor is a server (server.h) that traps exits.  Its state lives
 * on the heap and is owned by the supervisor process: a hv_defer cleanup
 * registered in init frees it however the process ends, since a
 * supervisor killed with `kill` never runs terminate.
 *
 * Children are records on one list in start order.  For static
 * strategies each record is a child spec (kept while the child is
 * stopped); for simple_one_for_one each record is one running (or
 * restarting) instance of the one template spec.  Running children are
 * also in by_pid, so an {'EXIT', Pid, Reason} finds its record in O(1)
 * however many children there are. */
#ifndef HV_SUPERVISOR_SUP_H
#define HV_SUPERVISOR_SUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/supervisor.h"
#include "runtime/tmap.h"

enum hv__sup_cstate {
    HV__SUP_STOPPED = 0, /* pid `undefined` in which_children */
    HV__SUP_RUNNING,
    HV__SUP_RETRY,  /* a restart failed; {try_again, Key} is on its way */
    HV__SUP_BACKOFF /* waiting out a backoff delay; a timer sends
                       {backoff, Key} */
};

struct hv__sup_child {
    struct hv__sup_child *prev, *next; /* start order */
    /* Our copy: id retained (`undefined` for simple_one_for_one
     * instances, which have no id), shutdown resolved from 0 to its
     * default. */
    hv_child_spec spec;
    hv_term args;     /* simple_one_for_one start args (retained); else [] */
    hv_term pid;      /* while RUNNING; HV_NONE otherwise */
    hv_term last_pid; /* the pid it last ran as (HV_NONE: never ran) */
    enum hv__sup_cstate state;
    /* Names the current wait (RETRY or BACKOFF) in the message that ends
     * it.  Fresh for every wait, so a message of an earlier wait, which a
     * cancel came too late to stop, finds nothing. */
    uint64_t key;
    hv_term timer;       /* the backoff timer's ref while BACKOFF */
    int64_t backoff_ms;  /* the last delay waited; 0: none yet */
    uint64_t started_ms; /* when it last started, for backoff reset */
    hv_term mon;         /* shutdown's monitor while it waits */
};

struct hv__sup {
    hv_sup_flags flags;
    struct hv__sup_child *head, *tail; /* start order */
    size_t count;                      /* records on the list */
    size_t nwaiting;                   /* records in RETRY or BACKOFF */
    struct hv__tmap by_pid;            /* RUNNING child's pid -> record */
    hv_child_spec tmpl; /* simple_one_for_one's spec (id retained) */
    uint64_t next_key;
    /* Restart times (ms) within the period, oldest first: a ring of at
     * most `intensity` entries, so recording a restart is O(1)
     * amortized whatever the count (OTP keeps a list it walks). */
    uint64_t *ring;
    size_t ring_cap, ring_head, ring_len;
};

/* Atoms the supervisor uses, interned once per program (atoms live for
 * the life of the program): X(field, name). */
#define HV__SUP_ATOMS(X)                                                       \
    X(start_child, "start_child")                                              \
    X(start_child_args, "start_child_args") X(                                 \
        terminate_child, "terminate_child") X(restart_child, "restart_child")  \
        X(delete_child, "delete_child") X(which_children, "which_children") X( \
            count_children, "count_children") X(try_again,                     \
                                                "try_again_restart")           \
            X(backoff, "backoff_restart") X(exit, "EXIT") X(down, "DOWN") X(   \
                kill,                                                          \
                "kill") X(killed,                                              \
                          "killed") X(shutdown,                                \
                                      "shutdown") X(normal,                    \
                                                    "normal") X(worker,        \
                                                                "worker")      \
                X(supervisor, "supervisor") X(restarting, "restarting") X(     \
                    simple_one_for_one,                                        \
                    "simple_one_for_one") X(not_found,                         \
                                            "not_found") X(running, "running") \
                    X(already_present, "already_present") X(                   \
                        already_started,                                       \
                        "already_started") X(bad_child_spec, "bad_child_spec") \
                        X(bad_flags, "bad_flags") X(                           \
                            bad_start_spec,                                    \
                            "bad_start_spec") X(failed_to_start_child,         \
                                                "failed_to_start_child")       \
                            X(bad_return, "bad_return") X(                     \
                                bad_reply, "bad_reply") X(bad_request,         \
                                                          "bad_request")       \
                                X(system_limit, "system_limit") X(             \
                                    enomem, "enomem") X(id, "id") X(start,     \
                                                                    "start")   \
                                    X(restart, "restart") X(type, "type") X(   \
                                        significant, "significant") X(args,    \
                                                                      "args")  \
                                        X(duplicate_id, "duplicate_id") X(     \
                                            strategy,                          \
                                            "strategy") X(intensity,           \
                                                          "intensity")         \
                                            X(period_ms,                       \
                                              "period_ms") X(auto_shutdown,    \
                                                             "auto_shutdown")  \
                                                X(children, "children") X(     \
                                                    backoff_min_ms,            \
                                                    "backoff_min_ms")          \
                                                    X(backoff_max_ms,          \
                                                      "backoff_max_ms")        \
                                                        X(backoff_reset_ms,    \
                                                          "backoff_reset_ms")

struct hv__sup_atoms {
#define HV__SUP_ATOM_FIELD(field, name) hv_term field;
    HV__SUP_ATOMS(HV__SUP_ATOM_FIELD)
#undef HV__SUP_ATOM_FIELD
};
extern struct hv__sup_atoms hv__sup_atom;
/* Interns them; idempotent and thread-safe (a failure is retried on the
 * next call).  HV_OK or HV_ENOMEM. */
int hv__sup_atoms_init(void);

/* ---- child records (sup_children.c) ---- */

/* {bad_child_spec, Id, {Field, Value}} (new; consumes value; id
 * borrowed, HV_NONE read as `undefined`). */
hv_term hv__sup_bad_spec(hv_term id, hv_term field, hv_term value);
/* Checks spec for a supervisor with auto_shutdown (OTP's check_childspec
 * plus ours: start or fn set, backoff fields).  HV_OK, or HV_EBADARG with
 * *reason (new) {bad_child_spec, Id, {Field, Value}}. */
int hv__sup_spec_check(const hv_child_spec *spec, hv_auto_shutdown as,
                       hv_term *reason);
/* A new record holding a copy of spec (id retained, shutdown default
 * resolved) and args (consumed), state STOPPED, not on the list.  NULL
 * on allocation failure (args released). */
struct hv__sup_child *hv__sup_child_new(const hv_child_spec *spec,
                                        hv_term args);
/* Appends c to the list (start order). */
void hv__sup_child_append(struct hv__sup *s, struct hv__sup_child *c);
/* Takes c off the list (leaving its wait or run state) and frees it. */
void hv__sup_child_remove(struct hv__sup *s, struct hv__sup_child *c);
/* Frees c, which is on no list (leaving its run state). */
void hv__sup_child_free(struct hv__sup *s, struct hv__sup_child *c);
/* The record of a RUNNING child, or NULL. */
struct hv__sup_child *hv__sup_child_by_pid(const struct hv__sup *s,
                                           hv_term pid);
/* The record with this id (=:=), or NULL. */
struct hv__sup_child *hv__sup_child_by_id(const struct hv__sup *s, hv_term id);
/* The waiting simple_one_for_one record whose last pid was pid, or NULL
 * (a linear scan; OTP finds these by {restarting, Pid}). */
struct hv__sup_child *hv__sup_child_by_old_pid(const struct hv__sup *s,
                                               hv_term pid);
/* The record waiting (RETRY or BACKOFF) under key, or NULL.  A linear
 * scan: only failed restarts and backoff timers come here. */
struct hv__sup_child *hv__sup_child_by_key(const struct hv__sup *s,
                                           uint64_t key);

/* OTP's del_child: a simple_one_for_one instance or a temporary child
 * goes; any other keeps its spec, STOPPED. */
void hv__sup_child_drop(struct hv__sup *s, struct hv__sup_child *c);
/* Moves c to STOPPED, leaving whatever it was doing (a RUNNING child
 * must have ended already: this only forgets its pid). */
void hv__sup_child_stopped(struct hv__sup *s, struct hv__sup_child *c);
/* Moves a non-running c to wait state (HV__SUP_RETRY or HV__SUP_BACKOFF)
 * under a fresh key, which it returns. */
uint64_t hv__sup_child_wait(struct hv__sup *s, struct hv__sup_child *c,
                            enum hv__sup_cstate state);

/* Starts the stopped or waiting child c, in the supervisor.  1: running;
 * 0: its start said ignore (c is STOPPED); HV_EEXIT: it failed, *why
 * (new) saying why, c STOPPED.  May yield. */
int hv__sup_child_start(struct hv__sup *s, struct hv__sup_child *c,
                        hv_term *why);
/* Stops c if RUNNING by its shutdown (OTP's shutdown/2: monitor, unlink,
 * exit shutdown or kill, wait for DOWN up to the timeout, then kill),
 * and moves it to STOPPED.  May yield. */
void hv__sup_child_stop(struct hv__sup *s, struct hv__sup_child *c);
/* Stops every running simple_one_for_one child at once (OTP's
 * terminate_dynamic_children: one shared timeout) and removes every
 * record.  May yield. */
void hv__sup_stop_dynamic(struct hv__sup *s);

/* [{Id, Pid | undefined | restarting, worker | supervisor}] in start
 * order (new), HV_NONE on allocation failure. */
hv_term hv__sup_which(const struct hv__sup *s);
void hv__sup_count(const struct hv__sup *s, hv_sup_counts *out);

/* Answers a call req (borrowed) to the supervisor: {Code, Value} (new),
 * Code the HV_* status the client returns, Value its pid, list, counts
 * or error reason.  May yield (a start or stop of a child). */
hv_term hv__sup_call(struct hv__sup *s, hv_term req);

/* Frees the records, the maps and s (the hv_defer cleanup). */
void hv__sup_free(struct hv__sup *s);

#endif /* HV_SUPERVISOR_SUP_H */

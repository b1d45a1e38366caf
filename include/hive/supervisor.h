/* hive/supervisor.h - supervisors: processes that start children, watch
 * them through links, and restart them by OTP's rules.
 *
 * Children start in order and stop in reverse order.  A child ends; the
 * supervisor decides by its restart type (permanent: always restart;
 * transient: restart unless it ended normal, shutdown or {shutdown, _};
 * temporary: never) and restarts it by the strategy:
 *   one_for_one        only that child
 *   one_for_all        all children (the others are stopped first, in
 *                      reverse order, then all started in order)
 *   rest_for_one       that child and those started after it
 *   simple_one_for_one one_for_one over children of one spec, started
 *                      with hv_sup_start_child(sup, args)
 * More than `intensity` restarts within `period_ms` and the supervisor
 * stops all children and ends with reason `shutdown`, as OTP.
 *
 * Stopping a child: shutdown HV_SHUTDOWN_BRUTAL_KILL kills it with
 * `kill`; a timeout in ms sends exit `shutdown` and kills it when it has
 * not ended in time; HV_INFINITY waits for it.  A supervisor traps exits
 * and is a server (server.h): it answers hv_call, and its exit reason
 * when it gives up is `shutdown`.
 *
 * Beyond OTP, restart backoff: a child spec may set backoff_min_ms; the
 * child's restart then waits that long, doubling per consecutive crash up
 * to backoff_max_ms, and the delay resets after backoff_reset_ms without
 * a crash.  A restart is counted against intensity when it happens, not
 * while the child waits out its delay.  Off (0) by default, so OTP's
 * semantics hold unless asked.
 *
 * auto_shutdown (OTP 24): with HV_AUTO_ANY_SIGNIFICANT the supervisor
 * ends (reason shutdown) when a child marked significant ends and is not
 * restarted; with HV_AUTO_ALL_SIGNIFICANT when all of them have. */
#ifndef HV_SUPERVISOR_H
#define HV_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/error.h"
#include "hive/process.h"
#include "hive/server.h"
#include "hive/term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hv_sup_strategy {
    HV_ONE_FOR_ONE = 0,
    HV_ONE_FOR_ALL,
    HV_REST_FOR_ONE,
    HV_SIMPLE_ONE_FOR_ONE
} hv_sup_strategy;

typedef enum hv_restart {
    HV_PERMANENT = 0,
    HV_TRANSIENT,
    HV_TEMPORARY
} hv_restart;

typedef enum hv_child_type { HV_WORKER = 0, HV_SUPERVISOR } hv_child_type;

typedef enum hv_auto_shutdown {
    HV_AUTO_NEVER = 0,
    HV_AUTO_ANY_SIGNIFICANT,
    HV_AUTO_ALL_SIGNIFICANT
} hv_auto_shutdown;

/* hv_child_spec.shutdown: kill at once.  0 means the default: 5000 ms
 * for a worker, HV_INFINITY for a supervisor (as OTP). */
#define HV_SHUTDOWN_BRUTAL_KILL ((int64_t)-2)

/* Starts a child, in the supervisor's process: it must start a process
 * linked to the caller (hv_spawn_link, hv_server_start with .link, or
 * hv_sup_start with .link) and put its pid in *pid, or leave *pid HV_NONE
 * to say `ignore`.  HV_OK, or an error code with *reason (new) saying
 * why.  args is HV_NIL except for simple_one_for_one children, where it
 * is the term given to hv_sup_start_child (borrowed). */
typedef int hv_child_start(void *arg, hv_term args, hv_term *pid,
                           hv_term *reason);

typedef struct hv_child_spec {
    hv_term id; /* any term, unique in the supervisor (borrowed) */
    /* How to start it: start(arg, ...) or, when start is NULL, fn(arg)
     * spawned linked. */
    hv_child_start *start;
    hv_fn *fn;
    void *arg;
    hv_restart restart;
    int64_t shutdown; /* ms, HV_SHUTDOWN_BRUTAL_KILL, HV_INFINITY; 0: default */
    hv_child_type type;
    bool significant;
    int64_t backoff_min_ms, backoff_max_ms, backoff_reset_ms; /* 0: off */
} hv_child_spec;

typedef struct hv_sup_flags {
    hv_sup_strategy strategy;
    int intensity;  /* restarts allowed per period; >= 0 */
    int64_t period_ms; /* > 0 */
    hv_auto_shutdown auto_shutdown;
} hv_sup_flags;

/* Starts a supervisor with the children (copied), started in order before
 * it returns.  opts as for servers (name, link; trap_exit is always on).
 * HV_OK with *pid; HV_EBADARG for a bad spec with *reason (new) naming
 * the field, e.g. {bad_child_spec, Id, {duplicate_id, Id}},
 * {bad_flags, {intensity, -1}}; HV_EEXIT with *reason
 * {shutdown, {failed_to_start_child, Id, Why}} when a child fails. */
HV_API int hv_sup_start(const hv_sup_flags *flags,
                        const hv_child_spec *children, size_t n,
                        const hv_server_opts *opts, hv_term *pid,
                        hv_term *reason);

/* Dynamic children (calls to the supervisor; timeout HV_INFINITY).
 * Each returns HV_OK, HV_ENOPROC (no supervisor), HV_EBADARG with
 * *reason (new, may be NULL) for a bad spec or id ({already_present, Id},
 * not_found, running, restarting, simple_one_for_one), or HV_EEXIT when
 * a start failed, *reason the start's reason. */
HV_API int hv_sup_start_child(hv_term sup, const hv_child_spec *spec,
                              hv_term *pid, hv_term *reason);
/* simple_one_for_one: a child of the template with args (consumed). */
HV_API int hv_sup_start_child_args(hv_term sup, hv_term args, hv_term *pid,
                                   hv_term *reason);
/* Stops a child (by id; by pid for simple_one_for_one), keeping its spec
 * (deleting it for simple_one_for_one and temporary children). */
HV_API int hv_sup_terminate_child(hv_term sup, hv_term id_or_pid,
                                  hv_term *reason);
/* Starts a stopped child of a kept spec again. */
HV_API int hv_sup_restart_child(hv_term sup, hv_term id, hv_term *pid,
                                hv_term *reason);
/* Removes the spec of a stopped child. */
HV_API int hv_sup_delete_child(hv_term sup, hv_term id, hv_term *reason);
/* *list (new): [{Id, Child, Type}] in start order, Child a pid,
 * `undefined` (stopped) or `restarting` (waiting out a backoff); Type
 * worker or supervisor; Id `undefined` for simple_one_for_one. */
HV_API int hv_sup_which_children(hv_term sup, hv_term *list);

typedef struct hv_sup_counts {
    size_t specs, active, supervisors, workers;
} hv_sup_counts;
HV_API int hv_sup_count_children(hv_term sup, hv_sup_counts *counts);

#ifdef __cplusplus
}
#endif
#endif /* HV_SUPERVISOR_H */

/* tests/proc_util.h - what the process suites share: running a main
 * process under the expectation recorder, receiving with a bound, waiting
 * for an exit, and small term probes.  Functions marked (process) must be
 * called from inside a process. */
#ifndef HV_TESTS_PROC_UTIL_H
#define HV_TESTS_PROC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/hive.h"

/* Runs fn(arg) as hv_run's main on `schedulers` threads (0: one per CPU)
 * and asserts that it ran to its end, exited `normal`, that no EXPECT
 * failed, and that the runtime is gone afterwards. */
void run_main(hv_fn *fn, void *arg, unsigned schedulers);

/* A config with `schedulers` threads and defaults otherwise. */
hv_config config_of(unsigned schedulers);

/* A pid carried in a process argument, and back. */
void *pid_arg(hv_term pid);
hv_term arg_pid(void *arg);

/* A process body that returns at once. */
void returns_at_once(void *arg);
/* hv_recv_if predicates: the atom `stop`; nothing at all. */
bool only_stop(hv_term msg, void *ctx);
bool reject_all(hv_term msg, void *ctx);
/* (process) A process body: waits (up to 30 s) for `stop`, leaving every
 * other message queued. */
void await_stop(void *arg);
/* (process) Polls until nobody is registered as name, for up to 10 s. */
bool eventually_unnamed(hv_term name);
/* pid's registered name, HV_NONE if none, [] if pid is not alive. */
hv_term name_of(hv_term pid);

/* (process) The next message (new), or HV_NONE and a recorded failure
 * after 10 s. */
hv_term next_msg(void);
/* (process) Receives and expects exactly the atom name. */
void await_atom(const char *name);
/* Whether pid is not alive. */
bool is_dead(hv_term pid);
/* (process) Exit is asynchronous to an observer: polls for pid's death,
 * for up to 10 s. */
bool eventually_dead(hv_term pid);
/* (process) Polls until hv_process_count() is n, for up to 10 s. */
bool eventually_count(size_t n);
/* (process) Sends `stop` to pid and expects it to die. */
void stop_and_reap(hv_term pid);

/* CLOCK_MONOTONIC in milliseconds. */
double now_ms(void);
/* Element i of tuple t as an integer; INT64_MIN if it is none. */
int64_t elem_int(hv_term t, size_t i);
/* Whether t is the atom name. */
bool is_atom(hv_term t, const char *name);
/* Whether t is a tuple whose first element is the atom tag. */
bool is_tagged(hv_term t, const char *tag);
/* A new {tag, i, <<"payload">>}. */
hv_term boxed(const char *tag, int64_t i);

#endif /* HV_TESTS_PROC_UTIL_H */

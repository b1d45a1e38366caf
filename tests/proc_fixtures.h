/* tests/proc_fixtures.h - processes and counters the process life-cycle
 * suites share (proc_fixtures.c). */
#ifndef HV_TESTS_PROC_FIXTURES_H
#define HV_TESTS_PROC_FIXTURES_H

#include <stdatomic.h>
#include <stdbool.h>

#include "hive/hive.h"

/* Runs counted by main_returns, which checks it runs as a process with
 * arg == &ran. */
extern atomic_int ran;
void main_returns(void *arg);

/* exit_at_depth(depth, reason) calls hv_exit(reason) depth calls deep;
 * returned_into counts code after the calls that must never run. */
extern atomic_int returned_into;
extern void (*volatile exit_fn)(hv_term);
void exit_at_depth(int depth, hv_term reason);

/* nested_main counts its runs in nested_ran. */
extern atomic_int nested_ran;
void nested_main(void *arg);

/* count_defer, a cleanup, counts its runs in deferred. */
extern atomic_int deferred;
void count_defer(void *arg);
/* Answers {From, N} with N + 1 until `stop`; registers count_defer. */
void echo_plus_one(void *arg);

/* Processes that resumed after being killed at shutdown (must stay 0),
 * by way of blocking. */
extern atomic_int resumed_after_kill;
extern atomic_int resumed_how[3];

/* The test's main process, for children to report to. */
extern hv_term parent;

/* Ends on its first message. */
void exit_on_message(void *arg);

#endif /* HV_TESTS_PROC_FIXTURES_H */

/* tests/signal_util.h - helpers of check_links.c and check_monitors.c.
 * "(process)": call from inside a process. */
#ifndef HV_TESTS_SIGNAL_UTIL_H
#define HV_TESTS_SIGNAL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/hive.h"

/* Bounds of a wait for what must come (past it the test fails, not
 * hangs) and for what must not. */
#define SIGNAL_WAIT_MS 10000
#define SIGNAL_QUIET_MS 50

/* (process) The first message matching pattern (match.h syntax, pins in
 * order) within ms, removed (new); HV_NONE if none came. */
hv_term recv_match(const char *pattern, const hv_pins *pins, int64_t ms);
/* (process) Whether a message matching pattern arrives within ms (it is
 * dropped); got: within SIGNAL_WAIT_MS. */
bool got_within(int64_t ms, const char *pattern, const hv_pins *pins);
bool got(const char *pattern, const hv_pins *pins);
/* (process) Whether nothing matching pattern arrives within
 * SIGNAL_QUIET_MS. */
bool quiet(const char *pattern, const hv_pins *pins);
/* Whether t (consumed) matches pattern: a literal pattern is exact. */
bool matches(hv_term t, const char *pattern, const hv_pins *pins);
/* (process) The reason of the DOWN for ref (borrowed), new; HV_NONE if
 * none came. */
hv_term down_reason(hv_term ref);
/* (process) Waits until the caller's mailbox holds n messages; sleeping
 * is a point where the caller acts on its signals. */
bool mailbox_reaches(size_t n);

/* Any term as a process's void * argument (immediates only). */
void *term_arg(hv_term t);
/* (process) A pid whose process has ended. */
hv_term dead_pid(void);
/* A local pid no process ever had: a serial no test reaches. */
hv_term never_alive_pid(void);
/* A process body running the row function *(void (**)(void))arg. */
void run_row(void *arg);

#endif /* HV_TESTS_SIGNAL_UTIL_H */

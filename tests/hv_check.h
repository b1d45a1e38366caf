/* tests/hv_check.h - what every Check suite shares: the fixture that
 * proves a test leaked nothing, and the one symbol each suite defines. */
#ifndef HV_TESTS_HV_CHECK_H
#define HV_TESTS_HV_CHECK_H

#include <check.h>
#include <stdbool.h>

/* Defined by each tests/check_<module>.c; check_main.c runs it. */
Suite *hv_check_suite(void);

/* Checked fixture: turns allocation accounting on and records the live
 * count; hv_check_end fails the test if blocks are still live. */
void hv_check_begin(void);
void hv_check_end(void);

/* Adds a TCase named name to s with the leak fixture and a timeout. */
TCase *hv_check_tcase(Suite *s, const char *name);

/* n scaled down for slow builds: divided by 50 (at least 1) under ASan,
 * TSan (creating a TSan fiber costs ~32 us) or when HV_CHECK_SMALL is set
 * in the environment (scripts/valgrind.sh sets it).  For test sizes, not
 * for anything a test asserts about exact counts of its own making. */
long hv_check_scale(long n);
/* True in a sanitizer build or with HV_CHECK_SMALL set. */
int hv_check_slow(void);

/* Expectations checked inside processes, where a failing ck_assert would
 * unwind through a coroutine stack: recorded (thread-safe, the first few
 * texts kept) and asserted by the test after the runtime returns. */
bool hv_expect_at(bool ok, const char *what, int line);
#define EXPECT(cond) hv_expect_at((cond), #cond, __LINE__)
void hv_expect_reset(void);
int hv_expect_failures(void);
/* The recorded failures, "[line N: text] ..." */
const char *hv_expect_text(void);
/* Fails the test (ck_assert) if any expectation failed, quoting them. */
void hv_expect_assert(void);

#endif /* HV_TESTS_HV_CHECK_H */

/* tests/hv_check.h - what every Check suite shares: the fixture that
 * proves a test leaked nothing, and the one symbol each suite defines. */
#ifndef HV_TESTS_HV_CHECK_H
#define HV_TESTS_HV_CHECK_H

#include <check.h>

/* Defined by each tests/check_<module>.c; check_main.c runs it. */
Suite *hv_check_suite(void);

/* Checked fixture: turns allocation accounting on and records the live
 * count; hv_check_end fails the test if blocks are still live. */
void hv_check_begin(void);
void hv_check_end(void);

/* Adds a TCase named name to s with the leak fixture and a timeout. */
TCase *hv_check_tcase(Suite *s, const char *name);

#endif /* HV_TESTS_HV_CHECK_H */

/* tests/check_mbox_index.c - placeholder while the suite is written. */
#include "tests/hv_check.h"

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("mbox_index");
    return s;
}

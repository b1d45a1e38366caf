/* tests/check_guard.c - placeholder while the suite is written. */
#include "tests/hv_check.h"

Suite *
hv_check_suite(void)
{
    return suite_create("guard");
}

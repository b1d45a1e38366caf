/* tests/check_info.c - placeholder until the suite is written (issue 3). */
#include "tests/hv_check.h"

Suite *
hv_check_suite(void)
{
    return suite_create("info");
}

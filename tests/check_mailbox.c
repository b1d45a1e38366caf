/* tests/check_mailbox.c - placeholder until the suite is written (issue 3). */
#include "tests/hv_check.h"

Suite *
hv_check_suite(void)
{
    return suite_create("mailbox");
}

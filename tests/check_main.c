/* tests/check_main.c - the one main() of every Check suite program.  The
 * summary line goes to stdout, which automake keeps in tests/<suite>.log
 * (.ci/run adds those lines up). */
#include <stdlib.h>

#include "tests/hv_check.h"

int
main(void)
{
    SRunner *sr = srunner_create(hv_check_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

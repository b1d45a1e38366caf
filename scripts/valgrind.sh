#!/bin/bash
# Runs every Check suite under valgrind's leak check (no fork, so valgrind
# follows the tests themselves).  Build first with scripts/build.sh.
set -u
cd "$(dirname "$0")/.."
make -s check TESTS= >/dev/null || exit 1
rc=0
for t in tests/check_*; do
    case "$t" in *.c|*.o|*.log|*.trs) continue ;; esac
    echo "== $t"
    HV_CHECK_SMALL=1 CK_FORK=no CK_DEFAULT_TIMEOUT=0 ./libtool --mode=execute valgrind \
        --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 "$t" | grep -E '^[0-9]+%: Checks|:[FE]:'
    [ "${PIPESTATUS[0]}" = 0 ] || rc=1
done
exit $rc

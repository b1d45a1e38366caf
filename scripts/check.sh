#!/bin/sh
# Builds (configure arguments pass through) and runs the whole test suite:
# every Check suite, the examples, and the export and layering checks.
# Ends with Check's own totals as one line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
scripts/build.sh "$@" || exit 1
make -j"$(nproc)" -s check
rc=$?
for log in tests/check_*.log; do
    grep -h -E '^[0-9]+%: Checks|:[FE]:' "$log"
done
[ $rc -eq 0 ] || cat tests/test-suite.log 2>/dev/null | tail -40
grep -h '^[0-9]*%: Checks' tests/check_*.log |
    awk -F'[:,]' '{c += $3; f += $5 + $7} END {print c - f " passed, " f " failed"}'
exit $rc

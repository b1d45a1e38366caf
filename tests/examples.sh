#!/bin/sh
# tests/examples.sh - runs every built example (examples/<name>.c) and
# benchmark (bench/<name>.c) in its short mode; fails if any fails.
# The examples are check_PROGRAMS, so make check builds them first; one
# that is not built is reported and skipped rather than run stale.
: "${top_srcdir:=.}" "${top_builddir:=.}"

ran=0
failed=0
for src in "$top_srcdir"/examples/*.c "$top_srcdir"/bench/*.c; do
    [ -e "$src" ] || continue
    dir=$(basename "$(dirname "$src")")
    name=$dir/$(basename "$src" .c)
    prog="$top_builddir/$name"
    if [ ! -x "$prog" ]; then
        echo "# $name is not built; skipped"
        continue
    fi
    echo "# running $name --short"
    if "$prog" --short; then
        ran=$((ran + 1))
    else
        echo "FAIL: $name exited with status $?"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "$failed example(s) failed"
    exit 1
fi
if [ "$ran" -eq 0 ]; then
    echo "no example is built"
    exit 77
fi
echo "$ran example(s) passed"
exit 0

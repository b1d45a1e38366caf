#!/bin/sh
# tests/exports.sh - libhive.so exports the public API and nothing else:
# every defined dynamic symbol starts with hv_ (never hv__, the internal
# prefix), and every function a public header declares HV_API is there.
: "${top_srcdir:=.}" "${top_builddir:=.}"

lib="$top_builddir/.libs/libhive.so"
if [ ! -e "$lib" ]; then
    echo "no $lib (static-only build?); skipped"
    exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "nm not found; skipped"
    exit 77
fi

syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }') || exit 1
if [ -z "$syms" ]; then
    echo "FAIL: $lib defines no dynamic symbols"
    exit 1
fi

status=0
# The linker adds these markers to every shared object.
for s in $syms; do
    case "$s" in
    hv__*) echo "FAIL: internal symbol exported: $s"; status=1 ;;
    hv_*) ;;
    _init | _fini | _edata | _end | __bss_start) ;;
    *) echo "FAIL: symbol without the hv_ prefix exported: $s"; status=1 ;;
    esac
done

# A function declared HV_API but not exported would be a link error in
# every program that calls it.
declared=$(sed -n 's/^HV_API[^(]*[^a-z0-9_]\(hv_[a-z0-9_]*\)(.*/\1/p' \
    "$top_srcdir"/include/hive/*.h | sort -u)
for d in $declared; do
    if ! printf '%s\n' "$syms" | grep -qx "$d"; then
        echo "FAIL: $d is declared HV_API but not exported"
        status=1
    fi
done

[ "$status" -eq 0 ] &&
    echo "$(printf '%s\n' "$syms" | grep -c '^hv_') hv_ symbols, nothing else"
exit $status

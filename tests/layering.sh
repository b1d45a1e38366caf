#!/bin/sh
# tests/layering.sh - layers only call downward (supervisor/ -> match/ ->
# runtime/): runtime/ includes nothing of match/ or supervisor/, and
# match/ nothing of supervisor/.  The public headers count as their
# layer's: hive/match.h is match/'s, hive/server.h and hive/supervisor.h
# are supervisor/'s.
: "${top_srcdir:=.}"

if [ ! -d "$top_srcdir/runtime" ]; then
    echo "no $top_srcdir/runtime; skipped"
    exit 77
fi

inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]'
match_hdrs='(\.\./)*match/|hive/match\.h'
sup_hdrs='(\.\./)*supervisor/|hive/(server|supervisor)\.h'

status=0
# check DIR PATTERN WHAT: fails on any include in DIR matching PATTERN.
check() {
    [ -d "$top_srcdir/$1" ] || return 0
    hits=$(grep -rnE --include='*.[chS]' "$inc($2)" "$top_srcdir/$1")
    if [ -n "$hits" ]; then
        echo "FAIL: $1/ includes $3:"
        printf '%s\n' "$hits"
        status=1
    fi
}
check runtime "$match_hdrs|$sup_hdrs" "match/ or supervisor/"
check match "$sup_hdrs" "supervisor/"

[ "$status" -eq 0 ] && echo "layering ok"
exit $status

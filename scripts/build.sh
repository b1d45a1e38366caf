#!/bin/sh
# Configures (once) and builds hive in the source tree.  Arguments go to
# configure, e.g. scripts/build.sh --enable-asan --enable-ubsan.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q "$@"
make -j"$(nproc)" -s

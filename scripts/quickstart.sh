#!/bin/sh
# Quick start on a fresh Debian 12 machine: install what is missing,
# build, and run the flagship example.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
make -s examples/tree
./examples/tree

#!/bin/sh
# Installs, with apt-get, the Debian 12 packages hive needs to build and
# test, skipping those already installed.  Run as root (or with sudo).
set -eu
pkgs="gcc make autoconf automake libtool autoconf-archive pkg-config
      libmsgpack-dev libpcre2-dev check clang libclang-rt-14-dev valgrind"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null

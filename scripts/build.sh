#!/usr/bin/env bash
# Builds out of tree in ./_build (or $AZS_BUILD): configure once, make.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AZS_BUILD:-$top/_build}
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q \
    --with-default-db=/var/lib/authz_status/authz_status.db ${AZS_CONFIGURE_FLAGS:-}
make -s -j"$(nproc)" ${AZS_MAKE_TARGETS:-all}

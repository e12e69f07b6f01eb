#!/bin/sh
# The module exports one symbol, its module struct: nothing of the core
# (or of SQLite) may clash with another module loaded into httpd.
so=${AZS_MODULE:?}
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' \
       | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$')
if [ "$syms" != "authz_status_module" ]; then
    echo "not ok 1 - exported symbols: $syms"
    exit 1
fi
echo "ok 1 - only authz_status_module is exported"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the cmocka unit
# tests, the CLI tests and the integration suite against a real httpd
# under the event, worker and prefork MPMs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
bash "$top/scripts/build.sh"
cd "${AZS_BUILD:-$top/_build}"
if ! make -j"$(nproc)" check; then
    for f in tests/*.log tests/*/*.log tests/*/cases/*.log; do
        [ -f "$f" ] && grep -q -E '^(not ok|FAIL|ERROR)' "$f" \
            && { echo "==== $f"; tail -n 60 "$f"; }
    done
    exit 1
fi

#!/bin/bash
#
# run.sh - the CLI cases by hand, one after another (make check runs each
# as a test of its own):
#
#   HTAUTHZ=path/to/htauthz tests/cli/run.sh [CASE...]   # e.g. users
#
# Exit status: 0 when every case passed (or skipped), 1 otherwise.

here=$(cd "$(dirname "$0")" && pwd)
cases=("$@")
[ $# -gt 0 ] || cases=("$here"/cases/*.sh)
failed=()
for c in "${cases[@]}"; do
    [ -f "$c" ] || c=$here/cases/${c%.sh}.sh
    echo "# --- $(basename "$c" .sh)"
    bash "$c"
    case $? in
        0|77) ;;
        *) failed+=("$(basename "$c" .sh)") ;;
    esac
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "# FAILED: ${failed[*]}"
    exit 1
fi
exit 0

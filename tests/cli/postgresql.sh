#!/bin/bash
#
# postgresql.sh - the CLI cases about the commands (not about the SQLite
# file: its locks, planted files, permissions) run again against a real
# PostgreSQL server each (CLI_BACKEND=postgresql, tests/cli/lib_cli.sh).
# Skipped when PostgreSQL is not installed.  TAP from each case, in turn;
# the exit status is the worst of theirs.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib_pg.sh"
if ! pg_need; then
    echo "1..0 # SKIP PostgreSQL is not installed"
    exit 77
fi
status=0 total=0
for c in cases/users cases/roles cases/tokens cases/ip cases/import cases/audit pg/writers; do
    out=$(CLI_BACKEND=postgresql bash "$here/$c.sh" 2>&1)
    rc=$?
    # Renumbered as one TAP stream.
    while IFS= read -r line; do
        case $line in
            "ok "*|"not ok "*)
                total=$((total + 1))
                printf '%s\n' "$line" | sed -E "s/^(ok|not ok) [0-9]+/\\1 $total/;s| - | - ${c#*/}: |" ;;
            1..*) ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <<< "$out"
    [ "$rc" = 77 ] && rc=0
    [ "$rc" -gt "$status" ] && status=$rc
done
echo "1..$total"
exit "$status"

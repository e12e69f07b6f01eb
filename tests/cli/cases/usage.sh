#!/bin/bash
# htauthz usage, help, the database path, and init.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

# ---- usage, help, the database path -------------------------------------

expect 0 "--help" --help
out_has "--help lists the commands" "import htpasswd FILE"
out_has "--help documents existing users on import" "already in the database"
expect 0 "user add --help" user add --help
expect 2 "no command" 
expect 2 "unknown command" frobnicate
expect 2 "unknown subcommand" user frobnicate
expect 2 "user without subcommand" user
expect 2 "unknown global option" --bogus user list
expect 2 "-d without a file" -d
expect 1 "missing database" user list
err_has "missing database names the file and init" "init"
run --help
default=$(sed -n 's/^The database is .*, else \(.*\)\.$/\1/p' "$T/out")
if [ -n "$default" ] && [ ! -e "$default" ]; then
    HTAUTHZ_DB= run user list
    if [ "$rc" -eq 1 ] && grep -qF "$default" "$T/err"; then
        ok "compiled-in default database ($default)"
    else
        notok "compiled-in default database: $(cat "$T/err")"
    fi
else
    ok "compiled-in default database exists or is unknown # skip"
fi

# ---- init ----------------------------------------------------------------

expect 0 "init creates the database" init
check "init: mode 0640" test "$(stat -c %a "$DB")" = 640
out_has "init: hint about www-data" "www-data"
out_has "init: hint about the directory (-wal, -shm)" "-wal"
chmod 0600 "$DB"
expect 0 "init again (current database)" init
check "init keeps an existing mode" test "$(stat -c %a "$DB")" = 600
chmod 0640 "$DB"
run init
version=$(sed -n 's/.*(schema version \([0-9]*\)).*/\1/p' "$T/out")
check "schema version $version in PRAGMA user_version" \
    test "$(sqlite3 "$DB" 'PRAGMA user_version')" = "$version"
expect 0 "-d FILE" -d "$T/other.db" init
check "-d FILE wins over HTAUTHZ_DB" test -f "$T/other.db"
echo "not a database" >"$T/junk.db"
expect 1 "init refuses a file that is not a database" -d "$T/junk.db" init
expect 1 "init in a missing directory" -d "$T/no/such/dir.db" init
check "failed init creates nothing" test ! -e "$T/no"

tap_finish

# shellcheck shell=bash
#
# lib_cli.sh - sourced by every tests/cli/cases/*.sh, which drive the
# htauthz binary against databases in a temp directory of their own.
#
#   HTAUTHZ=path/to/htauthz bash tests/cli/cases/users.sh
#   HTAUTHZ=path/to/htauthz tests/cli/run.sh [CASE...]
#
# make check sets HTAUTHZ (or AZS_TOP_BUILDDIR, whose htauthz is used).
# Each case prints "ok N - ..." / "not ok N - ..." (tests/lib_tap.sh) and
# exits non-zero when any check fails.  They need sqlite3, python3 and
# htpasswd (apache2-utils); the checks of files planted beside the
# database need root and a www-data user.

set -u

# shellcheck source-path=SCRIPTDIR source=../lib_tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib_tap.sh"

HTAUTHZ=${HTAUTHZ:-${AZS_TOP_BUILDDIR:+$AZS_TOP_BUILDDIR/htauthz}}
if [ -z "$HTAUTHZ" ]; then
    echo "Bail out! set HTAUTHZ=path/to/htauthz (make check sets it)"
    exit 99
fi
# shellcheck disable=SC2034  # for the cases
PTYJOB=$(dirname "${BASH_SOURCE[0]}")/ptyjob.py
T=$(mktemp -d /tmp/azs-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/test.db
export HTAUTHZ_DB=$DB
rc=0

# CLI_BACKEND=postgresql: the same case against a real PostgreSQL server
# of its own (tests/lib_pg.sh), $DB its URL; db_sql, dump, gen and hash_of
# read whichever database it is.
CLI_BACKEND=${CLI_BACKEND:-sqlite}
if [ "$CLI_BACKEND" = postgresql ]; then
    # shellcheck source=../lib_pg.sh
    . "$(dirname "${BASH_SOURCE[0]}")/../lib_pg.sh"
    if ! pg_need; then
        echo "1..0 # SKIP PostgreSQL is not installed"
        exit 77
    fi
    chmod 755 "$T"
    PG_NO_TRAP=1 pg_start "$T/pg" >/dev/null \
        || { echo "Bail out! PostgreSQL did not start"; exit 99; }
    trap 'pg_stop; rm -rf "$T"' EXIT
    pg_sql postgres "CREATE DATABASE azs" >/dev/null
    DB=$(pg_url azs)
    export HTAUTHZ_DB=$DB
    TAP_PREFIX="[pg] "
fi

# db_sql SQL - rows of the case's database, '|' between columns.
db_sql() {
    if [ "$CLI_BACKEND" = postgresql ]; then
        pg_sql azs "$1"
    else
        sqlite3 "$DB" "$1"
    fi
}

ok() { tap_ok "$1"; }
notok() { tap_not_ok "$1"; }
check() { tap_check "$@"; }   # check DESC COMMAND...: ok when it succeeds

# Runs htauthz with the function's stdin; stdout in $T/out, stderr in
# $T/err, status in $rc.
run() {
    "$HTAUTHZ" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

# expect STATUS DESC ARGS...: the exit status, and stderr: empty on
# success, exactly one "htauthz: " line on failure.
expect() {
    local want=$1 desc=$2 lines
    shift 2
    run "$@"
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne "$want" ]; then
        notok "$desc (exit $rc, wanted $want: $(head -c 300 "$T/err"))"
        return 1
    fi
    if [ "$want" -eq 0 ] && [ -s "$T/err" ]; then
        notok "$desc (stderr: $(head -c 300 "$T/err"))"
        return 1
    fi
    if [ "$want" -ne 0 ] && { [ "$lines" -ne 1 ] ||
                              ! grep -q '^htauthz: ' "$T/err"; }; then
        notok "$desc (stderr is not one htauthz: line: $(cat "$T/err"))"
        return 1
    fi
    ok "$desc"
}

err_has() {  # err_has DESC TEXT: stderr of the last run contains TEXT
    if grep -qF -- "$2" "$T/err"; then ok "$1"
    else notok "$1 (stderr: $(head -c 300 "$T/err"))"; fi
}

out_has() {
    if grep -qF -- "$2" "$T/out"; then ok "$1"
    else notok "$1 (stdout: $(head -c 300 "$T/out"))"; fi
}

json_ok() {  # json_ok DESC ARGS...: exit 0 and stdout is one JSON document
    local desc=$1
    shift
    run "$@"
    if [ "$rc" -eq 0 ] && python3 -m json.tool "$T/out" >/dev/null 2>&1
    then
        ok "$desc"
    else
        notok "$desc (exit $rc: $(head -c 300 "$T/out") $(cat "$T/err"))"
    fi
}

# jq-less field access: json_get 'expression on d' < file
json_get() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# Every row but the audit trail's: a refused write adds its row there,
# and that is all it changes (cases/audit.sh checks the rows).
dump() {
    local t
    if [ "$CLI_BACKEND" != postgresql ]; then
        sqlite3 "$DB" .dump | grep -v '^INSERT INTO audit '
        return
    fi
    # Every row of every table, in order (sequences left out: a command
    # rolled back still takes the ids it drew).
    for t in meta users roles role_inherits permissions role_permissions \
             user_roles tokens token_scopes blocklist changes; do
        echo "-- $t"
        pg_sql azs "SELECT * FROM $t ORDER BY 1, 2"
    done
}

# unchanged DESC STATUS ARGS...: the command fails as expected and the
# database dump is the same before and after.
unchanged() {
    local desc=$1 want=$2 before after
    shift 2
    before=$(dump)
    expect "$want" "$desc" "$@" || return 1
    after=$(dump)
    if [ "$before" = "$after" ]; then ok "$desc: database unchanged"
    else notok "$desc: database changed"; fi
}

gen() {
    db_sql "SELECT value FROM meta WHERE key = 'generation'"
}

# Hashes htauthz writes are bcrypt that htpasswd itself verifies:
# verify USER PASSWORD against the line in $T/verify.
verify() {
    htpasswd -vb "$T/verify" "$1" "$2" >/dev/null 2>&1
}
hash_of() {
    db_sql "SELECT hash FROM users WHERE name = '$1'"
}

# ---- what a case starts from (no checks: the case under test is not this)

# cli_must HTAUTHZ-ARGS...: htauthz on $DB succeeds, or the case stops.
cli_must() {
    "$HTAUTHZ" "$@" >/dev/null 2>"$T/must.err" || {
        echo "Bail out! htauthz $* failed: $(cat "$T/must.err")"
        exit 99
    }
}

# The users cases/users.sh leaves behind.
cli_users() {
    cli_must init
    cli_must user add bob --password-stdin <<<"bob-new"
    cli_must user add carol --password-stdin --disabled \
        --expires 2030-01-31 <<<"carol-pw"
    cli_must user add dave --password-stdin <<<"dave-pw"
    cli_must user add erin --expires=30d --password-stdin <<<"erin-pw"
    cli_must user add "$(printf 'q"b\\s-\xc3\xa9')" --password-stdin <<<"pw"
}

# The roles cases/roles.sh sets up: admin > editor > viewer, viewer
# grants docs:read and docs:list, editor docs:write; bob holds admin.
cli_roles() {
    cli_must role add admin
    cli_must role add editor
    cli_must role add viewer
    cli_must role grant viewer docs:read docs:list
    cli_must role grant editor docs:write
    cli_must role inherit admin editor
    cli_must role inherit editor viewer
    cli_must user grant bob admin
}

if [ ! -x "$HTAUTHZ" ]; then
    echo "not ok 1 - $HTAUTHZ is not built"
    exit 1
fi

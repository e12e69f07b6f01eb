#!/bin/bash
# Authorization against a database that becomes unreadable or corrupt while
# httpd runs (PRODUCT.md sections 3 and 5): Require role / permission,
# authentication and the blocklist all answer 500 with a db-error line -
# never 200, 401 or 403, including for a wrong password and for a user
# without the role - and the next request after the file is repaired is
# served normally, with no restart.  The authz-only paths use mod_authn_file
# so that only the Require provider reads the database.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
command -v htpasswd >/dev/null 2>&1 || { echo "# SKIP: no htpasswd"; exit 77; }
[ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"

for d in fileauth fileperm open; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done

azs_db_init
authz_roles admin
azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant"
authz_user_add alice admin
authz_user_add bob
htpw=$AZS_CONF_DIR/htpasswd
authz_htpasswd "$htpw" alice "${PW[alice]}"
authz_htpasswd "$htpw" bob "${PW[bob]}"

azs_conf <<EOF
<Location "/fileauth">
    AuthType Basic
    AuthName "File"
    AuthBasicProvider file
    AuthUserFile "$htpw"
    Require role admin
</Location>
<Location "/fileperm">
    AuthType Basic
    AuthName "File"
    AuthBasicProvider file
    AuthUserFile "$htpw"
    Require permission adm:do
</Location>
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require role admin
</Location>
<Location "/open">
    AuthzStatusBlocklist On
    Require all granted
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 500 db-error'

# A consistent copy of the good database, to restore from.
good=$AZS_ROOT/good.db
"$AZS_PYTHON" - "$AZS_DB" "$good" <<'PY' || _azs_die "cannot copy the database"
import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.close(); src.close()
PY
chmod 644 "$good"

# Put FILE in place of the database by rename (a new inode), as an
# administrator restoring a backup would; stale -wal/-shm go first.
install_db() {   # file [owner]
    local tmp=$AZS_DB_DIR/.new.db
    cp "$1" "$tmp"
    chmod 644 "$tmp"
    [ -n "$AZS_RUN_USER" ] && chown "${2:-$AZS_RUN_USER:$AZS_RUN_GROUP}" "$tmp"
    rm -f "$AZS_DB-wal" "$AZS_DB-shm"
    mv -f "$tmp" "$AZS_DB"
}

# The database was written through its WAL; move everything into the main
# file so that in-place damage to it cannot be papered over by the WAL.
checkpoint() {
    "$AZS_PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()' \
        "$AZS_DB"
    azs_db_fixperms
}

# Every path answers as usual; several requests per path, so that many
# threads and children hold an open handle on the database.
expect_healthy() {   # desc
    local i
    for i in 1 2 3; do
        authz_req alice /fileauth/
        expect_status 200 "$1: alice on /fileauth/ -> 200 (#$i)"
    done
    authz_req alice /fileperm/
    expect_status 200 "$1: alice on /fileperm/ -> 200"
    authz_req alice /admin/
    expect_status 200 "$1: alice on /admin/ -> 200"
    authz_req bob /fileauth/
    authz_expect_forbidden "$1: bob on /fileauth/"
    authz_req - /open/
    expect_status 200 "$1: /open/ -> 200"
    authz_warm 6 alice /fileauth/
    authz_warm 4 alice /admin/
    authz_warm 4 - /open/
}
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/fileauth/"'

# One faulty answer: exactly 500, no challenge, a db-error line.  Paced: the
# module rate-limits db-error lines to a few a second per process.
expect_fault() {   # desc user-or-dash password-or-dash path
    local desc=$1 user=$2 pw=$3 path=$4 who
    sleep 0.25
    if [ "$user" = - ]; then
        http_req "$path"
        who=''
    else
        http_req -u "$user:$pw" "$path"
        who="user \"$user\" "
    fi
    expect_status 500 "$desc: $user on $path -> 500"
    expect_no_header WWW-Authenticate "$desc: $user on $path -> no challenge"
    expect_log "AZS[0-9]{4}: 500 db-error: ${who}for \"$path\"" \
        "$desc: $user on $path -> db-error line"
}

# The full set of requests that must all fail closed.
expect_faults() {   # desc
    expect_fault "$1" alice "${PW[alice]}" /fileauth/
    expect_fault "$1" alice "${PW[alice]}" /fileauth/
    expect_fault "$1" bob "${PW[bob]}" /fileauth/
    expect_fault "$1" alice "${PW[alice]}" /fileperm/
    expect_fault "$1" alice "${PW[alice]}" /admin/
    expect_fault "$1" alice "wrong-${PW[alice]}" /admin/
    expect_fault "$1" - - /open/
}

azs_start || azs_bail "httpd starts"
pid=$AZS_PID

expect_healthy "healthy"

# ---- made unreadable in place (chmod 000), handles already open -------------
chmod 000 "$AZS_DB"
expect_faults "chmod 000"
chmod 644 "$AZS_DB"
expect_healthy "chmod 644 again"

# ---- corrupted in place --------------------------------------------------------
checkpoint
expect_healthy "after a checkpoint"
dd if=/dev/urandom of="$AZS_DB" bs=1024 count=16 conv=notrunc 2>/dev/null \
    || _azs_die "dd failed"
expect_faults "first 16 KiB overwritten in place"
install_db "$good"
expect_healthy "good copy installed"

# ---- truncated in place ---------------------------------------------------------
checkpoint
: > "$AZS_DB"
expect_faults "truncated to 0 bytes in place"
install_db "$good"
expect_healthy "good copy installed"

# ---- replaced by garbage ---------------------------------------------------------
head -c 65536 /dev/urandom > "$AZS_ROOT/garbage.db"
install_db "$AZS_ROOT/garbage.db"
expect_fault "replaced by garbage" alice "${PW[alice]}" /fileauth/
expect_fault "replaced by garbage" alice "wrong-${PW[alice]}" /admin/
expect_fault "replaced by garbage" - - /open/
install_db "$good"
expect_healthy "good copy installed"

# ---- replaced by a copy httpd cannot read -----------------------------------------
if [ -n "$AZS_RUN_USER" ]; then
    install_db "$good" root:root
    chmod 600 "$AZS_DB"
    expect_fault "replaced by an unreadable copy" alice "${PW[alice]}" /fileauth/
    expect_fault "replaced by an unreadable copy" bob "${PW[bob]}" /fileauth/
    expect_fault "replaced by an unreadable copy" - - /open/
    install_db "$good"
    expect_healthy "good copy installed"
fi

# ---- replaced by a database of another schema version ------------------------------
cp "$good" "$AZS_ROOT/v99.db"
"$AZS_PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 99"); c.commit(); c.close()' \
    "$AZS_ROOT/v99.db"
install_db "$AZS_ROOT/v99.db"
expect_fault "schema version 99" alice "${PW[alice]}" /fileauth/
expect_log 'AZS[0-9]{4}: 500 db-error: .*version' \
    "schema version 99 -> the line says it is about the version"
expect_fault "schema version 99" - - /open/
install_db "$good"
expect_healthy "good copy installed"

expect_true "the same httpd served everything (no restart needed)" \
    test "$AZS_PID" = "$pid"
expect_no_log 'exit signal|AH00052|seg fault' "no child crashed" 0
azs_done

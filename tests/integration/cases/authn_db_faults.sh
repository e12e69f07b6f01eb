#!/bin/bash
# Database faults while httpd runs (doc/log-messages.md, db-error):
# missing, locked past the busy timeout, corrupt, of an unknown schema
# version, replaced by rename, deleted and restored, unreadable.  Each fault
# answers 500 with one db-error line carrying SQLite's reason -- never 200,
# never 401 -- within a few seconds; httpd never creates the file; it
# recovers by itself on the next request once the file is good again, with
# no restart.  httpd starts, and survives a graceful restart, with the
# database missing.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='Db-f4ults-pw-zq7'
pw2='Db-f4ults-n3w-zq7'
good=$AZS_ROOT/good.db     # a consistent copy, outside httpd's directory

azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS[0-9]{4}: 500 db-error: (user "(alice|bob|nobody)" )?for "/admin/"'
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"'

# shellcheck disable=SC2317  # called through expect_true
db_files_absent() {
    local f
    for f in "$AZS_DB" "$AZS_DB-wal" "$AZS_DB-shm" "$AZS_DB-journal"; do
        [ ! -e "$f" ] || return 1
    done
}

# fault DESC REASON-REGEX [USER:PW] - a login answers 500 (no challenge)
# with one db-error line matching REASON-REGEX
fault() {
    http_req -u "${3:-alice:$pw}" /admin/
    expect_status 500 "$1 -> 500"
    expect_no_header WWW-Authenticate "$1 -> no challenge"
    expect_log "AZS[0-9]{4}: 500 db-error: .*for \"/admin/\".*$2" \
        "$1 -> db-error line with the reason"
    expect_log_count 1 'AZS[0-9]{4}:' "$1 -> exactly one module line"
}
# recovered DESC [USER:PW] - the next login gets in
recovered() {
    http_req -u "${2:-alice:$pw}" /admin/
    expect_status 200 "$1 -> 200 on the next request"
    expect_body '^admin area$' "$1 -> the page"
}

# ---- missing at start, and through a graceful restart ------------------------
expect_true "no database before the start" db_files_absent
azs_start || azs_bail "httpd starts with the database missing"
_azs_ok "httpd starts with the database missing"
pid=$AZS_PID

fault "database missing" 'no such file'
fault "database missing, unknown user (not 401)" 'no such file' "nobody:$pw"
http_req /
expect_status 200 "database missing: unprotected pages still served"

if azs_graceful; then
    _azs_ok "graceful restart with the database missing: httpd answers again"
else
    _azs_not_ok "graceful restart with the database missing: httpd answers again" \
        "$(tail -n 20 "$AZS_ERROR_LOG")"
fi
expect_true "graceful restart keeps the parent" _azs_alive "$pid"
fault "database missing after a graceful restart" 'no such file'
expect_true "httpd created no database file" db_files_absent

azs_db_init
azs_user_add alice "$pw"

# ---- locked past the busy timeout -------------------------------------------------
# Another process takes an exclusive lock and writes, and holds it 8 s.
# In WAL mode a handle that is already open holds a shared lock for good,
# so the lock is taken before httpd has ever opened the new file: its first
# open waits for the busy timeout, then answers 500.
ready=$AZS_ROOT/lock-ready
"$AZS_PYTHON" - "$AZS_DB" "$ready" <<'EOF' &
import sqlite3, sys, time
db, ready = sys.argv[1:3]
c = sqlite3.connect(db, timeout=5, isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
c.execute("UPDATE users SET updated = updated WHERE name = 'alice'")
open(ready, "w").write("locked\n")
time.sleep(8)
c.execute("COMMIT")
c.close()
EOF
locker=$!
azs_wait_file "$ready" "$locker" 5
if [ -e "$ready" ]; then
    fault "database locked by another process" 'locked|busy'
    expect_true "locked database: answered in < 5 s (took ${HTTP_TIME}s)" \
        awk -v t="$HTTP_TIME" 'BEGIN { exit !(t < 5) }'
    expect_true "locked database: waited for the busy timeout (${HTTP_TIME}s >= 1 s)" \
        awk -v t="$HTTP_TIME" 'BEGIN { exit !(t >= 1) }'
    expect_true "the lock was still held after the request" _azs_alive "$locker"
else
    _azs_not_ok "the locking process took its lock"
fi
wait "$locker"
rc=$?
expect_true "the locking process committed (exit $rc)" test "$rc" = 0
azs_db_fixperms
recovered "database created, lock released"
expect_true "the same httpd serves it (no restart)" test "$AZS_PID" = "$pid"
http_req -u "alice:not-$pw" /admin/
expect_status 401 "database created: wrong password -> 401"

# ---- corrupt ------------------------------------------------------------------------
sqlite3 "$AZS_DB" ".backup '$good'" || _azs_die "sqlite3 .backup failed"
head -c 65536 /dev/urandom > "$AZS_DB"
fault "database overwritten with garbage" 'not a database|malformed|corrupt'
http_req -u "nobody:$pw" /admin/
expect_status 500 "corrupt database, unknown user -> 500 (not 401)"
cp "$good" "$AZS_DB.tmp"
rm -f "$AZS_DB-wal" "$AZS_DB-shm"
mv "$AZS_DB.tmp" "$AZS_DB"
azs_db_fixperms
recovered "good copy renamed over the corrupt file"

# ---- unknown schema version (an in-place upgrade by a newer htauthz) ----------------
good_version=$(sqlite3 "$AZS_DB" 'PRAGMA user_version') || _azs_die "sqlite3 failed"
sqlite3 "$AZS_DB" 'PRAGMA user_version=99' || _azs_die "sqlite3 failed"
azs_db_fixperms
fault "schema version 99" 'schema version 99'
sqlite3 "$AZS_DB" "PRAGMA user_version=$good_version" || _azs_die "sqlite3 failed"
azs_db_fixperms
recovered "schema version $good_version again"

# ---- replaced by rename ---------------------------------------------------------------
new=$AZS_DB_DIR/new.db
"$HTAUTHZ" -d "$new" init >/dev/null || _azs_die "htauthz init new.db failed"
printf '%s\n' "$pw2" | "$HTAUTHZ" -d "$new" user add alice --password-stdin \
    >/dev/null || _azs_die "htauthz user add (new.db) failed"
printf '%s\n' "$pw" | "$HTAUTHZ" -d "$new" user add bob --password-stdin \
    >/dev/null || _azs_die "htauthz user add (new.db) failed"
# Generations start at random, but a copy of a file keeps its counter:
# make them equal, so that nothing the module remembers about the old file
# (its cache of verified logins) can pass for the new one.
gen() { sqlite3 "$1" "SELECT value FROM meta WHERE key = 'generation'"; }
http_req -u "alice:$pw" /admin/
expect_status 200 "before the rename: alice's old password -> 200"
g_old=$(gen "$AZS_DB")
sqlite3 "$new" "UPDATE meta SET value = $g_old WHERE key = 'generation'" \
    || _azs_die "sqlite3 update of new.db failed"
expect_true "the new file's generation ($(gen "$new")) is the old one's ($g_old)" \
    test "$(gen "$new")" = "$g_old"
[ -n "$AZS_RUN_USER" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$new"
mv "$new" "$AZS_DB"
azs_db_fixperms
http_req -u "alice:$pw" /admin/
expect_status 401 "replaced by rename: alice's old password -> 401 at once"
expect_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"' \
    "replaced by rename: old password -> bad-password"
recovered "replaced by rename: alice's new password" "alice:$pw2"
recovered "replaced by rename: bob, only in the new file" "bob:$pw"
bad=0
for _ in 1 2 3 4; do
    http_req -u "alice:$pw" /admin/
    [ "$HTTP_STATUS" = 401 ] || bad=$((bad + 1))
    http_req -u "bob:$pw" /admin/
    [ "$HTTP_STATUS" = 200 ] || bad=$((bad + 1))
done
expect_true "replaced by rename: 8 more requests all see the new file ($bad not)" \
    test "$bad" = 0
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"'

# ---- deleted, then restored -----------------------------------------------------------
sqlite3 "$AZS_DB" ".backup '$good'" || _azs_die "sqlite3 .backup failed"
rm -f "$AZS_DB"
fault "database deleted" 'no such file'
expect_true "httpd did not re-create the deleted database" test ! -e "$AZS_DB"
cp "$good" "$AZS_DB"
azs_db_fixperms
recovered "database restored (bob)" "bob:$pw"
expect_true "the same httpd still serves (no restart)" test "$AZS_PID" = "$pid"

# ---- unreadable for httpd's children --------------------------------------------------
# In place: chmod 000 on the file httpd already has open.
for _ in 1 2 3 4; do
    http_req -u "bob:$pw" /admin/
done
expect_status 200 "before chmod 000: bob -> 200"
chmod 000 "$AZS_DB"
fault "database made unreadable in place (chmod 000)" \
    'unable to open|denied|permission' "bob:$pw"
bad=0
for _ in 1 2 3 4 5 6; do
    http_req -u "bob:$pw" /admin/
    [ "$HTTP_STATUS" = 500 ] || bad=$((bad + 1))
done
expect_true "chmod 000 in place: 6 more requests -> 500 ($bad not)" \
    test "$bad" = 0
chmod 644 "$AZS_DB"
recovered "chmod 644 again" "bob:$pw"

# A new file (new inode) with mode 000, renamed in: handles already open
# on the old file must not keep serving it.
cp "$good" "$AZS_DB.tmp"
[ -n "$AZS_RUN_USER" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$AZS_DB.tmp"
chmod 000 "$AZS_DB.tmp"
mv "$AZS_DB.tmp" "$AZS_DB"
fault "database unreadable (mode 000)" 'unable to open|denied|permission' "bob:$pw"
chmod 644 "$AZS_DB"
recovered "database readable again" "bob:$pw"

expect_true "the same httpd all along" test "$AZS_PID" = "$pid"
expect_no_secret "no password in the logs" "$pw" "$pw2" "alice:$pw" "bob:$pw"
azs_done

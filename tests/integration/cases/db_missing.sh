#!/bin/bash
# A missing or unreadable database (doc/log-messages.md, db-error): httpd
# still starts; a login answers 500 with a db-error line, never 401 and
# never 200; the module never creates the file; once htauthz creates it,
# the next request works without a restart.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='M1ssing-db-pw-zq7'
azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS[0-9]{4}: 500 db-error'

# The directory is writable by httpd's user: only the module's restraint
# keeps the file from being created.
expect_true "no database file before the start" test ! -e "$AZS_DB"
azs_start || azs_bail "httpd starts with the database missing"
_azs_ok "httpd starts with the database missing"
pid=$AZS_PID

http_req -u "alice:$pw" /admin/
expect_status 500 "missing database, login -> 500"
expect_no_header WWW-Authenticate "missing database -> no challenge"
expect_log 'AZS[0-9]{4}: 500 db-error\b.*"/admin/"' \
    "missing database -> db-error line"
expect_log 'AZS[0-9]{4}: 500 db-error: user "alice" for "/admin/"' \
    "the db-error line names the user presented (section 4 format)"
expect_log_count 1 'AZS[0-9]{4}:' "missing database -> exactly one module line"

http_req -u "nobody:$pw" /admin/
expect_status 500 "missing database, unknown user -> 500 (not 401)"

for f in "$AZS_DB" "$AZS_DB-wal" "$AZS_DB-shm" "$AZS_DB-journal"; do
    expect_true "the module did not create ${f##*/}" test ! -e "$f"
done

# Present but unreadable for httpd's children.
azs_db_init
azs_user_add alice "$pw"
if [ -n "$AZS_RUN_USER" ]; then
    chown root:root "$AZS_DB"
    chmod 600 "$AZS_DB"
    http_req -u "alice:$pw" /admin/
    expect_status 500 "unreadable database -> 500"
    expect_log 'AZS[0-9]{4}: 500 db-error\b.*"/admin/"' \
        "unreadable database -> db-error line"
    chmod 644 "$AZS_DB"
fi

# Made usable: the very next request sees it, same server.
azs_db_fixperms
http_req -u "alice:$pw" /admin/
expect_status 200 "database created -> 200 without a restart"
expect_body '^admin area$' "database created -> the page"
expect_true "the same httpd is still running" test "$AZS_PID" = "$pid"

http_req -u "alice:not-$pw" /admin/
expect_status 401 "database created, wrong password -> 401"
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"'

# Removed while httpd runs: missing again, and no stale grant.
rm -f "$AZS_DB" "$AZS_DB-wal" "$AZS_DB-shm"
http_req -u "alice:$pw" /admin/
expect_status 500 "database removed -> 500 on the next request"
expect_log 'AZS[0-9]{4}: 500 db-error\b.*"/admin/"' \
    "database removed -> db-error line"
expect_true "the module did not re-create the removed database" \
    test ! -e "$AZS_DB"

expect_no_secret "the password is not in the logs" "$pw" "alice:$pw"
azs_done

#!/bin/bash
# Authorization against a database that is replaced, while httpd runs, by
# one it cannot use (doc/log-messages.md, db-error): garbage, a file httpd's
# user cannot read, another schema version, or the file truncated to
# nothing.  Require role / permission, authentication and the blocklist all
# answer 500 with a db-error line - never 200, 401 or 403, also for a wrong
# password and for a user without the role - and once a good database is
# back, the next request is served normally, with no restart.  (Damage done
# in place under open handles: authz_db_inplace.sh.)

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
authz_fault_setup

azs_start || azs_bail "httpd starts"
pid=$AZS_PID
authz_fault_healthy "healthy"

# ---- replaced by garbage -------------------------------------------------------------
head -c 65536 /dev/urandom > "$AZS_ROOT/garbage.db"
authz_db_install "$AZS_ROOT/garbage.db"
authz_expect_faults "replaced by garbage"
authz_db_install "$AUTHZ_GOOD"
authz_fault_healthy "good copy installed"

# ---- replaced by a copy httpd cannot read --------------------------------------------
if [ -n "$AZS_RUN_USER" ]; then
    authz_fault_warm 4
    authz_db_install "$AUTHZ_GOOD" root:root
    chmod 600 "$AZS_DB"
    authz_expect_faults "replaced by an unreadable copy"
    authz_db_install "$AUTHZ_GOOD"
    authz_fault_healthy "good copy installed"
fi

# ---- replaced by a database of another schema version ---------------------------------
cp "$AUTHZ_GOOD" "$AZS_ROOT/v99.db"
"$AZS_PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 99"); c.commit(); c.close()' \
    "$AZS_ROOT/v99.db"
authz_db_install "$AZS_ROOT/v99.db"
authz_expect_fault "schema version 99" alice "${PW[alice]}" /fileauth/
expect_log 'AZS[0-9]{4}: 500 db-error: .*version' \
    "schema version 99 -> the line says it is about the version"
authz_expect_fault "schema version 99" bob "${PW[bob]}" /fileauth/
authz_expect_fault "schema version 99" alice "wrong-${PW[alice]}" /admin/
authz_expect_fault "schema version 99" - - /open/
authz_db_install "$AUTHZ_GOOD"
authz_fault_healthy "good copy installed"

# ---- truncated to 0 bytes in place ------------------------------------------------------
authz_db_checkpoint "$AZS_DB"
authz_fault_warm 4
: > "$AZS_DB"
authz_expect_faults "truncated to 0 bytes"
authz_db_install "$AUTHZ_GOOD"
authz_fault_healthy "good copy installed"

expect_true "the same httpd served everything (no restart needed)" \
    test "$AZS_PID" = "$pid"
azs_done

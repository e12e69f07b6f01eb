#!/bin/bash
# The database damaged in place while httpd's threads hold it open
# (doc/log-messages.md and doc/security.md: unreadable or corrupt -> 500,
# backend failure never grants, every change seen by the next request): made
# unreadable with chmod 000, its first pages overwritten, or another
# database copied over it with cp.  Same inode, so a check on the inode
# alone does not see it, and SQLite may answer from its page cache; the
# answer must not depend on which thread serves the request.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
authz_fault_setup
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/fileauth/"'

azs_start || azs_bail "httpd starts"
authz_fault_healthy "healthy"

# ---- chmod 000 ---------------------------------------------------------------------
authz_fault_warm 12
chmod 000 "$AZS_DB"
authz_expect_faults "chmod 000 in place"
chmod 644 "$AZS_DB"
authz_fault_healthy "chmod 644 again"

# ---- first 16 KiB overwritten ------------------------------------------------------------
authz_db_checkpoint "$AZS_DB"
authz_fault_warm 12
dd if=/dev/urandom of="$AZS_DB" bs=1024 count=16 conv=notrunc 2>/dev/null \
    || _azs_die "dd failed"
authz_expect_faults "first 16 KiB overwritten in place"
authz_db_install "$AUTHZ_GOOD"
authz_fault_healthy "good copy installed"

# ---- another database copied over it (cp), alice's role revoked in it ---------------
# "cp backup.db authz_status.db" rewrites the live file under open handles;
# the copy's contents must win, at the latest on the next request.
revoked=$AZS_ROOT/revoked.db
cp "$AUTHZ_GOOD" "$revoked"
"$HTAUTHZ" -d "$revoked" user revoke alice admin >/dev/null 2>&1 \
    || _azs_die "cannot prepare revoked.db"
authz_db_checkpoint "$revoked"
rm -f "$revoked-wal" "$revoked-shm"
authz_db_checkpoint "$AZS_DB"
authz_fault_warm 12
cp "$revoked" "$AZS_DB"
azs_db_fixperms
for i in 1 2 3 4; do
    authz_req alice /fileauth/
    expect_true "cp'd over, role revoked in the copy: alice on /fileauth/ is not 200 (#$i: $HTTP_STATUS)" \
        test "$HTTP_STATUS" != 200
done
authz_db_install "$AUTHZ_GOOD"
authz_fault_healthy "good copy installed"

azs_done

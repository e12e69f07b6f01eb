#!/bin/bash
# Reliability: disk full during a CLI write (tests/reliability/README.md).  The
# database lives on a 1 MB tmpfs; a filler file takes the remaining space; then
# htauthz writes: a large one (import htpasswd, 4000 users) and a series of
# small ones.  Each command either succeeds whole or fails cleanly: exit 1, one
# line on stderr, nothing partial visible (`.dump` unchanged); at least the
# large one must fail.  httpd keeps serving reads throughout; once space
# is freed, writes succeed again and integrity_check says ok.
# Needs `mount -t tmpfs` (root in CI); elsewhere the case is skipped (77).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

mnt=$AZS_ROOT/small
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1M,mode=0755 tmpfs "$mnt" 2>/dev/null; then
    echo "# SKIP: rel_diskfull: cannot mount a tmpfs here (needs root and mount rights)"
    exit 77
fi
# httpd lets go of the database on the tmpfs before it is unmounted.
azs_on_exit 'azs_stop; umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null'

# The database, its -wal/-shm and DB.lock on the tmpfs.
AZS_DB_DIR=$mnt
AZS_DB=$mnt/authz_status.db
AZS_SERVER_DB=$AZS_DB
[ -n "$AZS_RUN_USER" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$mnt"
azs_db_init
azs_user_add reader 'Diskfull-reader-pw-zq7'
azs_loc_admin valid-user | azs_conf
azs_start || azs_bail "httpd starts"
http_req -u 'reader:Diskfull-reader-pw-zq7' /admin/
expect_status 200 "before: reader -> 200 (and httpd has the -shm mapped)"

htp=$AZS_ROOT/many.htpasswd
"$AZS_PYTHON" -c '
import base64, hashlib
for i in range(4000):
    h = base64.b64encode(hashlib.sha1(b"x%d" % i).digest()).decode()
    print("bulkuser%05d:{SHA}%s" % (i, h))' > "$htp"

# Fill the tmpfs.
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
avail=$(df -k --output=avail "$mnt" | tail -n 1 | tr -d ' ')
printf '# diskfull[%s]: tmpfs of 1 MB full (%s KB available), database %d KB, -wal %d KB\n' \
    "$AZS_MPM" "$avail" "$(( $(stat -c %s "$AZS_DB") / 1024 ))" \
    "$(( $(stat -c %s "$AZS_DB-wal" 2>/dev/null || echo 0) / 1024 ))"
expect_true "the tmpfs is full ($avail KB available)" test "$avail" -le 4

dump() { sqlite3 -readonly "$AZS_DB" .dump 2>&1 | md5sum; }
# try DESC HTAUTHZ-ARGS... - run a write on the full disk; sets T_RC, T_ERR;
# asserts "whole or nothing"
nfail=0 nok=0
try() {
    local desc=$1 before after lines
    shift
    before=$(dump)
    T_ERR=$("$HTAUTHZ" -d "$AZS_DB" "$@" 2>&1 >/dev/null </dev/null)
    T_RC=$?
    after=$(dump)
    if [ "$T_RC" = 0 ]; then
        nok=$((nok + 1))
        expect_true "$desc: succeeded whole (the dump changed)" test "$before" != "$after"
    else
        nfail=$((nfail + 1))
        lines=$(printf '%s\n' "$T_ERR" | wc -l)
        printf '# diskfull[%s]: %s: exit %s: %s\n' "$AZS_MPM" "$desc" "$T_RC" "$T_ERR"
        expect_true "$desc: failed with exit 1 (got $T_RC)" test "$T_RC" = 1
        expect_true "$desc: one line on stderr ($lines)" test "$lines" = 1
        expect_true "$desc: nothing partial visible (.dump unchanged)" \
            test "$before" = "$after"
    fi
    http_req -u 'reader:Diskfull-reader-pw-zq7' /admin/
    expect_status 200 "$desc: httpd keeps serving reads"
}
try "import of 4000 users on a full disk" import htpasswd "$htp"
expect_true "the large write failed (rc $T_RC)" test "$T_RC" != 0
for i in $(seq 1 8); do
    try "small write $i (role add)" role add "small$i"
done
printf '# diskfull[%s]: on the full disk: %d writes failed cleanly, %d succeeded whole\n' \
    "$AZS_MPM" "$nfail" "$nok"

# Space back: writes work again.
rm -f "$mnt/filler"
out=$(printf 'Diskfull-new-pw\n' | "$HTAUTHZ" -d "$AZS_DB" user add after --password-stdin 2>&1)
rc=$?
expect_true "space freed: a write succeeds ($rc: $out)" test "$rc" = 0
ic=$(sqlite3 -readonly "$AZS_DB" 'PRAGMA integrity_check' 2>&1)
expect_true "PRAGMA integrity_check: $ic" test "$ic" = ok
nbulk=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM users WHERE name LIKE 'bulkuser%'")
expect_true "no user of the failed import is visible ($nbulk)" test "$nbulk" = 0
http_req -u 'after:Diskfull-new-pw' /admin/
expect_status 200 "the user added after the disk-full -> 200"
azs_done

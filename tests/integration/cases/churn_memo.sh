#!/bin/bash
# The child's memo of users and roles is shared by its threads and a write
# makes it forget only what the write concerns (the change feed).  Counted
# with AZS0609 (debug: what a lookup read from the database, found
# remembered and forgot) and AZS0112 (one line per password hash).
#
# One child of 4 threads: every request, on whichever thread, sees one
# memo.  Roles: lead inherits staff; staff carries app:read, ops ops:run.
# alice and bob hold staff, dan lead, carol ops.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

authz_areas app write ops
azs_db_init
authz_roles staff lead ops
azs_htauthz role inherit lead staff >/dev/null || _azs_die "inherit"
azs_htauthz role grant staff app:read >/dev/null || _azs_die "grant"
azs_htauthz role grant ops ops:run >/dev/null || _azs_die "grant"
authz_user_add alice staff
authz_user_add bob staff
authz_user_add dan lead
authz_user_add carol ops
azs_single_child 4
azs_conf <<'EOF'
LogLevel warn authz_status:debug
EOF
azs_loc_basic /app App 'permission app:read' | azs_conf
azs_loc_basic /write App 'permission app:write' | azs_conf
azs_loc_basic /ops App 'permission ops:run' | azs_conf
azs_allow_log 'authz_status:debug'
azs_allow_log 'AZS0302: 403 missing-permission'
azs_allow_log 'AH0163[01]'
azs_allow_log 'AZS0101: 401 unknown-user: user "carol"'
azs_allow_log 'AH01618: user carol not found'
azs_start || azs_bail "httpd starts"

# reads USER - the entries USER's lookups read since the mark (a sum)
reads() {
    log_since "$mark" | sed -n "s/.*AZS0609: user \"$1\": \([0-9]*\) entries read.*/\1/p" \
        | awk '{n += $1} END {print n + 0}'
}
# hashes - AZS0112 lines since the mark
hashes() {
    log_since "$mark" | grep -c "AZS0112: password hash verified" || true
}

mark=$(log_mark)
for u in alice bob dan carol; do
    authz_req "$u" /app/
done
expect_true "first lookups: each user and each role read once" \
    [ "$(reads alice) $(reads bob) $(reads dan) $(reads carol)" = "2 1 2 2" ]

# ---- shared by the child's threads -----------------------------------------
mark=$(log_mark)
for i in 1 2 3 4 5 6; do
    authz_req alice /app/
    expect_status 200 "alice -> 200 ($i)"
    authz_req bob /app/
    expect_status 200 "bob -> 200 ($i)"
done
expect_true "12 connections over 4 threads: nothing read again" \
    [ "$(reads alice)$(reads bob)" = 00 ]

# ---- a grant to a role: that role once, no user row, no hash -------------------
mark=$(log_mark)
azs_htauthz role grant staff app:write >/dev/null || _azs_die "grant"
authz_req alice /write/
expect_status 200 "staff granted app:write: alice -> 200 at once"
expect_log 'AZS0609: user "alice": 1 entries read from the database, 1 remembered \(change feed at [0-9]+; 1 forgotten\)' \
    "alice's lookup forgot staff and read it again"
authz_req bob /write/
expect_status 200 "bob -> 200"
authz_req dan /write/
expect_status 200 "dan (lead inherits staff) -> 200"
authz_req carol /write/
expect_status 403 "carol (ops) -> 403"
expect_true "the grant read staff once in all, no user row, not lead" \
    [ "$(reads alice) $(reads bob) $(reads dan) $(reads carol)" = "1 0 0 0" ]
expect_true "the grant cost no password hash" [ "$(hashes)" = 0 ]

# ---- unrelated writes: nothing read, nothing hashed ---------------------------
mark=$(log_mark)
azs_user_add erin 'erin-memo-pw'
azs_htauthz role add auditors >/dev/null || _azs_die "role add"
azs_htauthz token issue erin >/dev/null || _azs_die "token issue"
azs_htauthz ip block 203.0.113.77 >/dev/null || _azs_die "ip block"
for u in alice bob dan carol; do
    authz_req "$u" /app/
done
expect_true "another user, a role, a token, a block: nothing read again" \
    [ "$(reads alice)$(reads bob)$(reads dan)$(reads carol)" = 0000 ]
expect_true "... and no password hash" [ "$(hashes)" = 0 ]

# ---- a user's own change: that user only --------------------------------------
mark=$(log_mark)
printf 'Pw-bob-memo-2\n' | azs_htauthz user passwd bob --password-stdin \
    >/dev/null || _azs_die "passwd"
azs_secret Pw-bob-memo-2
PW[bob]=Pw-bob-memo-2
authz_req bob /app/
expect_status 200 "bob's new password -> 200"
authz_req alice /app/
expect_status 200 "alice -> 200"
expect_true "bob's passwd: bob's row read again (1), alice nothing" \
    [ "$(reads bob) $(reads alice)" = "1 0" ]
expect_true "bob's passwd: one hash (bob's)" [ "$(hashes)" = 1 ]

mark=$(log_mark)
azs_htauthz user grant carol staff >/dev/null || _azs_die "user grant"
authz_req carol /app/
expect_status 200 "carol granted staff -> 200 at once"
expect_true "carol's grant: carol's row read again, staff known" \
    [ "$(reads carol)" = 1 ]
azs_htauthz role revoke staff app:read >/dev/null || _azs_die "revoke"
authz_req alice /app/
expect_status 403 "app:read revoked from staff: alice -> 403 at once"
authz_req dan /app/
expect_status 403 "... and dan (through lead) -> 403"
azs_htauthz role disinherit lead staff >/dev/null || _azs_die "disinherit"
authz_req dan /write/
expect_status 403 "lead no longer inherits staff: dan -> 403 at once"
azs_htauthz user del carol >/dev/null || _azs_die "user del"
authz_req carol /ops/
expect_status 401 "carol deleted -> 401 at once"

azs_done

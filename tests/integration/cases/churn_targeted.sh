#!/bin/bash
# A write costs password hashes only to the users it concerns.  Verified
# logins are cached against each user's credential version (users.cred),
# not the database's generation: another user added, a role added, a token
# issued or revoked, an address blocked leave every cached login valid
# (no hash at all); a password change, a disable, a re-enable cost the
# user concerned one verification, and nobody else anything.  Counted
# with AZS0112 (debug: one line per password hash verified).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

mkdir -p "$AZS_DOCROOT/app"
printf 'app\n' > "$AZS_DOCROOT/app/index.html"
azs_db_init
authz_roles staff
authz_user_add alice staff
authz_user_add bob staff
azs_conf <<'EOF'
LogLevel warn authz_status:debug
EOF
azs_loc_basic /app App 'role staff' | azs_conf
azs_allow_log 'authz_status:debug'
azs_allow_log 'AZS0103: 401 account-disabled: user "bob" for "/app/"'
azs_allow_log 'AH01617'
azs_start || azs_bail "httpd starts"

# hashes USER - AZS0112 lines for USER since the mark
hashes() {
    log_since "$mark" | grep -c "AZS0112: password hash verified: user \"$1\"" || true
}

mark=$(log_mark)
authz_req alice /app/
expect_status 200 "alice logs in"
authz_req bob /app/
expect_status 200 "bob logs in"
expect_true "the first logins cost one hash each" \
    [ "$(hashes alice)$(hashes bob)" = 11 ]

# ---- unrelated writes: no hash for anyone ------------------------------------
mark=$(log_mark)
azs_user_add carol 'carol-churn-pw'
azs_htauthz role add auditors >/dev/null || _azs_die "role add"
azs_htauthz role grant staff docs:read >/dev/null || _azs_die "role grant"
tok=$(azs_htauthz token issue carol | head -n 1)
azs_htauthz ip block 203.0.113.9 --reason churn >/dev/null || _azs_die "block"
for i in 1 2 3; do
    authz_req alice /app/
    expect_status 200 "after unrelated writes: alice -> 200 ($i)"
    authz_req bob /app/
    expect_status 200 "after unrelated writes: bob -> 200 ($i)"
done
expect_true "unrelated writes (user, role, grant, token, block) cost no hash" \
    [ "$(hashes alice)$(hashes bob)" = 00 ]
expect_log 'AZS0107: password accepted \(verified earlier' \
    "the logins came from the cache"

# ---- bob's password: bob pays one, alice nothing -------------------------------
mark=$(log_mark)
printf 'Pw-bob-new-zq7\n' | azs_htauthz user passwd bob --password-stdin \
    >/dev/null || _azs_die "passwd"
azs_secret Pw-bob-new-zq7
PW[bob]=Pw-bob-new-zq7
for i in 1 2 3; do
    authz_req alice /app/
    expect_status 200 "after bob's passwd: alice -> 200 ($i)"
    authz_req bob /app/
    expect_status 200 "after bob's passwd: bob's new password -> 200 ($i)"
done
expect_true "bob's passwd: one hash for bob, none for alice" \
    [ "$(hashes alice)$(hashes bob)" = 01 ]

# ---- bob disabled and enabled; a token revoked --------------------------------
mark=$(log_mark)
azs_htauthz user disable bob >/dev/null || _azs_die "disable"
authz_req bob /app/
expect_status 401 "bob disabled -> 401 at once"
azs_htauthz user enable bob >/dev/null || _azs_die "enable"
azs_htauthz token revoke "$(azs_htauthz token list carol | awk 'NR == 2 {print $1}')" \
    >/dev/null 2>&1 || true
authz_req alice /app/
expect_status 200 "after disable, enable, revoke: alice -> 200"
authz_req bob /app/
expect_status 200 "bob enabled again -> 200"
authz_req bob /app/
expect_status 200 "bob again -> 200 (cached)"
expect_true "disable and enable: bob pays one hash each time, alice none" \
    [ "$(hashes alice)$(hashes bob)" = 02 ]
[ -n "$tok" ] || true

azs_done

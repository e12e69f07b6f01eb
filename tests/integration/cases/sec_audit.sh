#!/bin/bash
# Regressions of the security audit of 2e8625e (doc/security.md), each of
# which answered a 200 it should not have:
#  - a backup copied over the live database (same inode) brought its
#    generation back, and the next write landed on a generation that the
#    verified-login cache held an answer for: a disabled account, or a
#    rotated password, was accepted again;
#  - the request's user memo ignored which database it came from: a
#    provider alias with its own AuthzStatusDatabase answered with the
#    roles of the main one;
#  - under "Satisfy Any" with mod_access_compat allowing the host, the
#    blocklist was never asked;
#  - .htaccess (AllowOverride AuthConfig) could turn the blocklist Off.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
AZS_EXTRA_MODULES="access_compat include $AZS_EXTRA_MODULES"

PARTNER_DB=$AZS_DB_DIR/partner.db
BACKUP=$AZS_ROOT/backup.db
mkdir -p "$AZS_DOCROOT/partner" "$AZS_DOCROOT/compat" "$AZS_DOCROOT/hton" \
         "$AZS_DOCROOT/htoff" "$AZS_DOCROOT/restore"
for d in partner compat hton htoff restore; do
    printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done
printf 'AuthzStatusBlocklist On\n' > "$AZS_DOCROOT/hton/.htaccess"
# A page outside the blocklisted location that pulls one in (SSI).
mkdir -p "$AZS_DOCROOT/pub" "$AZS_DOCROOT/priv"
printf 'SECRET-CONTENT\n' > "$AZS_DOCROOT/priv/s.html"
printf 'public <!--#include virtual="/priv/s.html" -->\n' \
    > "$AZS_DOCROOT/pub/p.shtml"
printf 'AuthzStatusBlocklist Off\n' > "$AZS_DOCROOT/htoff/.htaccess"

azs_db_init
authz_roles admin
authz_user_add alice admin
azs_user_add carol 'carol-old-password'

# The partner database knows alice, with no role at all.
"$HTAUTHZ" -d "$PARTNER_DB" init >/dev/null || _azs_die "partner init"
"$HTAUTHZ" -d "$PARTNER_DB" role add admin >/dev/null || _azs_die "partner role"
printf '%s\n' "${PW[alice]}" | "$HTAUTHZ" -d "$PARTNER_DB" user add alice \
    --password-stdin >/dev/null || _azs_die "partner alice"
[ -n "$AZS_RUN_USER" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$PARTNER_DB"*

azs_conf <<EOF
<AuthzProviderAlias role partner-admin admin>
    AuthzStatusDatabase "$PARTNER_DB"
</AuthzProviderAlias>
EOF
{
    azs_loc_basic /partner Partner partner-admin
    azs_loc_basic /restore Restore
} | azs_conf
azs_conf <<EOF
<Location "/compat">
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
    Satisfy Any
    AuthType Basic
    AuthName "Compat"
    AuthBasicProvider authz_status
    Require valid-user
    AuthzStatusBlocklist On
</Location>
<Directory "$AZS_DOCROOT/pub">
    Options +Includes
    AddOutputFilter INCLUDES .shtml
</Directory>
<Location "/priv">
    AuthzStatusBlocklist On
</Location>
<Directory "$AZS_DOCROOT/hton">
    AllowOverride AuthConfig
</Directory>
<Directory "$AZS_DOCROOT/htoff">
    AllowOverride AuthConfig
</Directory>
EOF
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/partner/"'
azs_allow_log 'AZS[0-9]{4}: 401 (account-disabled|bad-password): user "(alice|carol)" for "/restore/"'
azs_allow_log 'AZS[0-9]{4}: 403 ip-blocked: for "/(compat|hton|priv)/'
azs_allow_log 'AH01330|unable to include "/priv/s.html"'
azs_allow_log 'AH01797: client denied by server configuration: .*/compat/'
azs_allow_log '\[core:alert\].*htoff/\.htaccess: AuthzStatusBlocklist Off is not allowed'
azs_start || azs_bail "httpd starts"

# ---- a provider alias reads its own database (cold, then warm) --------------
authz_req alice /partner/
authz_expect_forbidden "alias with its own database, cold: alice holds no role there"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/partner/"' \
    "alias: the denial is logged"
authz_req alice /partner/
authz_expect_forbidden "alias with its own database, warm: still 403"

# ---- restore by cp: no answer cached at a generation comes back -------------
snapshot() {   # a file-level backup, as an admin's cp after a checkpoint
    authz_db_checkpoint "$AZS_DB"
    cp "$AZS_DB" "$BACKUP"
}
restore() {    # cp over the live file: same inode, old content
    authz_db_checkpoint "$AZS_DB"
    cp "$BACKUP" "$AZS_DB"
    azs_db_fixperms
}

snapshot
azs_htauthz role add restore-write-1 >/dev/null || _azs_die "role add"
authz_req alice /restore/
expect_status 200 "restore: alice logs in (cached)"
azs_htauthz user disable alice >/dev/null || _azs_die "disable"
authz_req alice /restore/
expect_status 401 "restore: alice disabled -> 401"
restore
azs_htauthz user disable alice >/dev/null || _azs_die "disable again"
for i in 1 2 3; do
    authz_req alice /restore/
    expect_status 401 "restore: disabled again after the restore -> 401 ($i)"
done

snapshot
azs_htauthz role add restore-write-2 >/dev/null || _azs_die "role add"
http_req -u "carol:carol-old-password" /restore/
expect_status 200 "restore: carol logs in with the old password (cached)"
printf 'carol-new-password\n' | azs_htauthz user passwd carol \
    --password-stdin >/dev/null || _azs_die "passwd"
azs_secret carol-new-password
http_req -u "carol:carol-old-password" /restore/
expect_status 401 "restore: the rotated password -> 401"
restore
printf 'carol-new-password\n' | azs_htauthz user passwd carol \
    --password-stdin >/dev/null || _azs_die "passwd again"
for i in 1 2 3; do
    http_req -u "carol:carol-old-password" /restore/
    expect_status 401 "restore: the old password after restore and rotation -> 401 ($i)"
done
http_req -u "carol:carol-new-password" /restore/
expect_status 200 "restore: the new password -> 200"

# ---- the blocklist under Satisfy Any ------------------------------------------
http_req --interface 127.0.0.2 /compat/
expect_status 401 "Satisfy Any, host not allowed, not blocked: authentication"
azs_htauthz ip block 127.0.0.1 --reason "audit" >/dev/null || _azs_die "block"
http_req /compat/
expect_status 403 "Satisfy Any, host allowed but blocklisted -> 403"
expect_no_header WWW-Authenticate "Satisfy Any, blocklisted: no challenge"
expect_log_count 1 'AZS0401: 403 ip-blocked: for "/compat/"' \
    "Satisfy Any: exactly one ip-blocked line"
http_req -u "alice:${PW[alice]}" /compat/
expect_status 403 "Satisfy Any, blocklisted with a good password -> 403"

# ---- the blocklist holds for subrequests: SSI from an open page -------------
http_req /priv/s.html
expect_status 403 "blocklisted location, directly -> 403"
http_req /pub/p.shtml
expect_status 200 "an open page that includes it -> 200 (the page)"
expect_true "... without the blocklisted location's content" \
    sh -c "! grep -q SECRET-CONTENT '$HTTP_BODY'"

# ---- .htaccess may turn the blocklist on, not off -------------------------------
http_req /hton/
expect_status 403 ".htaccess AuthzStatusBlocklist On: blocklisted -> 403"
http_req /htoff/
expect_status 500 ".htaccess AuthzStatusBlocklist Off: refused (500)"
expect_log 'htoff/\.htaccess: AuthzStatusBlocklist Off is not allowed in \.htaccess' \
    ".htaccess Off: the alert says why"
azs_htauthz ip unblock 127.0.0.1 >/dev/null || _azs_die "unblock"

azs_done

#!/bin/bash
# AuthzStatusBlocklist (README.md, "Directives"): a client whose address is
# on the blocklist gets 403 with no challenge before any credential is
# checked - with and without credentials, also where no authentication is
# configured, also where a Require line would grant the address - with an
# ip-blocked line naming the entry and its reason.  Unblocking, expiry, CIDR
# ranges, entries for other addresses, Off in a sub-location, and the
# address mod_remoteip establishes.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

for d in admin/free open ipok; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "${d//\//-}" > "$AZS_DOCROOT/$d/index.html"
done
printf 'docs area\n' > "$AZS_DOCROOT/docs/index.html"

azs_db_init
authz_roles admin
authz_user_add alice admin
authz_user_add bob

# mod_remoteip for the whole server: 127.0.0.1 is a trusted proxy, so a
# request with X-Forwarded-For comes from the address it names; without the
# header the client is 127.0.0.1.
azs_conf <<'EOF'
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    AuthzStatusBlocklist On
    Require role admin
</Location>
<Location "/admin/free">
    AuthzStatusBlocklist Off
</Location>
<Location "/open">
    AuthzStatusBlocklist On
    Require all granted
</Location>
<Location "/ipok">
    AuthzStatusBlocklist On
    Require ip 127.0.0.1 203.0.113.0/24
</Location>
EOF
azs_loc_docs 'role admin' | azs_conf
azs_allow_log 'AZS[0-9]{4}: 403 ip-blocked: .*for "/(admin|open|ipok)/"'
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/admin/"'

azs_start || azs_bail "httpd starts"

not_checked='AH0161[78]|AH01631|AZS[0-9]{4}: [0-9]+ (bad-password|unknown-user|account-|missing-)'

# ---- nothing blocked ------------------------------------------------------------
authz_req alice /admin/
expect_status 200 "no entry: alice on /admin/ -> 200"
authz_req - /open/
expect_status 200 "no entry: /open/ -> 200"
authz_req bob /admin/
authz_expect_forbidden "no entry: bob on /admin/ (missing-role, as usual)"

# ---- 127.0.0.1 blocked ------------------------------------------------------------
authz_do "htauthz ip block 127.0.0.1 --reason test" \
    ip block 127.0.0.1 --reason "test"

authz_req alice /admin/
authz_expect_forbidden "blocked: alice with the right password"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/admin/".*127\.0\.0\.1.*test' \
    "blocked -> ip-blocked line naming the entry and the reason"
expect_log_count 1 'AZS[0-9]{4}:' "blocked -> exactly one module line"
expect_no_log "$not_checked" "blocked alice -> no credential or role check"
expect_no_secret "the password is not logged" "${PW[alice]}"

authz_req - /admin/
authz_expect_forbidden "blocked: no credentials (no prompt)"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/admin/"' "blocked, no credentials -> ip-blocked line"

http_req -u "alice:wrong-${PW[alice]}" /admin/
authz_expect_forbidden "blocked: wrong password"
expect_no_log "$not_checked" "blocked, wrong password -> the password is not checked"

http_req -u "mallory:whatever" /admin/
authz_expect_forbidden "blocked: unknown user"
expect_no_log "$not_checked" "blocked, unknown user -> not looked up"

authz_req bob /admin/
authz_expect_forbidden "blocked: bob (who also lacks the role)"
expect_log 'AZS[0-9]{4}: 403 ip-blocked:' "blocked bob -> ip-blocked, not missing-role"
expect_no_log "$not_checked" "blocked bob -> no role check"

authz_req - /open/
authz_expect_forbidden "blocked: /open/ (no authentication configured)"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/open/".*127\.0\.0\.1.*test' \
    "blocked /open/ -> ip-blocked line"

authz_req - /ipok/
authz_expect_forbidden "blocked: /ipok/, where Require ip would grant 127.0.0.1"

authz_req alice /admin/free/
expect_status 200 "AuthzStatusBlocklist Off in a sub-location: alice -> 200"
expect_no_log 'AZS[0-9]{4}:' "Off sub-location -> no module line"
authz_req - /admin/free/
authz_expect_challenge Administration "Off sub-location: authentication still applies"
authz_req alice /docs/
expect_status 200 "a location without AuthzStatusBlocklist (default Off) -> 200"
authz_req - /
expect_status 200 "outside any blocklisted location -> 200"

# ---- unblock: the next request is normal -----------------------------------
authz_do "htauthz ip unblock 127.0.0.1" ip unblock 127.0.0.1
authz_req alice /admin/
expect_status 200 "unblocked: alice -> 200"
authz_req - /admin/
authz_expect_challenge Administration "unblocked: no credentials -> challenge again"
authz_req - /open/
expect_status 200 "unblocked: /open/ -> 200"

# ---- expiry: blocked, then allowed with no CLI action ------------------------
authz_do "htauthz ip block 127.0.0.1 --expires 4s" \
    ip block 127.0.0.1 --expires 4s --reason "short"
t0=$SECONDS
authz_req - /open/
authz_expect_forbidden "blocked until expiry"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/open/".*127\.0\.0\.1.*short' \
    "blocked until expiry -> ip-blocked line"
ok=0
for _ in $(seq 1 48); do
    sleep 0.25
    curl -s -o /dev/null --max-time 2 "$AZS_URL/open/" -w '%{http_code}' \
        | grep -q '^200$' && { ok=1; break; }
done
waited=$((SECONDS - t0))
expect_true "the entry expires by itself within 12s (waited ${waited}s)" test "$ok" = 1
expect_true "it did not end before its time (waited ${waited}s >= 2s)" test "$waited" -ge 2
authz_req alice /admin/
expect_status 200 "after expiry: alice -> 200"
expect_true "the expired entry is still in the database (no CLI action removed it)" \
    sh -c "'$HTAUTHZ' -d '$AZS_DB' ip list | grep -q '127\\.0\\.0\\.1'"
azs_htauthz ip unblock 127.0.0.1 >/dev/null 2>&1

# ---- CIDR ranges and other addresses -------------------------------------------
authz_do "htauthz ip block 127.0.0.0/8" ip block 127.0.0.0/8 --reason "loopback range"
authz_req - /open/
authz_expect_forbidden "127.0.0.0/8 blocks 127.0.0.1"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/open/".*127\.0\.0\.0/8.*loopback range' \
    "CIDR -> the line names the range and its reason"
authz_do "htauthz ip unblock 127.0.0.0/8" ip unblock 127.0.0.0/8
authz_req - /open/
expect_status 200 "range unblocked -> 200"

authz_do "htauthz ip block 127.0.0.2" ip block 127.0.0.2 --reason "neighbour"
authz_req - /open/
expect_status 200 "an entry for 127.0.0.2 does not block 127.0.0.1"
authz_do "htauthz ip block 127.0.0.2/31" ip block 127.0.0.2/31
authz_req - /open/
expect_status 200 "127.0.0.2/31 (.2-.3) does not block 127.0.0.1"
authz_do "htauthz ip block 127.0.0.0/31" ip block 127.0.0.0/31 --reason "low pair"
authz_req - /open/
authz_expect_forbidden "127.0.0.0/31 (.0-.1) blocks 127.0.0.1"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*127\.0\.0\.0/31.*low pair' \
    "/31 -> the line names 127.0.0.0/31"
for e in 127.0.0.2 127.0.0.2/31 127.0.0.0/31; do
    azs_htauthz ip unblock "$e" >/dev/null || _azs_die "unblock $e"
done
authz_req - /open/
expect_status 200 "all unblocked -> 200"

# ---- the address mod_remoteip establishes --------------------------------------
authz_do "htauthz ip block 203.0.113.9" ip block 203.0.113.9 --reason "via proxy"
http_req -H 'X-Forwarded-For: 203.0.113.9' /open/
authz_expect_forbidden "X-Forwarded-For 203.0.113.9 (blocked) from the trusted proxy"
expect_log 'AZS[0-9]{4}: 403 ip-blocked: .*"/open/".*203\.0\.113\.9.*via proxy' \
    "remoteip -> the line names 203.0.113.9"
http_req -H 'X-Forwarded-For: 203.0.113.9' -u "alice:${PW[alice]}" /admin/
authz_expect_forbidden "X-Forwarded-For 203.0.113.9 with alice's credentials"
http_req -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9' /open/
authz_expect_forbidden "X-Forwarded-For '198.51.100.7, 203.0.113.9': the client is the last hop"
http_req -H 'X-Forwarded-For: 203.0.113.10' /open/
expect_status 200 "X-Forwarded-For 203.0.113.10 (not blocked) -> 200"
http_req -H 'X-Forwarded-For: 203.0.113.10' -u "alice:${PW[alice]}" /admin/
expect_status 200 "X-Forwarded-For 203.0.113.10 with alice's credentials -> 200"
http_req /open/
expect_status 200 "no X-Forwarded-For: the client is 127.0.0.1, not blocked -> 200"

# The proxy's own address is not the client's.
authz_do "htauthz ip block 127.0.0.1" ip block 127.0.0.1 --reason "proxy"
http_req -H 'X-Forwarded-For: 203.0.113.10' /open/
expect_status 200 "proxy 127.0.0.1 blocked, client 203.0.113.10 -> 200"
http_req /open/
authz_expect_forbidden "proxy 127.0.0.1 blocked, no X-Forwarded-For"

azs_done

#!/bin/bash
# AuthzStatusThrottle (README.md, "Throttling failed logins") on one
# server: after N failed logins from one address within WINDOW, that
# address gets 429 with Retry-After and no challenge, before any credential
# is read, for BAN, wherever the module authenticates (Basic, Bearer, the
# form login), logged once per ban.  Failures are 401s that presented
# credentials and 400s; a success does not reset the count; failures spread
# over more than WINDOW never ban; another address, another IPv6 /64 and
# the proxy in front (mod_remoteip) are unaffected; the blocklist's 403
# comes first; the count is shared by all children.
# azs: timeout 150

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='Thr0ttle-alice-pw-zq7'
bad='Thr0ttle-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
tok=$(azs_htauthz token issue alice | sed -n 1p)
[ -n "$tok" ] || azs_bail "htauthz token issue"
azs_secret "$tok"
badtok='azs_0000000000000000000000000000000000000000000'
azs_secret "$badtok"
mkdir -p "$AZS_DOCROOT/admin" "$AZS_DOCROOT/api" "$AZS_DOCROOT/fenced"
for d in admin api fenced; do echo "$d area" > "$AZS_DOCROOT/$d/index.html"; done
cat > "$AZS_DOCROOT/login.html" <<'EOF'
<form method="POST" action="/dologin.html"></form>
EOF

# 4 failures within 3 s ban for 3 s.  mod_remoteip: 127.0.0.1 is a trusted
# proxy, so X-Forwarded-For names the client; without it the client is
# the connection's address.
azs_conf <<'EOF'
AuthzStatusThrottle 4/3s 3s
AuthzStatusHashLimit 1
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require valid-user
</Location>
<Location "/api">
    AuthType Bearer
    AuthName "API"
    Require valid-user
</Location>
<Location "/fenced">
    AuthType Basic
    AuthName "Fenced"
    AuthBasicProvider authz_status
    AuthzStatusBlocklist On
    Require valid-user
</Location>
<Location "/dologin.html">
    SetHandler form-login-handler
    AuthType form
    AuthName "Administration"
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/;httponly
</Location>
EOF
azs_allow_log 'AZS0(101|102|105|201): (401|400) (unknown-user|bad-password|malformed-credentials|token-unknown): '
azs_allow_log 'AZS0402: 429 throttled: for "/(admin|api|fenced|dologin.html)/?"'
azs_allow_log 'AZS0401: 403 ip-blocked: for "/fenced/"'
azs_allow_log 'AH01807:|AH01808:|AH01809:|AH01810:|AH01811:'   # mod_auth_form

azs_conf <<EOF
CustomLog "$AZS_ROOT/logs/pids.log" "%a %>s %P"
EOF

azs_start || azs_bail "httpd starts"

# req ADDRESS ARGS... - a request from ADDRESS (through the trusted proxy).
req() {
    local a=$1
    shift
    http_req -H "X-Forwarded-For: $a" "$@"
}
fail_basic() { req "$1" -u "alice:$bad" /admin/; }

expect_429() {   # DESC - the last answer was the throttle's
    expect_status 429 "$1: 429"
    expect_no_header WWW-Authenticate "$1: no challenge"
    local ra
    ra=$(tr -d '\r' < "$HTTP_HDR" | sed -n 's/^Retry-After: *//Ip')
    expect_true "$1: Retry-After ($ra) is 1..3 s" \
        test -n "$ra" -a "${ra:-0}" -ge 1 -a "${ra:-9}" -le 3
}

# ---- N-1 failures, then a success: 200; the success does not reset -------
A=203.0.113.1
for i in 1 2 3; do
    fail_basic $A
    expect_status 401 "$A failure $i: 401"
done
req $A -u "alice:$pw" /admin/
expect_status 200 "$A after 3 failures: the right password -> 200"
fail_basic $A
expect_status 401 "$A failure 4 (the success reset nothing): 401"
mark=$(_azs_settled_mark)
req $A -u "alice:$pw" /admin/
expect_429 "$A banned: even the right password"
expect_log "AZS0402: 429 throttled: for \"/admin/\" \\(address $A: 4 failed logins within 3s; refused for 3s, [1-3]s left\\)" \
    "the ban's line names the address and the count"
req $A /admin/
expect_429 "$A banned: no credentials"
req $A -H "Authorization: Bearer $tok" /api/
expect_429 "$A banned on the Bearer location too, with a valid token"
expect_log_count 1 'AZS0402' "one AZS0402 line for the ban, not one per 429" "$mark"
expect_no_log 'AZS0(101|102): 401' "a banned request's password is never checked" "$mark"

# ---- others are unaffected -------------------------------------------------
req 203.0.113.2 -u "alice:$pw" /admin/
expect_status 200 "another address during the ban: 200"
http_req -u "alice:$pw" /admin/
expect_status 200 "the proxy itself (127.0.0.1, no X-Forwarded-For): 200 - mod_remoteip's address is the one counted"
http_req --interface 127.0.0.2 -u "alice:$pw" /admin/
expect_status 200 "another source address (127.0.0.2): 200"

W=203.0.113.11
for i in 1 2 3 4 5; do req $W -u "alice:$pw" /api/; done
expect_status 401 "a browser's Basic password at the Bearer location: the challenge (401)"
req $W -u "alice:$pw" /admin/
expect_status 200 "... five times is no failure: no ban"

# ---- the blocklist answers first -------------------------------------------
azs_htauthz ip block "$A" --reason "throttle case" >/dev/null \
    || azs_bail "htauthz ip block"
req $A -u "alice:$pw" /fenced/
expect_status 403 "throttled and blocklisted: the blocklist's 403 first"
azs_htauthz ip unblock "$A" >/dev/null || azs_bail "htauthz ip unblock"

# ---- the ban ends after BAN --------------------------------------------------
sleep 3.2
req $A -u "alice:$pw" /admin/
expect_status 200 "$A after the ban (3 s): 200"
fail_basic $A
expect_status 401 "$A after the ban: the count started again (1 failure: 401)"

# ---- failures spread over more than WINDOW never ban -------------------------
S=203.0.113.3
for i in 1 2 3 4 5 6; do
    fail_basic $S
    [ "$HTTP_STATUS" = 401 ] || break
    sleep 1.05
done
expect_status 401 "$S: 6 failures 1.05 s apart (at most 3 in any 3 s): never banned"
req $S -u "alice:$pw" /admin/
expect_status 200 "$S: then the right password -> 200"

# ---- Bearer, malformed headers and the form count -----------------------------
B=203.0.113.4
for i in 1 2 3 4; do
    req $B -H "Authorization: Bearer $badtok" /api/
done
expect_status 401 "$B: unknown tokens are 401 ..."
req $B -H "Authorization: Bearer $tok" /api/
expect_429 "$B: ... and 4 of them ban"
req $B -u "alice:$pw" /admin/
expect_429 "$B: banned on the Basic location too"

M=203.0.113.5
for i in 1 2 3 4; do
    req $M -H "Authorization: Basic !!!notbase64" /admin/
done
expect_status 400 "$M: malformed credentials are 400 ..."
req $M -u "alice:$pw" /admin/
expect_429 "$M: ... and 4 of them ban"

F=203.0.113.6
for i in 1 2 3 4; do
    req $F --data-urlencode httpd_username=alice \
        --data-urlencode "httpd_password=$bad" /dologin.html
done
expect_status 401 "$F: failed form logins are 401 ..."
req $F --data-urlencode httpd_username=alice \
    --data-urlencode "httpd_password=$pw" /dologin.html
expect_429 "$F: ... and 4 of them ban the form login itself"

X=203.0.113.7
req $X -u "alice:$bad" /admin/
req $X -H "Authorization: Bearer $badtok" /api/
req $X -H "Authorization: Basic !!!" /admin/
req $X --data-urlencode httpd_username=nobody \
    --data-urlencode "httpd_password=$bad" /dologin.html
req $X -u "alice:$pw" /admin/
expect_429 "$X: one failure of each kind (Basic, Bearer, malformed, form) add up"

# ---- IPv6: one /64, one budget -------------------------------------------------
for a in 2001:db8:1:2::1 2001:db8:1:2::2 2001:db8:1:2:aaaa::3 2001:db8:1:2:ffff:ffff:ffff:ffff; do
    req $a -u "alice:$bad" /admin/
done
expect_status 401 "four addresses of 2001:db8:1:2::/64 each fail once"
mark=$(log_mark)
req 2001:db8:1:2::99 -u "alice:$pw" /admin/
expect_429 "a fifth address of that /64"
expect_log 'AZS0402: 429 throttled: .*address 2001:db8:1:2::99 counted as 2001:db8:1:2::/64: 4 failed' \
    "the line names the address and its /64" "$mark"
req 2001:db8:1:3::1 -u "alice:$pw" /admin/
expect_status 200 "an address of the next /64: 200"

# ---- one count for all children ------------------------------------------------
# Eight connections at once, from one address, each with a wrong password:
# served by several processes (prefork) or threads of several children,
# counted together.  They queue for the one hash place: those that get it
# after the fourth failure was counted are refused without a hash; one
# may have taken the place just before (the count comes after the failure
# delay), so at most 5 are checked.
C=203.0.113.8
"$AZS_PYTHON" "$AZS_IT_DIR/throttle_flood.py" burst "$AZS_PORT" "$C" 8 basic \
    "alice:$bad" > "$AZS_ROOT/burst.txt"
burst=$(cat "$AZS_ROOT/burst.txt")
n401=$(tr ' ' '\n' <<<"$burst" | grep -c '^401$')
n429=$(tr ' ' '\n' <<<"$burst" | grep -c '^429$')
expect_true "8 wrong passwords at once: 4 or 5 checked (401), the rest refused (429): $burst" \
    test "$n401" -ge 4 -a "$n401" -le 5 -a $((n401 + n429)) = 8
pids=$(awk -v a="$C" '$1 == a && $2 == 401 {print $3}' "$AZS_ROOT/logs/pids.log" | sort -u | wc -l)
req $C -u "alice:$pw" /admin/
expect_429 "after them, $C is banned ($pids process(es) served the failures)"
if [ "$AZS_MPM" = prefork ]; then
    expect_true "prefork: the failures were served by several processes ($pids)" \
        test "$pids" -ge 2
fi

# ---- a restart forgets no ban ----------------------------------------------------
# The bans outlive the configuration (logrotate reloads httpd daily; a BAN
# may be 30 days): kept for the life of the parent.  Counts below N are in
# the cache of the configuration (httpd reloads its module): they start
# again.
R=203.0.113.9
for i in 1 2 3 4; do fail_basic $R; done
req $R -u "alice:$pw" /admin/
expect_429 "$R banned"
azs_graceful || azs_bail "graceful restart"
req $R -u "alice:$pw" /admin/
expect_429 "$R still banned after a graceful restart"
R2=203.0.113.10
for i in 1 2 3; do fail_basic $R2; done
azs_graceful || azs_bail "graceful restart"
fail_basic $R2
req $R2 -u "alice:$pw" /admin/
expect_status 200 "3 failures before a graceful restart and 1 after: the count started again"
azs_stop
azs_start || azs_bail "httpd starts again"
req $R -u "alice:$pw" /admin/
expect_status 200 "a stop forgets the bans ($R: 200)"

azs_done

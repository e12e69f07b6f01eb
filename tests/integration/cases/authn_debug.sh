#!/bin/bash
# LogLevel authz_status:debug traces every decision, grants included
# (doc/log-messages.md): a granted login (verified, and again from the
# cache), a granted Require role, a granted Require permission, an accepted
# token, and a request with no credentials.  Denials still leave their one
# line at level error; no trace carries a password or a token.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='D3bug-trace-pw-zq7'
bad='D3bug-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
azs_user_add bob "$pw"
hz role add admin
hz role grant admin docs:read api:call
hz user grant alice admin
token=$(azs_htauthz token issue alice) || _azs_die "htauthz token issue failed"
token=$(printf '%s\n' "$token" | head -n 1)
[ -n "$token" ] || _azs_die "htauthz token issue failed"

azs_conf <<'EOF'
LogLevel authz_status:debug
EOF
{ azs_loc_admin; azs_loc_docs; azs_loc_api; } | azs_conf
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"'
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/admin/"'

azs_start || azs_bail "httpd starts with LogLevel authz_status:debug"

dbg='\[authz_status:debug\] .*AZS[0-9]{4}: '

http_req -u "alice:$pw" /admin/
expect_status 200 "alice, role admin -> 200"
expect_log "${dbg}[^\"]*(accepted|granted)[^\"]*: user \"alice\" for \"/admin/\"" \
    "granted login (password verified) is traced"
expect_log "${dbg}.*granted.*user \"alice\".*role \"?admin\b" \
    "granted Require role is traced"
expect_no_log '\[authz_status:(error|warn)' "a grant logs nothing above debug"

http_req -u "alice:$pw" /admin/
expect_status 200 "alice again -> 200"
expect_log "${dbg}[^\"]*(accepted|granted)[^\"]*: user \"alice\" for \"/admin/\"" \
    "granted login (from the cache) is traced"
expect_log "${dbg}.*granted.*user \"alice\".*role \"?admin\b" \
    "granted Require role is traced again"

http_req -u "alice:$pw" /docs/a.txt
expect_status 200 "alice, permission docs:read -> 200"
expect_log "${dbg}.*granted.*user \"alice\".*permission \"?docs:read\b" \
    "granted Require permission is traced"

http_req -H "Authorization: Bearer $token" /api/x.json
expect_status 200 "alice's token -> 200"
expect_log "${dbg}.*(accepted|granted).*user \"alice\" for \"/api/x.json\"" \
    "accepted token is traced"
expect_log "${dbg}.*granted.*user \"alice\".*permission \"?api:call\b" \
    "granted Require permission for the token is traced"

http_req /admin/
expect_status 401 "no credentials -> 401"
expect_log "${dbg}.*for \"/admin/\"" "no credentials (Basic) is traced"
expect_no_log '\[authz_status:(error|warn)' "no credentials -> nothing above debug"

http_req /api/x.json
expect_status 401 "no token -> 401"
expect_log "${dbg}.*for \"/api/x.json\"" "no credentials (Bearer) is traced"

# Denials: traced, and still exactly one line at level error.
http_req -u "alice:$bad" /admin/
expect_status 401 "wrong password -> 401"
expect_log_count 1 '\[authz_status:error\] .*AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"' \
    "wrong password -> one bad-password line at error"
expect_log_count 1 '\[authz_status:(error|warn|crit)\]' \
    "wrong password -> no other module line above debug"

http_req -u "bob:$pw" /admin/
expect_status 403 "bob, no role -> 403"
expect_log "${dbg}.*denied.*user \"bob\"" "denied Require role is traced"
expect_log_count 1 '\[authz_status:error\] .*AZS[0-9]{4}: 403 missing-role: user "bob" for "/admin/"' \
    "missing role -> one missing-role line at error"

expect_no_secret "no password or token in the logs, debug included" \
    "$pw" "$bad" "$token" "alice:$pw"
azs_done

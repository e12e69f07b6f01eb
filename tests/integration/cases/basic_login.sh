#!/bin/bash
# Basic authentication against the database (doc/log-messages.md):
# the right password gets in; a wrong password, an unknown user and no
# credentials get 401 with a Basic challenge; an unknown user and a wrong
# password look the same to the client and differ in the error log; no
# password reaches the log.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='Corr3ct-h0rse-zq7'
bad='Wr0ng-b4ttery-zq7'
azs_db_init
azs_user_add alice "$pw"

azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS[0-9]{4}: 401 (bad-password|unknown-user): user "(alice|bob)" for "/admin/"'

azs_start || azs_bail "httpd starts with the module"

http_req -u "alice:$pw" /admin/
expect_status 200 "right password -> 200"
expect_body '^admin area$' "right password -> the page"
expect_no_log 'AZS[0-9]{4}:' "a grant logs nothing at LogLevel warn"

http_req -u "alice:$bad" /admin/
expect_status 401 "wrong password -> 401"
expect_header WWW-Authenticate '^Basic realm="Administration"$' \
    "wrong password -> Basic challenge"
expect_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"' \
    "wrong password -> bad-password line"
expect_log_count 1 'AZS[0-9]{4}:' "wrong password -> exactly one module line"
bad_hdr=$HTTP_HDR bad_body=$HTTP_BODY

http_req -u "bob:$bad" /admin/
expect_status 401 "unknown user -> 401"
expect_header WWW-Authenticate '^Basic realm="Administration"$' \
    "unknown user -> Basic challenge"
expect_log 'AZS[0-9]{4}: 401 unknown-user: user "bob" for "/admin/"' \
    "unknown user -> unknown-user line"
expect_log_count 1 'AZS[0-9]{4}:' "unknown user -> exactly one module line"
expect_same_body "$bad_body" "$HTTP_BODY" \
    "unknown user and wrong password: same body"
expect_same_headers "$bad_hdr" "$HTTP_HDR" \
    "unknown user and wrong password: same status and headers"

http_req /admin/
expect_status 401 "no credentials -> 401"
expect_header WWW-Authenticate '^Basic realm="Administration"$' \
    "no credentials -> Basic challenge"
expect_no_log 'AZS[0-9]{4}:' "no credentials -> no module line at warn"

http_req -u "alice:$pw" /
expect_status 200 "outside the protected location -> 200"

# Case-sensitive user names (section 5).
http_req -u "Alice:$pw" /admin/
expect_status 401 "user names are case-sensitive"
expect_log 'AZS[0-9]{4}: 401 unknown-user: user "Alice" for "/admin/"' \
    "wrong-case user name -> unknown-user"
azs_allow_log 'AZS[0-9]{4}: 401 unknown-user: user "Alice" for "/admin/"'

# Secrets never reach the logs, neither as text nor as the header value.
expect_no_secret "no password or Authorization value in the logs" \
    "$pw" "$bad" "alice:$pw" "alice:$bad" "bob:$bad" "Alice:$pw"

azs_done

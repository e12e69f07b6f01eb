#!/bin/bash
# The harness checks itself, without mod_authz_status: httpd's own
# mod_authn_file behind Basic auth.  Start/stop, the MPM under test, the
# children's user, request helpers, log marks, and that the assertions and
# the error-log check do fail when they should.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

AZS_LOAD_MODULE=0

htpw=$AZS_CONF_DIR/htpasswd
if command -v htpasswd >/dev/null 2>&1; then
    htpasswd -cbB "$htpw" alice 'S3lf-test-pw' 2>/dev/null
else
    python3 -c 'import base64, hashlib, sys
d = base64.b64encode(hashlib.sha1(sys.argv[1].encode()).digest()).decode()
print("alice:{SHA}" + d)' 'S3lf-test-pw' > "$htpw"
fi

azs_loc_file /admin Administration "$htpw" | azs_conf

# Runs an assertion against a scratch result file: passes when the
# assertion reports a failure.
must_fail() {
    local desc=$1 scratch=$AZS_ROOT/scratch
    shift
    : > "$scratch"
    # shellcheck disable=SC2034  # lib_tap.sh's record of verdicts
    ( TAP_RECORD=$scratch; AZS_LOG_WAIT=1; "$@" ) > /dev/null
    if grep -q '^not ok' "$scratch"; then
        _azs_ok "self-check: $desc fails when it should"
    else
        _azs_not_ok "self-check: $desc fails when it should" \
            "it passed: $*"
    fi
}

azs_start || azs_bail "httpd starts"
_azs_ok "httpd starts on 127.0.0.1:$AZS_PORT"

# ---- the process, the MPM and the children's user ----
expect_true "the pid file names the process the harness started" \
    test "$(cat "$AZS_RUN_DIR/httpd.pid")" = "$AZS_PID"
expect_true "httpd runs in its own process group" \
    test "$(ps -o pgid= -p "$AZS_PID" | tr -d ' ')" = "$AZS_PID"
expect_true "the configuration selects MPM $AZS_MPM" \
    grep -q "^LoadModule mpm_${AZS_MPM}_module" "$AZS_CONF_DIR/httpd.conf"
expect_true "httpd -V reports MPM $AZS_MPM" \
    sh -c "'$APACHE2' -d '$AZS_ROOT' -f '$AZS_CONF_DIR/httpd.conf' -V \
           | grep -Eq 'Server MPM: +$AZS_MPM'"
kids=$(ps -o user= --ppid "$AZS_PID" | sort -u | tr -d ' ')
if [ -n "$AZS_RUN_USER" ]; then
    expect_true "children run as $AZS_RUN_USER" \
        test "$kids" = "$AZS_RUN_USER"
    expect_true "$AZS_RUN_USER can create files in the database directory" \
        setpriv --reuid "$AZS_RUN_USER" --regid "$AZS_RUN_GROUP" \
        --clear-groups touch "$AZS_DB_DIR/probe"
    rm -f "$AZS_DB_DIR/probe"
else
    expect_true "children run as $(id -un)" test "$kids" = "$(id -un)"
fi
expect_true "httpd listens on 127.0.0.1 only" \
    sh -c "! grep -Ev '^Listen 127\.0\.0\.1:[0-9]+$' \
           '$AZS_CONF_DIR/httpd.conf' | grep -q '^Listen'"

# ---- static files ----
http_req /
expect_status 200 "GET / -> 200"
expect_body '^hello$' "GET / body"
http_req /docs/a.txt
expect_status 200 "GET /docs/a.txt -> 200"
expect_header Content-Type '^text/plain' "a.txt is text/plain"
http_req /api/x.json
expect_header Content-Type '^application/json' "x.json is application/json"
http_req /nothing-here
expect_status 404 "GET /nothing-here -> 404"

# ---- Basic auth with mod_authn_file ----
http_req -u 'alice:S3lf-test-pw' /admin/
expect_status 200 "right password -> 200"
expect_body '^admin area$' "right password -> the admin page"
expect_no_log 'AH0161[78]' "a grant logs no failure"

http_req -u 'alice:wrong-pw' /admin/
expect_status 401 "wrong password -> 401"
expect_header WWW-Authenticate '^Basic realm="Administration"$' \
    "wrong password -> Basic challenge"
expect_log 'AH01617: user alice: authentication failure for "/admin/"' \
    "wrong password is logged (log mark per request)"
expect_log_count 1 'AH0161[78]' "exactly one failure line for one request"
bad_pw_hdr=$HTTP_HDR bad_pw_body=$HTTP_BODY

http_req -u 'bob:whatever' /admin/
expect_status 401 "unknown user -> 401"
expect_log 'AH01618: user bob not found: /admin/' "unknown user is logged"
expect_no_log 'AH01617' "the mark excludes the previous request's line"
expect_same_body "$bad_pw_body" "$HTTP_BODY" "same 401 body (expect_same_body)"
expect_same_headers "$bad_pw_hdr" "$HTTP_HDR" \
    "same 401 headers (expect_same_headers)"

http_req /admin/
expect_status 401 "no credentials -> 401"
expect_header WWW-Authenticate '^Basic realm=' "no credentials -> challenge"
expect_no_header X-Not-There "expect_no_header"

mark=$(log_mark)
http_req -H 'Authorization: Basic YWxpY2U6d3JvbmctcHc=' /admin/
expect_status 401 "custom Authorization header (-H) -> 401"
expect_log 'AH01617: user alice' "an explicit mark works" "$mark"
expect_no_log 'wrong-pw|S3lf-test-pw' "passwords are not in the log" 0

# ---- raw requests ----
http_raw 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
expect_status 200 "http_raw GET / -> 200"
expect_body '^hello$' "http_raw body"
http_raw 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x01b\r\nConnection: close\r\n\r\n'
expect_status 400 "http_raw can send a control character (httpd: 400)"

# ---- the assertions fail when they should ----
http_req /
must_fail expect_status expect_status 404 x
must_fail expect_header expect_header Content-Type '^image/' x
must_fail expect_no_header expect_no_header Content-Type x
must_fail expect_body expect_body '^nope$' x
must_fail expect_log expect_log 'AH99998' x
must_fail expect_no_log expect_no_log 'AH01617' x 0
must_fail expect_log_count expect_log_count 1 'AH01617' x 0
must_fail expect_same_body expect_same_body "$bad_pw_body" "$HTTP_BODY" x
must_fail expect_same_headers expect_same_headers "$bad_pw_hdr" "$HTTP_HDR" x
must_fail expect_true expect_true x false
# Planted on purpose: kept out of the suite's scan of every log
# (secrets_scan.sh).
AZS_SUITE_LOGS='' must_fail expect_no_secret expect_no_secret x 'AH01617'
http_req "/$(printf 'zz-self-test-secret' | base64)"
AZS_SUITE_LOGS='' must_fail "expect_no_secret (base64)" \
    expect_no_secret x 'zz-self-test-secret'

# ---- the error-log check ----
expect_true "the log so far holds nothing unexpected" \
    test -z "$(azs_unexpected_log)"
printf '%s\n' \
    '[Thu Jan 01 00:00:00.000000 2026] [core:error] [pid 1] AH99999: injected self-test line' \
    >> "$AZS_ERROR_LOG"
expect_true "an error-level line is flagged" \
    sh -c "test -n \"\$1\"" _ "$(azs_unexpected_log)"
azs_allow_log 'AH99999: injected self-test line'
expect_true "... and accepted once allowed" test -z "$(azs_unexpected_log)"
printf 'raw output from a child\n' >> "$AZS_ERROR_LOG"
expect_true "a line not in httpd's format is flagged" \
    test "$(azs_unexpected_log | wc -l)" = 1
azs_allow_log '^raw output from a child$'

# A real crash: httpd logs it at notice level; the check still flags it.
mark=$(log_mark)
victim=$(ps -o pid= --ppid "$AZS_PID" | head -n 1 | tr -d ' ')
kill -SEGV "$victim"
expect_log "AH00052: child pid $victim exit signal Segmentation fault" \
    "httpd reports a crashed child" "$mark"
expect_true "a crashed child is flagged" \
    sh -c "test -n \"\$1\"" _ "$(azs_unexpected_log)"
azs_allow_log "AH00052: child pid $victim exit signal"
expect_true "... and accepted once allowed" test -z "$(azs_unexpected_log)"

# ---- stop, start again on the same port, graceful restart ----
port=$AZS_PORT
azs_stop
expect_true "after stop nothing answers on the port" \
    sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$port/"
azs_start || azs_bail "httpd starts again"
expect_true "restart keeps the port" test "$AZS_PORT" = "$port"
http_req /
expect_status 200 "GET / after restart -> 200"
pid=$AZS_PID
azs_graceful
http_req /
expect_status 200 "GET / after a graceful restart -> 200"
expect_true "graceful restart keeps the parent" test "$AZS_PID" = "$pid"

azs_done

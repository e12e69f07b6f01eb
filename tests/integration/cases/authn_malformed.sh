#!/bin/bash
# Malformed Basic credentials (doc/log-messages.md): httpd 2.4's
# own Basic decoder is lenient (invalid base64, bad padding, trailing
# garbage, no colon, NUL or CR/LF in the user name, two merged
# Authorization headers); where our provider is used, each of these is a
# 400 with one malformed-credentials line.  A location that uses httpd's
# own AuthBasicProvider file keeps httpd's behaviour (never our 400): the
# same header there proves what the lenient decoder lets through.  User
# text reaching the log cannot forge a line.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

# "alice:" + 15 bytes encodes without padding, "ann:" + 15 bytes with "==".
pw_a='M4lformed-pw-z7'
pw_n='Ann-m4lformed-q'
azs_db_init
azs_user_add alice "$pw_a"
azs_user_add ann "$pw_n"

htpw=$AZS_CONF_DIR/htpasswd
"$AZS_PYTHON" - "$htpw" "$pw_a" "$pw_n" <<'EOF'
import base64, hashlib, sys
path, pa, pn = sys.argv[1:4]
sha = lambda p: "{SHA}" + base64.b64encode(hashlib.sha1(p.encode()).digest()).decode()
open(path, "w").write("alice:%s\nann:%s\n" % (sha(pa), sha(pn)))
EOF

b64() { printf '%s' "$1" | base64 -w 0; }
b64_a=$(b64 "alice:$pw_a")
b64_n=$(b64 "ann:$pw_n")
# ann's encoding with non-zero unused bits before the padding: the same
# bytes for a lenient decoder, not canonical base64.
b64_n_bits=$("$AZS_PYTHON" -c '
import sys
a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
s = sys.argv[1]
i = s.index("=") - 1
print(s[:i] + a[a.index(s[i]) | 1] + s[i + 1:])' "$b64_n")

azs_conf <<EOF
LimitRequestFieldSize 16384
EOF
azs_loc_admin valid-user | azs_conf
azs_loc_file /docs Documentation "$htpw" | azs_conf
azs_allow_log 'AZS[0-9]{4}: 400 malformed-credentials: for "/admin/"'
azs_allow_log 'AZS[0-9]{4}: 401 (unknown-user|bad-password): user "[^"]*" for "/admin/'

azs_start || azs_bail "httpd starts with the module"

# ---- controls: the well-formed headers work in both locations ----
http_req -H "Authorization: Basic $b64_a" /admin/
expect_status 200 "control: canonical credentials (no padding), ours -> 200"
http_req -H "Authorization: Basic $b64_n" /admin/
expect_status 200 "control: canonical credentials (== padding), ours -> 200"
http_req -H "Authorization: Basic $b64_a" /docs/a.txt
expect_status 200 "control: canonical credentials, httpd's file provider -> 200"

# malformed DESC HTTPD_STATUS CURL-ARGS... - 400 + malformed-credentials
# where we are the provider; HTTPD_STATUS (or "not 400" when "-") where
# httpd's file provider is.
malformed() {
    local desc=$1 httpd=$2 bad=0
    shift 2
    http_req "$@" /admin/
    expect_status 400 "$desc: ours -> 400"
    expect_no_header WWW-Authenticate "$desc: ours -> no challenge"
    expect_log 'AZS[0-9]{4}: 400 malformed-credentials: for "/admin/"' \
        "$desc: ours -> malformed-credentials line"
    expect_log_count 1 'AZS[0-9]{4}:' "$desc: ours -> exactly one module line"
    expect_no_log 'AH0161[78]' "$desc: ours -> no provider ran"
    http_req "$@" /docs/a.txt
    if [ "$httpd" = - ]; then
        [ "$HTTP_STATUS" != 400 ] || bad=1
        expect_true "$desc: httpd's file provider -> not 400 (got $HTTP_STATUS)" \
            test "$bad" = 0
    else
        expect_status "$httpd" "$desc: httpd's file provider -> $httpd"
    fi
    expect_no_log 'AZS[0-9]{4}:' "$desc: httpd's file provider -> no module line"
}

malformed "invalid base64 character" 401 \
    -H "Authorization: Basic ${b64_a:0:8}*${b64_a:8}"
malformed "invalid base64 characters at the end" 200 \
    -H "Authorization: Basic ${b64_a}!!"
malformed "URL-safe base64 alphabet" - \
    -H "Authorization: Basic $(b64 "alice:$pw_a???~~~" | tr '+/' '-_')"
malformed "missing padding" 200 \
    -H "Authorization: Basic ${b64_n%%=*}"
malformed "excess padding" 200 \
    -H "Authorization: Basic ${b64_a}=="
malformed "non-zero bits before the padding" 200 \
    -H "Authorization: Basic $b64_n_bits"
malformed "trailing garbage after a space" 200 \
    -H "Authorization: Basic $b64_a junk"
malformed "trailing base64 after the padding" 200 \
    -H "Authorization: Basic ${b64_n}Zm9v"
malformed "no colon in the decoded text" 401 \
    -H "Authorization: Basic $(b64 alice)"
malformed "NUL in the user name" 401 \
    -H "Authorization: Basic $(printf 'al\0ice:%s' "$pw_a" | base64 -w 0)"
malformed "NUL in the password" 200 \
    -H "Authorization: Basic $(printf 'alice:%s\0junk' "$pw_a" | base64 -w 0)"
malformed "CR/LF in the user name" 401 \
    -H "Authorization: Basic $(printf 'al\r\nice:%s' "$pw_a" | base64 -w 0)"
malformed "two Authorization headers" 200 \
    -H "Authorization: Basic $b64_a" -H "Authorization: Basic $(b64 bob:x)"
malformed "empty user name" 401 \
    -H "Authorization: Basic $(b64 ":$pw_a")"
malformed "no credentials after the scheme" - \
    -H "Authorization: Basic"
long=$(head -c 8192 /dev/zero | tr '\0' A)
malformed "8 KB user name" 401 \
    -H "Authorization: Basic $(b64 "$long:$pw_a")"
malformed "256-byte user name" 401 \
    -H "Authorization: Basic $(b64 "${long:0:256}:$pw_a")"

# The longest legal name is not malformed: an unknown user.
http_req -u "${long:0:255}:$pw_a" /admin/
expect_status 401 "255-byte user name -> 401, not 400"
expect_log 'AZS[0-9]{4}: 401 unknown-user: user "A{200,}' \
    "255-byte user name -> unknown-user line"

# ---- no forged lines ---------------------------------------------------------
fake='[Sun Nov 29 00:00:00.000000 2026] [authz_status:error] [pid 1:tid 1] [client 203.0.113.9:1] AZS0102: 401 bad-password: user "forged" for "/admin/"'

# A newline and a whole fake line in the user name: refused, one line.
http_req -H "Authorization: Basic $(b64 "mallory
$fake:$pw_a")" /admin/
expect_status 400 "newline + fake log line in the user name -> 400"
expect_log_count 1 'AZS[0-9]{4}:' \
    "newline in the user name -> exactly one module line"
expect_log_count 1 '.' "newline in the user name -> exactly one log line"
expect_no_log 'forged|mallory' "newline in the user name -> no forged text"

# The same in the URI (%0A), which the module does log.
uri="/admin/x$("$AZS_PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote("\n" + sys.argv[1], safe="/"))' "$fake")"
http_req -u "mallory:$pw_a" "$uri"
expect_status 401 "newline + fake log line in the URI, unknown user -> 401"
expect_log_count 1 '^\[[^]]*\] \[authz_status:' \
    "newline in the URI -> exactly one module line"
expect_log 'AZS[0-9]{4}: 401 unknown-user: user "mallory" for "/admin/x' \
    "newline in the URI -> the unknown-user line"
expect_no_log '^\[Sun Nov 29 00:00:00' "newline in the URI -> no forged line"
azs_allow_log 'AZS[0-9]{4}: 401 unknown-user: user "mallory" for "/admin/x'

# Quotes in a (legal) user name cannot close the quoted field.
http_req -u "x\" for \"/admin/\" forged=\"1:$pw_a" /admin/
expect_status 401 "quotes in the user name -> 401"
expect_log_count 1 'AZS[0-9]{4}:' "quotes in the user name -> exactly one module line"
expect_no_log 'user "x" for' "quotes in the user name are escaped"
azs_allow_log 'AZS[0-9]{4}: 401 unknown-user: user "x.* for "/admin/"'

expect_no_secret "no password or Authorization value in the logs" \
    "$pw_a" "$pw_n" "$b64_a" "$b64_n" "alice:$pw_a"

azs_done

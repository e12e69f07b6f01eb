#!/bin/bash
# The scope of an insufficient_scope challenge (RFC 6750 section 3) when
# the names come from the request: Require permission "%{QUERY_STRING}".
# A name with a character outside scope-token (%x21 / %x23-5B / %x5D-7E),
# such as '"' or '\', is left out of scope="..." whole, so a request
# cannot end the quoted string and add parameters of its own
# (error="invalid_token", a realm); the valid names of the same line stay.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='B3arer-scope-pw-zq7'
azs_db_init
azs_user_add carol "$pw"
read -r c_tok < <(azs_htauthz token issue carol | sed -n 1p)
[ -n "$c_tok" ] || _azs_die "htauthz token issue failed"

{
    azs_loc_bearer /q api 'permission "%{QUERY_STRING}"'
    azs_loc_bearer /q2 api 'permission api:call "%{QUERY_STRING}"'
} | azs_conf
azs_allow_log 'AZS[0-9]{4}: 403 missing-permission: user "carol" for "/q2?/x.json"'

azs_start || azs_bail "httpd starts"

# get PATH-AND-QUERY - exactly these bytes in the request line
get() {
    http_raw "GET $1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $c_tok\r\nConnection: close\r\n\r\n"
}
# The one challenge, unfolded.
challenge() { tr -d '\r' < "$HTTP_HDR" | sed -n 's/^WWW-Authenticate: //Ip'; }
# no_injection DESC - one challenge, and no parameter but realm, error and
# scope in it (no quoted string ends early)
no_injection() {
    local v n
    v=$(challenge)
    n=$(printf '%s\n' "$v" | grep -c .)
    expect_true "$1: one WWW-Authenticate header (got $n: $v)" test "$n" = 1
    expect_true "$1: realm, error and scope tokens only, nothing injected ($v)" \
        "$AZS_PYTHON" -c '
import re, sys
v = sys.argv[1]
qs = r"\"(?:[^\"\\\\]|\\\\.)*\""
m = re.fullmatch(r"Bearer realm=" + qs + r", error=\"insufficient_scope\"(, scope=\"([!#-\[\]-~]+( [!#-\[\]-~]+)*)\")?", v)
sys.exit(0 if m else 1)' "$v"
}

get '/q/x.json?api:call'
expect_status 403 "a plain name from the query -> 403"
expect_header WWW-Authenticate \
    '^Bearer realm="api", error="insufficient_scope", scope="api:call"$' \
    "a plain name from the query is the scope"

get '/q/x.json?x",error="invalid_token'
expect_status 403 "a quote in the name -> 403"
expect_header WWW-Authenticate \
    '^Bearer realm="api", error="insufficient_scope"$' \
    "a name with a quote is left out: no scope, no second error"
no_injection "a quote in the name"

get '/q/x.json?x\'
expect_status 403 "a backslash in the name -> 403"
expect_header WWW-Authenticate \
    '^Bearer realm="api", error="insufficient_scope"$' \
    "a name with a backslash is left out: no scope"
no_injection "a backslash in the name"

get '/q/x.json?a\",realm="evil'
expect_status 403 "an escaped quote in the name -> 403"
no_injection "an escaped quote in the name"

get '/q2/x.json?x",error="invalid_token'
expect_status 403 "a valid and an invalid name -> 403"
expect_header WWW-Authenticate \
    '^Bearer realm="api", error="insufficient_scope", scope="api:call"$' \
    "the valid name of the line stays, the other is left out"
no_injection "a valid and an invalid name"

get '/q2/x.json?docs:read'
expect_header WWW-Authenticate \
    '^Bearer realm="api", error="insufficient_scope", scope="api:call docs:read"$' \
    "two valid names, one space between them"

azs_done

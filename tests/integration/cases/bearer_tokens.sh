#!/bin/bash
# AuthType Bearer (README.md, "API tokens"; RFC 6750): tokens
# issued with htauthz.  A valid token -> 200 as its user; no credentials or
# another scheme -> 401 with a plain Bearer challenge; an unknown, revoked
# or expired token, or its user disabled or expired -> 401 error=
# "invalid_token" with a log line naming the token by id; malformed Bearer
# credentials -> 400 error="invalid_request"; a token without the needed
# permission, or scoped away from it -> 403 error="insufficient_scope".
# Tokens in the query string are ignored.  Changes are seen by the very
# next request; no token reaches the error log or the database.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='B3arer-user-pw-zq7'
azs_db_init
for u in alice bob carol dan; do
    azs_user_add "$u" "$pw"
done
hz role add api
hz role grant api api:call other:thing
hz user grant alice api
hz user grant bob api
hz user grant dan api
# carol has no role: no api:call.

# issue USER [options] - prints the token and its id on one line
issue() {
    local out
    out=$(azs_htauthz token issue "$@") || return 1
    printf '%s %s\n' "$(printf '%s\n' "$out" | sed -n 1p)" \
        "$(printf '%s\n' "$out" | sed -n 2p)"
}
read -r a_tok a_id < <(issue alice --label "alice main")
read -r r_tok r_id < <(issue alice --label "to revoke")
read -r b_tok b_id < <(issue bob)
read -r d_tok _ < <(issue dan)
read -r c_tok _ < <(issue carol)
read -r s_tok _ < <(issue alice --scope other:thing)
read -r e_tok e_id < <(issue alice --expires 3s)
TOKENS=("$a_tok" "$r_tok" "$b_tok" "$d_tok" "$c_tok" "$s_tok" "$e_tok")
# For the query string, where the access log records it: kept out of
# TOKENS (checked against the error log only) and out of the suite's scan
# of every log (run.sh).
read -r q_tok _ < <(AZS_SUITE_LOGS='' issue alice)
for t in "${TOKENS[@]}" "$q_tok"; do
    [ -n "$t" ] || _azs_die "htauthz token issue failed"
done

expect_true "a token is printed on the first line (${#a_tok} chars)" \
    test "${#a_tok}" -ge 22
# shellcheck disable=SC2317  # called through expect_true
is_number() { case $1 in ""|*[!0-9]*) return 1 ;; esac; return 0; }
expect_true "its id on the second line ($a_id)" is_number "$a_id"
expect_true "tokens are distinct" test "$a_tok" != "$r_tok"

azs_conf <<'EOF'
<Location "/api">
    AuthType Bearer
    AuthName "api"
    Require permission api:call
    Header always set X-User "expr=%{REMOTE_USER}"
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 401 (token-unknown|token-revoked|token-expired|account-disabled|account-expired): (user "(alice|bob)" )?for "/api/x.json"'
azs_allow_log 'AZS[0-9]{4}: 400 malformed-credentials: for "/api/x.json"'
azs_allow_log 'AZS[0-9]{4}: 403 missing-permission: user "(alice|carol)" for "/api/x.json"'

azs_start || azs_bail "httpd starts with the module"

bearer() { http_req -H "Authorization: Bearer $1" "${2:-/api/x.json}"; }

# ---- valid ----
bearer "$a_tok"
expect_status 200 "valid token -> 200"
expect_body '"x": 1' "valid token -> the resource"
expect_header X-User '^alice$' "valid token -> REMOTE_USER is its user"
expect_no_log 'AZS[0-9]{4}:' "valid token -> nothing logged at warn"
http_req -H "Authorization: bearer $a_tok" /api/x.json
expect_status 200 "the scheme name is case-insensitive"

# ---- no token: plain challenge ----
challenge_plain() {
    expect_status 401 "$1 -> 401"
    expect_header WWW-Authenticate '^Bearer realm="api"$' \
        "$1 -> Bearer realm=\"api\", no error code"
    expect_no_header X-User-Never "$1 (sanity)"
}
http_req /api/x.json
challenge_plain "no credentials"
expect_no_log 'AZS[0-9]{4}:' "no credentials -> nothing logged at warn"
http_req -u "alice:$pw" /api/x.json
challenge_plain "Basic credentials on a Bearer location"
bearer "$q_tok"
expect_status 200 "the query-string token is valid in the header -> 200"
http_req "/api/x.json?access_token=$q_tok"
challenge_plain "valid token in the query string"
http_req --data-urlencode "access_token=$q_tok" /api/x.json
expect_true "token in a form body -> not 200 (got $HTTP_STATUS)" \
    test "$HTTP_STATUS" != 200
expect_header WWW-Authenticate '^Bearer realm="api"$' \
    "token in a form body -> Bearer challenge, no error code"

# ---- invalid_token ----
# invalid DESC REASON USER TOKEN-REGEX - the log line names the user (if
# known) and the token (its id, when it has one)
invalid() {
    local who=
    [ -n "$3" ] && who="user \"$3\" "
    expect_status 401 "$1 -> 401"
    expect_header WWW-Authenticate '^Bearer realm="api", error="invalid_token"$' \
        "$1 -> Bearer error=\"invalid_token\""
    expect_log "AZS[0-9]{4}: 401 $2: ${who}for \"/api/x.json\" .*\\btoken $4" \
        "$1 -> $2 line naming the token"
    expect_log_count 1 'AZS[0-9]{4}:' "$1 -> exactly one module line"
}
unknown_tok="azs_$(head -c 24 /dev/urandom | base64 -w 0 | tr '+/' '-_' | tr -d '=')"
TOKENS+=("$unknown_tok")
bearer "$unknown_tok"
invalid "unknown token" token-unknown "" "[^ ]+"

bearer "$r_tok"
expect_status 200 "token to revoke, before revocation -> 200"
hz token revoke "$r_id"
bearer "$r_tok"
invalid "revoked token (very next request)" token-revoked alice "$r_id\\b"
bad=0
for _ in 1 2 3 4 5; do
    bearer "$r_tok"
    [ "$HTTP_STATUS" = 401 ] || bad=$((bad + 1))
done
expect_true "revoked token: 5 more requests -> 401 ($bad not)" test "$bad" = 0

bearer "$b_tok"
expect_status 200 "bob's token -> 200"
hz user disable bob
bearer "$b_tok"
invalid "token of a disabled user" account-disabled bob "$b_id\\b"
hz user enable bob
bearer "$b_tok"
expect_status 200 "user enabled -> the token works on the next request"
hz user expire bob now
bearer "$b_tok"
invalid "token of an expired user" account-expired bob "$b_id\\b"
hz user expire bob never
bearer "$b_tok"
expect_status 200 "user expiry cleared -> the token works on the next request"

# ---- invalid_request ----
# malformed DESC CURL-ARGS...
malformed() {
    local desc=$1
    shift
    http_req "$@" /api/x.json
    expect_status 400 "$desc -> 400"
    expect_header WWW-Authenticate '^Bearer realm="api", error="invalid_request"$' \
        "$desc -> Bearer error=\"invalid_request\""
    expect_log 'AZS[0-9]{4}: 400 malformed-credentials: for "/api/x.json"' \
        "$desc -> malformed-credentials line"
    expect_log_count 1 'AZS[0-9]{4}:' "$desc -> exactly one module line"
}
malformed "Bearer with no token" -H "Authorization: Bearer"
malformed "Bearer with two tokens" -H "Authorization: Bearer $a_tok $d_tok"
malformed "a character outside b64token" -H "Authorization: Bearer ${a_tok}!x"
malformed "a comma in the token" -H "Authorization: Bearer ${a_tok},x"
malformed "two Authorization headers" \
    -H "Authorization: Bearer $a_tok" -H "Authorization: Bearer $d_tok"
http_raw "GET /api/x.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \x01$a_tok\r\nConnection: close\r\n\r\n"
expect_true "a control character in the token -> 400 (got $HTTP_STATUS)" \
    test "$HTTP_STATUS" = 400

# ---- insufficient_scope ----
# forbidden DESC USER
forbidden() {
    expect_status 403 "$1 -> 403"
    expect_header WWW-Authenticate \
        '^Bearer realm="api", error="insufficient_scope", scope="api:call"$' \
        "$1 -> Bearer error=\"insufficient_scope\", scope=\"api:call\""
    expect_log "AZS[0-9]{4}: 403 missing-permission: user \"$2\" for \"/api/x.json\".*api:call" \
        "$1 -> missing-permission line"
    expect_log_count 1 'AZS[0-9]{4}:' "$1 -> exactly one module line"
}
bearer "$c_tok"
forbidden "valid token, user lacks the permission" carol
bearer "$s_tok"
forbidden "valid token scoped to another permission" alice

# ---- expiry ----
# (issued before the start; give it its 3 s and one more)
sleep 4
bearer "$e_tok"
invalid "expired token" token-expired alice "$e_id\\b"

# ---- the other tokens still work ----
bearer "$a_tok"
expect_status 200 "alice's main token still -> 200"
bearer "$d_tok"
expect_status 200 "dan's token -> 200"
expect_header X-User '^dan$' "dan's token -> REMOTE_USER dan"

# ---- no token anywhere ----
expect_no_secret "no token (nor its base64) in the logs" "${TOKENS[@]}"
expect_no_log "${q_tok#*_}" "the query-string token is not in the error log" 0
if [ "$AZS_BACKEND" = postgresql ]; then
    dump=$(_pg_as "$PG_BIN/pg_dump" -h "$PG_SOCK" -p "$PG_PORT" -U postgres \
           authz 2>/dev/null)
    expect_true "pg_dump works" test -n "$dump"
else
    dump=$(sqlite3 "$AZS_DB" .dump 2>/dev/null)
    expect_true "sqlite3 .dump works" test -n "$dump"
fi
leaked=0
for t in "${TOKENS[@]}"; do
    case $dump in *"$t"*) leaked=$((leaked + 1)) ;; esac
    # the secret part alone, without a recognizable prefix
    case $dump in *"${t#*_}"*) leaked=$((leaked + 1)) ;; esac
done
expect_true "the database dump holds no token ($leaked found)" test "$leaked" = 0
list=$(azs_htauthz token list --json)
leaked=0
for t in "${TOKENS[@]}"; do
    case $list in *"${t#*_}"*) leaked=$((leaked + 1)) ;; esac
done
expect_true "token list shows no token ($leaked found)" test "$leaked" = 0

azs_done

#!/bin/bash
# Reliability: no secret at rest in logs or the database
# (tests/reliability/README.md).  A mix of Basic and Bearer
# requests -- right, wrong, malformed (NUL, no colon, bad base64, two
# headers, several tokens), on granted and denied locations, with the
# module's debug trace on -- using distinctive passwords and tokens; then
# the error log, the access log, `sqlite3 .dump` and the raw database and
# -wal bytes are scanned for each password and token, raw and base64
# (alone and as "user:password"): 0 hits.  The scan is shown to work on a
# planted copy first.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

azs_db_admin_api
pw_a='SecretAlphaQ7xZ'
pw_b='SecretBravoK3wP'
pw_wrong='SecretWrongM8vT'
pw_new='SecretNewpwR2yU'
azs_user_add alice "$pw_a"
azs_user_add bob "$pw_b"
hz user grant alice admin api
tok_a=$(azs_htauthz token issue alice --label secret-a | sed -n 1p)
tok_r=$(azs_htauthz token issue alice --label secret-r | sed -n 1p)
tok_r_id=$(azs_htauthz token list alice --json | "$AZS_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
d = d if isinstance(d, list) else d.get("tokens", [])
print([t for t in d if t.get("label") == "secret-r"][0]["id"])' 2>/dev/null)
[ -n "$tok_a" ] && [ -n "$tok_r" ] || _azs_die "token issue failed"
tok_fake='SecretFakeTokenJ5nB9cLq2wE'

azs_conf <<'EOF'
LogLevel warn authz_status:debug
EOF
{ azs_loc_admin; azs_loc_api; } | azs_conf
azs_allow_log 'AZS0[0-9]{3}: (400|401|403) '
azs_start || azs_bail "httpd starts"

http_req -u "alice:$pw_a" /admin/;          expect_status 200 "alice -> 200"
http_req -u "bob:$pw_b" /admin/;            expect_status 403 "bob (no role) -> 403"
http_req -u "alice:$pw_wrong" /admin/;      expect_status 401 "wrong password -> 401"
http_req -u "carol:$pw_a" /admin/;          expect_status 401 "unknown user -> 401"
http_req -H "Authorization: Bearer $tok_a" /api/x.json
expect_status 200 "token -> 200"
http_req -H "Authorization: Bearer $tok_fake" /api/x.json
expect_status 401 "unknown token -> 401"
http_req -H "Authorization: Bearer $tok_a $tok_fake" /api/x.json
expect_status 400 "two tokens -> 400"
http_req -H "Authorization: Bearer $tok_a" /admin/
# (400 today, see the reliability README; 401 would do as well here)
expect_true "a token on the Basic location -> denied ($HTTP_STATUS)" \
    test "$HTTP_STATUS" = 400 -o "$HTTP_STATUS" = 401
if [ -n "$tok_r_id" ]; then
    hz token revoke "$tok_r_id"
    http_req -H "Authorization: Bearer $tok_r" /api/x.json
    expect_status 401 "revoked token -> 401"
fi
b64() { printf '%b' "$1" | base64 -w 0; }
for raw in "alice:$pw_a\\x00" "alice$pw_a" "alice:$pw_wrong\\x01" "alice:\\n$pw_b"; do
    http_raw "GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic $(b64 "$raw")\r\nConnection: close\r\n\r\n"
    expect_status 400 "malformed Basic credentials -> 400"
done
http_raw "GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!$pw_a!!\r\nConnection: close\r\n\r\n"
expect_status 400 "bad base64 carrying a password -> 400"
http_raw "GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic $(b64 "alice:$pw_a")\r\nAuthorization: Basic $(b64 "bob:$pw_b")\r\nConnection: close\r\n\r\n"
expect_status 400 "two Authorization headers -> 400"
printf '%s\n' "$pw_new" | azs_htauthz user passwd bob --password-stdin >/dev/null \
    || _azs_die "passwd failed"
http_req -u "bob:$pw_new" /admin/;           expect_status 403 "bob's new password -> 403"
azs_stop   # flush everything

secrets=("$pw_a" "$pw_b" "$pw_wrong" "$pw_new" "$tok_a" "$tok_r" "$tok_fake"
         "alice:$pw_a" "bob:$pw_b" "alice:$pw_wrong" "carol:$pw_a" "bob:$pw_new")
pats=()
for s in "${secrets[@]}"; do
    pats+=(-e "$s" -e "$(printf '%s' "$s" | base64 -w 0)")
done
dump=$AZS_ROOT/dump.sql
sqlite3 -readonly "$AZS_DB" .dump > "$dump" || _azs_die "sqlite3 .dump failed"
scan() {   # files... -> number of secret hits
    grep -a -F -o "${pats[@]}" "$@" 2>/dev/null | wc -l
}
# The scan finds a planted secret (so 0 below means something).
planted=$AZS_ROOT/planted
{ printf 'x %s y\n' "$tok_a"; printf 'z %s\n' "$(printf 'alice:%s' "$pw_a" | base64 -w 0)"; } > "$planted"
expect_true "the scan finds planted secrets ($(scan "$planted") hits)" \
    test "$(scan "$planted")" = 2
files=("$AZS_ERROR_LOG" "$AZS_ACCESS_LOG" "$dump" "$AZS_DB")
[ -e "$AZS_DB-wal" ] && files+=("$AZS_DB-wal")
hits=$(scan "${files[@]}")
mod_lines=$(grep -c 'AZS[0-9]\{4\}:' "$AZS_ERROR_LOG")
dbg_lines=$(grep -c 'authz_status:debug' "$AZS_ERROR_LOG")
printf '# secrets[%s]: %d secrets x (raw, base64) scanned in %d files (%d module lines, %d of them debug, %d dump lines): %s hits\n' \
    "$AZS_MPM" "${#secrets[@]}" "${#files[@]}" "$mod_lines" "$dbg_lines" \
    "$(wc -l < "$dump")" "$hits"
expect_true "the module logged its decisions (debug included: $dbg_lines lines)" \
    test "$dbg_lines" -gt 0
if [ "$hits" = 0 ]; then
    _azs_ok "0 passwords or tokens in the logs, the dump and the database files"
else
    _azs_not_ok "0 passwords or tokens in the logs, the dump and the database files" \
        "$(grep -a -F -n "${pats[@]}" "${files[@]}" | cut -c 1-200 | head -n 10)"
fi
azs_done

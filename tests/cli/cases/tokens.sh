#!/bin/bash
# htauthz token: issue, list, revoke; user del takes the tokens along.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_users
cli_roles

# ---- tokens ----------------------------------------------------------------

g0=$(gen)
expect 0 "token issue" token issue bob --scope docs:read --label "ci job" \
    --expires 30d
check "generation changed by token issue" test "$(gen)" != "$g0"
token=$(sed -n 1p "$T/out")
tid=$(sed -n 2p "$T/out")
check "token on line 1" grep -qE '^azs_[A-Za-z0-9_-]{32}$' <<<"$token"
check "id on line 2" grep -qE '^[0-9]+$' <<<"$tid"
check "exactly two lines" test "$(wc -l <"$T/out")" = 2
check "token absent from the database dump" \
    test "$(dump | grep -cF "$token")" = 0
expect 0 "token list" token list
check "token list does not show the secret" \
    test "$(grep -cF "$token" "$T/out")" = 0
json_ok "token list --json" token list --json
check "token list shows the label and scope" \
    test "$(json_get '[d[0]["label"], d[0]["scopes"]]' <"$T/out")" = \
    "['ci job', ['docs:read']]"
json_ok "token list USER --json" token list bob --json
expect 1 "token list: unknown user" token list nobody
unchanged "token issue: scope the user lacks" 1 token issue bob \
    --scope docs:admin
unchanged "token issue: unknown user" 1 token issue nobody
unchanged "token issue: control character in label" 1 token issue bob \
    --label "$(printf 'a\nb')"
unchanged "token issue: bad --expires" 2 token issue bob --expires x
expect 0 "token issue without scope" token issue carol
tid2=$(sed -n 2p "$T/out")
expect 0 "token revoke" token revoke "$tid"
run token list --json
check "revoked state" test "$(json_get \
    '[t["state"] for t in d if t["id"] == '"$tid"'][0]' <"$T/out")" = revoked
expect 0 "token revoke again" token revoke "$tid"
unchanged "token revoke: unknown id" 1 token revoke 999999
unchanged "token revoke: bad id" 2 token revoke abc
unchanged "token revoke: negative id" 2 token revoke -- -3
expect 0 "user del removes its tokens" user del carol
run token list --json
check "carol's token is gone" test "$(json_get \
    'len([t for t in d if t["id"] == '"$tid2"'])' <"$T/out")" = 0
unchanged "user del: unknown" 1 user del carol

tap_finish

#!/bin/bash
# htauthz role and user grant, check, and what deleting, revoking and
# disinheriting take along; a failed command changes nothing.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_users
long256=$(head -c 256 /dev/zero | tr '\0' x)

# ---- roles -----------------------------------------------------------------

expect 0 "role add" role add admin
expect 0 "role add editor" role add editor
expect 0 "role add viewer" role add viewer
unchanged "role add: duplicate" 1 role add admin
unchanged "role add: whitespace" 1 role add "two words"
unchanged "role add: 256 bytes" 1 role add "$long256"
expect 0 "role grant (several)" role grant viewer docs:read docs:list
expect 0 "role grant again is not an error" role grant viewer docs:read
expect 0 "role grant editor" role grant editor docs:write
unchanged "role grant: unknown role" 1 role grant nosuch docs:read
unchanged "role grant: bad permission" 1 role grant viewer "a b"
expect 0 "role inherit" role inherit admin editor
expect 0 "role inherit chain" role inherit editor viewer
unchanged "role inherit: cycle a>b>c>a" 1 role inherit viewer admin
err_has "cycle message" "cycle"
unchanged "role inherit: self" 1 role inherit admin admin
unchanged "role inherit: unknown" 1 role inherit admin nosuch
expect 0 "user grant" user grant bob admin
expect 0 "user grant again is not an error" user grant bob admin
unchanged "user grant: unknown role in the list" 1 \
    user grant carol viewer nosuch
err_has "unknown role named" 'role "nosuch" not found'
unchanged "user grant: unknown user" 1 user grant nobody viewer

expect 0 "user show" user show bob
out_has "user show: direct role" "admin"
out_has "user show: inherited role with its chain" "admin > editor > viewer"
out_has "user show: permission" "docs:read"
json_ok "user show --json" user show bob --json
check "effective permissions in JSON" test "$(json_get \
    'sorted(p["permission"] for p in d["permissions"])' <"$T/out")" = \
    "['docs:list', 'docs:read', 'docs:write']"
json_ok "user list --json (odd names)" user list --json
check "user list --json keeps quote and backslash" \
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
assert any(u["name"] == "q\"b\\s-\u00e9" for u in d)' "$T/out"
expect 0 "user list" user list
out_has "user list shows roles" "admin"
json_ok "role list --json" role list --json
expect 0 "role show" role show editor
out_has "role show: inherited by" "admin"
json_ok "role show --json" role show viewer --json
check "role show: inherited by" test "$(json_get 'd["inherited_by"]' \
    <"$T/out")" = "['editor']"
unchanged "role show: unknown" 1 role show nosuch

# ---- check ---------------------------------------------------------------

expect 0 "check: granted" check bob docs:read
out_has "check names the chain" "admin > editor > viewer"
expect 1 "check: no such permission" check bob docs:delete
err_has "check: says no role grants it" "no role grants"
expect 1 "check: disabled user" check carol docs:read
err_has "check: says disabled" "disabled"
expect 0 "user grant erin" user grant erin viewer
expect 1 "check: erin lacks docs:write" check erin docs:write
err_has "check: names the role that would grant" "editor"
expect 1 "check: unknown user" check nobody docs:read
err_has "check: unknown user message" "unknown user"
expect 0 "user expire erin" user expire erin now
expect 1 "check: expired user" check erin docs:read
err_has "check: expired message" "expired"
expect 2 "check: missing argument" check bob


# ---- role del cascades, disinherit, revoke ---------------------------------

expect 0 "role disinherit" role disinherit editor viewer
expect 1 "check after disinherit" check bob docs:read
expect 0 "role inherit back" role inherit editor viewer
expect 0 "role revoke" role revoke viewer docs:list
expect 0 "role revoke again is not an error" role revoke viewer docs:list
expect 0 "user revoke" user revoke erin viewer
expect 0 "role del" role del editor
run user show bob --json
check "role del cascades (bob keeps admin only)" test "$(json_get \
    'sorted(r["role"] for r in d["effective_roles"])' <"$T/out")" = \
    "['admin']"
check "no dangling inheritance rows" test "$(db_sql \
    'SELECT count(*) FROM role_inherits')" = 0
unchanged "role del: unknown" 1 role del editor

# ---- a failed command changes nothing -----------------------------------

unchanged "role grant: one bad permission in the list" 1 \
    role grant admin ok:perm "bad perm"
expect 0 "role add a" role add ra
expect 0 "role add b" role add rb
expect 0 "role add c" role add rc
expect 0 "ra > rb" role inherit ra rb
unchanged "inherit list with a cycle in it" 1 role inherit rb rc ra
check "rb does not inherit rc" test "$(db_sql "SELECT count(*) \
    FROM role_inherits JOIN roles ON roles.id = role_id \
    WHERE roles.name = 'rb'")" = 0

tap_finish

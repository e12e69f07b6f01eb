#!/bin/bash
# cli.sh - drives the htauthz binary against temp databases.
#
# Usage: tests/cli/cli.sh   (HTAUTHZ=path/to/htauthz, default
# /work/build-cli/htauthz).  Prints "ok N - ..." / "not ok N - ..." and
# exits non-zero when any check fails.  Needs sqlite3, python3 and
# htpasswd (apache2-utils); the checks of files planted beside the
# database need root and a www-data user.
set -u

HTAUTHZ=${HTAUTHZ:-/work/build-cli/htauthz}
PTYJOB=$(dirname "$0")/ptyjob.py
T=$(mktemp -d /tmp/azs-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/test.db
export HTAUTHZ_DB=$DB

n=0
failed=0
rc=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

notok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
}

check() {   # check DESC COMMAND...: ok when the command succeeds
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else notok "$desc"; fi
}

# Runs htauthz with the function's stdin; stdout in $T/out, stderr in
# $T/err, status in $rc.
run() {
    "$HTAUTHZ" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

# expect STATUS DESC ARGS...: the exit status, and stderr: empty on
# success, exactly one "htauthz: " line on failure.
expect() {
    local want=$1 desc=$2 lines
    shift 2
    run "$@"
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne "$want" ]; then
        notok "$desc (exit $rc, wanted $want: $(head -c 300 "$T/err"))"
        return 1
    fi
    if [ "$want" -eq 0 ] && [ -s "$T/err" ]; then
        notok "$desc (stderr: $(head -c 300 "$T/err"))"
        return 1
    fi
    if [ "$want" -ne 0 ] && { [ "$lines" -ne 1 ] ||
                              ! grep -q '^htauthz: ' "$T/err"; }; then
        notok "$desc (stderr is not one htauthz: line: $(cat "$T/err"))"
        return 1
    fi
    ok "$desc"
}

err_has() {  # err_has DESC TEXT: stderr of the last run contains TEXT
    if grep -qF -- "$2" "$T/err"; then ok "$1"
    else notok "$1 (stderr: $(head -c 300 "$T/err"))"; fi
}

out_has() {
    if grep -qF -- "$2" "$T/out"; then ok "$1"
    else notok "$1 (stdout: $(head -c 300 "$T/out"))"; fi
}

json_ok() {  # json_ok DESC ARGS...: exit 0 and stdout is one JSON document
    local desc=$1
    shift
    run "$@"
    if [ "$rc" -eq 0 ] && python3 -m json.tool "$T/out" >/dev/null 2>&1
    then
        ok "$desc"
    else
        notok "$desc (exit $rc: $(head -c 300 "$T/out") $(cat "$T/err"))"
    fi
}

# jq-less field access: json_get 'expression on d' < file
json_get() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

dump() {
    sqlite3 "$DB" .dump
}

# unchanged DESC STATUS ARGS...: the command fails as expected and the
# database dump is the same before and after.
unchanged() {
    local desc=$1 want=$2 before after
    shift 2
    before=$(dump)
    expect "$want" "$desc" "$@" || return 1
    after=$(dump)
    if [ "$before" = "$after" ]; then ok "$desc: database unchanged"
    else notok "$desc: database changed"; fi
}

gen() {
    sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'generation'"
}

if [ ! -x "$HTAUTHZ" ]; then
    echo "not ok 1 - $HTAUTHZ is not built"
    exit 1
fi

# ---- usage, help, the database path -------------------------------------

expect 0 "--help" --help
out_has "--help lists the commands" "import htpasswd FILE"
out_has "--help documents existing users on import" "already in the database"
expect 0 "user add --help" user add --help
expect 2 "no command" 
expect 2 "unknown command" frobnicate
expect 2 "unknown subcommand" user frobnicate
expect 2 "user without subcommand" user
expect 2 "unknown global option" --bogus user list
expect 2 "-d without a file" -d
expect 1 "missing database" user list
err_has "missing database names the file and init" "init"
run --help
default=$(sed -n 's/^The database is .*, else \(.*\)\.$/\1/p' "$T/out")
if [ -n "$default" ] && [ ! -e "$default" ]; then
    HTAUTHZ_DB= run user list
    if [ "$rc" -eq 1 ] && grep -qF "$default" "$T/err"; then
        ok "compiled-in default database ($default)"
    else
        notok "compiled-in default database: $(cat "$T/err")"
    fi
else
    ok "compiled-in default database exists or is unknown # skip"
fi

# ---- init ----------------------------------------------------------------

expect 0 "init creates the database" init
check "init: mode 0640" test "$(stat -c %a "$DB")" = 640
out_has "init: hint about www-data" "www-data"
out_has "init: hint about the directory (-wal, -shm)" "-wal"
chmod 0600 "$DB"
expect 0 "init again (current database)" init
check "init keeps an existing mode" test "$(stat -c %a "$DB")" = 600
chmod 0640 "$DB"
run init
version=$(sed -n 's/.*(schema version \([0-9]*\)).*/\1/p' "$T/out")
check "schema version $version in PRAGMA user_version" \
    test "$(sqlite3 "$DB" 'PRAGMA user_version')" = "$version"
expect 0 "-d FILE" -d "$T/other.db" init
check "-d FILE wins over HTAUTHZ_DB" test -f "$T/other.db"
echo "not a database" >"$T/junk.db"
expect 1 "init refuses a file that is not a database" -d "$T/junk.db" init
expect 1 "init in a missing directory" -d "$T/no/such/dir.db" init
check "failed init creates nothing" test ! -e "$T/no"

# ---- users -----------------------------------------------------------------

g0=$(gen)
expect 0 "user add --password-stdin" user add bob --password-stdin \
    <<<"bob-secret"
check "generation changed by user add" test "$(gen)" != "$g0"
unchanged "user add: duplicate" 1 user add bob --password-stdin \
    <<<"other"
err_has "duplicate names the user" 'user "bob" already exists'
expect 0 "user add --disabled --expires" user add carol --password-stdin \
    --disabled --expires 2030-01-31 <<<"carol-pw"
expect 0 "options before the name" user add --password-stdin dave \
    <<<"dave-pw"
expect 0 "--expires=WHEN form" user add erin --expires=30d \
    --password-stdin <<<"erin-pw"

unchanged "bad name: colon" 1 user add "a:b" --password-stdin <<<"pw"
err_has "bad name message" "':'"
unchanged "bad name: tab" 1 user add "$(printf 'a\tb')" --password-stdin \
    <<<"pw"
unchanged "bad name: newline" 1 user add "$(printf 'a\nb')" \
    --password-stdin <<<"pw"
unchanged "bad name: DEL" 1 user add "$(printf 'a\177b')" \
    --password-stdin <<<"pw"
long255=$(head -c 255 /dev/zero | tr '\0' x)
long256=$(head -c 256 /dev/zero | tr '\0' x)
unchanged "bad name: 256 bytes" 1 user add "$long256" --password-stdin \
    <<<"pw"
err_has "256 bytes: says why" "longer than 255 bytes"
expect 0 "name of 255 bytes" user add "$long255" --password-stdin <<<"pw"
expect 0 "name with quote, backslash, UTF-8" \
    user add "$(printf 'q"b\\s-\xc3\xa9')" --password-stdin <<<"pw"
expect 0 "name with a byte that is not UTF-8" \
    user add "$(printf 'lat\xe9')" --password-stdin <<<"pw"

unchanged "password: empty" 1 user add pw1 --password-stdin <<<""
unchanged "password: no input at all" 1 user add pw1 --password-stdin \
    </dev/null
unchanged "password: control character" 1 user add pw1 --password-stdin \
    <<<"$(printf 'a\tb')"
unchanged "password: 73 bytes" 1 user add pw1 --password-stdin \
    <<<"$(head -c 73 /dev/zero | tr '\0' p)"
err_has "73 bytes: says bcrypt" "72"
expect 0 "password: 72 bytes" user add pw72 --password-stdin \
    <<<"$(head -c 72 /dev/zero | tr '\0' p)"
printf 'crlf-pw\r\nsecond line\n' >"$T/pwin"
expect 0 "password: CRLF stripped, one line read" user add crlf \
    --password-stdin <"$T/pwin"

# Hashes htauthz writes are bcrypt that htpasswd itself verifies.
verify() {
    htpasswd -vb "$T/verify" "$1" "$2" >/dev/null 2>&1
}
hash_of() {
    sqlite3 "$DB" "SELECT hash FROM users WHERE name = '$1'"
}
echo "crlf:$(hash_of crlf)" >"$T/verify"
check "written hash is \$2y\$" grep -q '^crlf:\$2y\$10\$' "$T/verify"
check "CRLF password verifies with htpasswd -v" \
    verify crlf crlf-pw
echo "bob:$(hash_of bob)" >"$T/verify"
check "stdin password verifies with htpasswd -v" \
    verify bob bob-secret

if command -v setsid >/dev/null; then
    setsid -w "$HTAUTHZ" user add nott </dev/null >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- "--password-stdin" "$T/err"; then
        ok "no terminal: exit 2, suggests --password-stdin"
    else
        notok "no terminal: exit $rc $(cat "$T/err")"
    fi
fi

if command -v script >/dev/null; then
    { sleep 1; printf 'tty-pw-1\n'; sleep 0.5; printf 'tty-pw-1\n'; sleep 1
    } | timeout 20 script -qec "$HTAUTHZ user add ttyuser" /dev/null \
        >"$T/tty" 2>&1
    if sqlite3 "$DB" "SELECT 1 FROM users WHERE name = 'ttyuser'" |
       grep -q 1; then
        ok "terminal prompt: typed twice"
    else
        notok "terminal prompt: $(cat "$T/tty")"
    fi
    check "terminal prompt: no echo" test "$(grep -c 'tty-pw-1' "$T/tty")" = 0
    before=$(dump)
    { sleep 1; printf 'tty-pw-2\n'; sleep 0.5; printf 'tty-pw-3\n'; sleep 1
    } | timeout 20 script -qec "$HTAUTHZ user passwd ttyuser" /dev/null \
        >"$T/tty" 2>&1
    if grep -q "do not match" "$T/tty" && [ "$before" = "$(dump)" ]; then
        ok "terminal prompt: mismatch refused, nothing changed"
    else
        notok "terminal prompt: mismatch: $(cat "$T/tty")"
    fi
else
    ok "terminal prompt # skip (no script)"
fi

old=$(hash_of bob)
expect 0 "user passwd" user passwd bob --password-stdin <<<"bob-new"
check "user passwd changes the hash" test "$(hash_of bob)" != "$old"
echo "bob:$(hash_of bob)" >"$T/verify"
check "new password verifies" verify bob bob-new
unchanged "user passwd: unknown user" 1 user passwd nobody \
    --password-stdin <<<"pw"
err_has "unknown user message" 'user "nobody" not found'
unchanged "user passwd: bad password" 1 user passwd bob --password-stdin \
    <<<""

expect 0 "user disable" user disable bob
expect 0 "user show --json (disabled)" user show bob --json
check "state disabled" test "$(json_get 'd["state"]' <"$T/out")" = disabled
expect 0 "user enable" user enable bob
run user show bob --json
check "state active" test "$(json_get 'd["state"]' <"$T/out")" = active
unchanged "user disable: unknown user" 1 user disable nobody
expect 0 "user expire (now)" user expire dave
run user show dave --json
check "expired now" test "$(json_get 'd["state"]' <"$T/out")" = expired
expect 0 "user expire never" user expire dave never
run user show dave --json
check "never clears expiry" \
    test "$(json_get 'd["expires"]' <"$T/out")" = None
expect 0 "user expire DATE" user expire dave 2031-02-03T04:05:06Z
run user show dave --json
check "expiry stored" \
    test "$(json_get 'd["expires"]' <"$T/out")" = 2031-02-03T04:05:06Z
unchanged "user expire: bad WHEN" 2 user expire dave tomorrow
unchanged "user expire: extra argument" 2 user expire dave now now
expect 2 "user add: bad --expires" user add x --expires soon \
    --password-stdin <<<"pw"

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

# ---- ip --------------------------------------------------------------------

expect 0 "ip block v4 range" ip block 192.0.2.0/24 --reason "scanner" \
    --expires 30d
expect 0 "ip block v4 address" ip block 198.51.100.7
expect 0 "ip block v6 range" ip block 2001:db8::/32 --reason "v6 range"
unchanged "ip block: duplicate" 1 ip block 192.0.2.0/24
err_has "duplicate block message" "already blocked"
unchanged "ip block: host bits set" 2 ip block 192.0.2.7/24
unchanged "ip block: garbage" 2 ip block 300.1.2.3
unchanged "ip block: reason with control" 1 ip block 203.0.113.0/24 \
    --reason "$(printf 'a\033b')"
json_ok "ip list --json" ip list --json
check "ip list has three entries" test "$(json_get 'len(d)' <"$T/out")" = 3
check "ip list reason" test "$(json_get \
    '[b["reason"] for b in d if b["address"] == "192.0.2.0/24"][0]' \
    <"$T/out")" = scanner
expect 0 "ip list" ip list
out_has "ip list text" "2001:db8::/32"
expect 0 "ip unblock" ip unblock 198.51.100.7
unchanged "ip unblock: not blocked" 1 ip unblock 198.51.100.7
unchanged "ip unblock: bad address" 2 ip unblock nonsense

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
check "no dangling inheritance rows" test "$(sqlite3 "$DB" \
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
check "rb does not inherit rc" test "$(sqlite3 "$DB" "SELECT count(*) \
    FROM role_inherits JOIN roles ON roles.id = role_id \
    WHERE roles.name = 'rb'")" = 0

# ---- import htpasswd -------------------------------------------------------

pyhash() {
    python3 -W ignore -c 'import crypt,sys
print(crypt.crypt(sys.argv[2], crypt.mksalt(
    crypt.METHOD_SHA256 if sys.argv[1] == "5" else crypt.METHOD_SHA512)))' \
        "$1" "$2" 2>/dev/null || openssl passwd "-$1" "$2"
}
{
    echo "# a comment"
    echo ""
    htpasswd -nbB imp_bcrypt "pw-bcrypt" | head -1
    htpasswd -nbm imp_md5 "pw-md5" | head -1
    htpasswd -nbs imp_sha "pw-sha" | head -1
    echo "imp_sha256:$(pyhash 5 pw-sha256)"
    echo "imp_sha512:$(pyhash 6 pw-sha512)"
    htpasswd -nbp imp_plain "pw-plain" 2>/dev/null | head -1
    htpasswd -nbd imp_crypt "pw-crypt" 2>/dev/null | head -1
    echo "no colon on this line"
    printf 'bad\001name:%s\n' "$(htpasswd -nbs x y | cut -d: -f2)"
    htpasswd -nbs imp_md5 "pw-dup" | head -1
    echo "   "
} >"$T/htpasswd"
g0=$(gen)
run import htpasswd "$T/htpasswd"
if [ "$rc" -eq 0 ]; then ok "import htpasswd: exit 0"
else notok "import htpasswd: exit $rc $(cat "$T/err")"; fi
out_has "import summary" "imported 5, refused 5"
check "import: five refusals on stderr" test "$(wc -l <"$T/err")" = 5
err_has "refused plain text (line 8)" ":8: user \"imp_plain\""
err_has "refused crypt (line 9)" ":9: "
err_has "refused line without colon (line 10)" ":10: no ':'"
err_has "refused bad name (line 11)" ":11: invalid user name"
err_has "refused duplicate (line 12)" \
    ':12: user "imp_md5": already on line 4'
leak=0
for secret in pw-bcrypt pw-md5 pw-sha pw-plain pw-crypt pw-dup; do
    grep -qF -- "$secret" "$T/err" "$T/out" && leak=1
done
while IFS=: read -r _ h; do
    [ -n "$h" ] && grep -qF -- "$h" "$T/err" && leak=1
done <"$T/htpasswd"
check "import prints no password or hash" test "$leak" = 0
check "import changed the generation" test "$(gen)" != "$g0"
for u in imp_bcrypt imp_md5 imp_sha imp_sha256 imp_sha512; do
    want=$(grep "^$u:" "$T/htpasswd" | head -1 | cut -d: -f2)
    check "import keeps the $u hash as it is" test "$(hash_of "$u")" = "$want"
done
grep '^imp_md5:' "$T/htpasswd" | head -1 >"$T/verify"
check "imported \$apr1\$ verifies with htpasswd -v" \
    verify imp_md5 pw-md5
check "imported users absent when refused" test "$(sqlite3 "$DB" \
    "SELECT count(*) FROM users WHERE name LIKE 'imp_p%' \
     OR name LIKE 'imp_c%'")" = 0

htpasswd -nbs imp_sha "pw-sha-2" | head -1 >"$T/update"
expect 0 "import: existing user gets the new hash" import htpasswd \
    "$T/update"
check "updated hash" test "$(hash_of imp_sha)" = \
    "$(cut -d: -f2 "$T/update")"
out_has "import reports updated users" "existing user"
printf 'only:plaintext\nnothing here\n' >"$T/bad"
before=$(dump)
run import htpasswd "$T/bad"
check "import with nothing imported: exit 1" test "$rc" = 1
err_has "import with nothing imported: says so" "nothing imported"
check "import with nothing imported: unchanged" test "$before" = "$(dump)"
unchanged "import: missing file" 1 import htpasswd "$T/nope"

# A hash whose cost would hold a CPU for minutes per login attempt is
# refused like an unsupported one: $6$ with a billion rounds, bcrypt at
# cost 31.
{
    printf 'costly6:$6$rounds=999999999$saltsalt$%s\n' \
        "$(head -c 86 /dev/zero | tr '\0' a)"
    printf 'costly2:$2y$31$%s\n' "$(head -c 53 /dev/zero | tr '\0' b)"
} >"$T/costly"
before=$(dump)
run import htpasswd "$T/costly"
check "import of costly hashes: exit 1" test "$rc" = 1
err_has "import: \$6\$ rounds=999999999 refused (line 1)" \
    ':1: user "costly6": '
err_has "import: bcrypt cost 31 refused (line 2)" ':2: user "costly2": '
err_has "import of costly hashes: nothing imported" "nothing imported"
check "import of costly hashes: unchanged" test "$before" = "$(dump)"
unchanged "import: unknown kind" 2 import passwd "$T/htpasswd"

# ---- import htgroup --------------------------------------------------------

{
    echo "# groups"
    echo "staff: imp_bcrypt imp_md5"
    printf 'ops:imp_sha  nosuchuser\timp_sha256\n'
    echo "bad group: imp_sha"
    echo "staff: imp_sha512"
} >"$T/htgroup"
run import htgroup "$T/htgroup"
check "import htgroup: exit 0" test "$rc" = 0
out_has "import htgroup: summary" "refused 2"
err_has "import htgroup: unknown member (line 3)" \
    ':3: group "ops": user "nosuchuser" not found'
err_has "import htgroup: bad group name (line 4)" ":4: invalid group name"
run role show staff --json
check "staff members" test "$(json_get 'd["members"]' <"$T/out")" = \
    "['imp_bcrypt', 'imp_md5', 'imp_sha512']"
run role show ops --json
check "ops members" test "$(json_get 'd["members"]' <"$T/out")" = \
    "['imp_sha', 'imp_sha256']"

# ---- concurrency: writers wait for each other ----------------------------

pids=""
for i in 1 2 3 4 5 6; do
    "$HTAUTHZ" role add "par$i" 2>"$T/par$i.err" &
    pids="$pids $!"
done
pfail=0
for p in $pids; do
    wait "$p" || pfail=1
done
check "six concurrent writers all succeed" test "$pfail" = 0

# ---- a password prompt holds no lock -------------------------------------

# An admin at user add's prompt (or away from it) must not hold up other
# writes, a revocation least of all: the lock is taken once the password
# is typed.
expect 0 "token to revoke while a prompt waits" token issue bob
tid3=$(sed -n 2p "$T/out")
python3 "$PTYJOB" "$T/tty" "expect:New password: " \
    "sh:'$HTAUTHZ' role add during-prompt" \
    "sh:'$HTAUTHZ' token revoke $tid3" \
    "type:wait-pw-1\n" "expect:Re-type new password: " "type:wait-pw-1\n" \
    -- "$HTAUTHZ" user add waiter >"$T/job" 2>&1
# "sh: exit N in S s": both exit 0, before the 5 s a writer waits for
# another would have run out.
if awk '/^sh: /{n++; if ($3 != 0 || $5 >= 4) bad=1}
        END {exit !(n == 2 && !bad)}' "$T/job"; then
    ok "role add and token revoke during a prompt: done at once"
else
    notok "writes during a prompt: $(tr '\n' ' ' <"$T/job")"
fi
check "user added after the other writes" grep -qx "exit 0" "$T/job"
echo "waiter:$(hash_of waiter)" >"$T/verify"
check "the waiting user's password verifies" verify waiter wait-pw-1

# The same with --password-stdin from a pipe that takes its time.
mkfifo "$T/pwfifo"
"$HTAUTHZ" user add stdin-waiter --password-stdin <"$T/pwfifo" \
    >"$T/fifo.out" 2>&1 &
fpid=$!
exec 7>"$T/pwfifo"
sleep 1
start=$(date +%s.%N)
run role add during-stdin
end=$(date +%s.%N)
secs=$(python3 -c "print('%.2f' % ($end - $start))")
check "role add while --password-stdin waits: exit 0 in $secs s" \
    python3 -c "import sys; sys.exit(0 if $rc == 0 and $secs < 4 else 1)"
echo "stdin-pw" >&7
exec 7>&-
wait "$fpid"
check "--password-stdin user added after the other write" test "$?" = 0

# ---- suspended at the prompt ---------------------------------------------

# SIGTSTP at the prompt (Ctrl-Z) gives the terminal its echo back while
# the job is stopped; once continued, echo is off again, the prompt comes
# again, and what was typed before and after counts.
python3 "$PTYJOB" "$T/tty" "expect:New password: " "type:Zq7-part" stop \
    cont "expect:New password: " "type:Xw4-rest\n" \
    "expect:Re-type new password: " "type:Zq7-partXw4-rest\n" \
    -- "$HTAUTHZ" user add suspended >"$T/job" 2>&1
check "Ctrl-Z at the prompt stops the job" grep -qx stopped "$T/job"
check "the prompt is shown again when it continues" \
    test "$(grep -c '^timeout' "$T/job")" = 0
check "no password echoed after the stop" \
    test "$(grep -c -e Zq7 -e Xw4 "$T/tty")" = 0
check "terminal left with echo on" grep -qF "[echo on]" "$T/tty"
check "suspended user added" grep -qx "exit 0" "$T/job"
echo "suspended:$(hash_of suspended)" >"$T/verify"
check "the password typed across the stop verifies" \
    verify suspended Zq7-partXw4-rest

before=$(dump)
python3 "$PTYJOB" "$T/tty" "expect:New password: " "type:Int-part" \
    "signal:INT" \
    -- "$HTAUTHZ" user add interrupted >"$T/job" 2>&1
check "SIGINT at the prompt ends htauthz" grep -qx "exit 130" "$T/job"
check "SIGINT at the prompt: terminal left with echo on" \
    grep -qF "[echo on]" "$T/tty"
check "SIGINT at the prompt: nothing changed" test "$before" = "$(dump)"

# ---- files beside the database -------------------------------------------

# The database's directory belongs to httpd's user (www-data), who can
# plant links there.  htauthz, run as root, must neither follow them nor
# hand what they point to over to the database's owner: it refuses, with
# one line naming the file, and changes nothing.
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
    chmod 711 "$T"
    W=$T/www
    WDB=$W/authz.db
    V=$T/root               # root's own files, out of www-data's reach
    mkdir "$W" "$V"
    chmod 700 "$V"
    "$HTAUTHZ" -d "$WDB" init >/dev/null
    chown -R www-data:www-data "$W"
    as_www() {
        if command -v setpriv >/dev/null; then
            setpriv --reuid=www-data --regid=www-data --clear-groups -- "$@"
        else
            "$@"
        fi
    }
    wdump() {
        sqlite3 "$WDB" .dump
    }
    # planted DESC NAME HOW HTAUTHZ-ARGS...: NAME is made, by www-data, a
    # symlink to root's file, a dangling symlink to where root has no
    # file, or a FIFO; or, by root (protected_hardlinks keeps www-data
    # from it), a hard link to root's file.  htauthz fails naming NAME,
    # root's file keeps its owner, mode and content, nothing is created,
    # and the database is unchanged.
    planted() {
        local desc=$1 name=$2 how=$3 before listing
        shift 3
        rm -f "$name" "$V/target" "$V/new"
        printf "root's own\n" >"$V/target"
        chmod 600 "$V/target"
        before=$(wdump)
        listing=$(ls -A "$W")
        case $how in
            symlink) as_www ln -s "$V/target" "$name" ;;
            dangling) as_www ln -s "$V/new" "$name" ;;
            fifo) as_www mkfifo "$name" ;;
            hardlink) ln "$V/target" "$name" ;;
        esac
        expect 1 "$desc: refused" "$@"
        err_has "$desc: the message names the file" "$name "
        check "$desc: root's file unchanged" test \
            "$(stat -c %U:%G:%a:%h "$V/target"):$(cat "$V/target")" = \
            "root:root:600:$([ "$how" = hardlink ] && echo 2 || echo 1):root's own"
        check "$desc: nothing created where the link points" \
            test ! -e "$V/new"
        rm -f "$name"
        check "$desc: nothing created beside the database" \
            test "$(ls -A "$W")" = "$listing"
        check "$desc: database unchanged" test "$(wdump)" = "$before"
    }
    planted "lock file a symlink to root's file" "$WDB.lock" symlink \
        -d "$WDB" role add "p$n"
    err_has "lock symlink: says why" "is a symbolic link"
    planted "lock file a dangling symlink" "$WDB.lock" dangling \
        -d "$WDB" token revoke 1
    planted "lock file a hard link to root's file" "$WDB.lock" hardlink \
        -d "$WDB" role add "p$n"
    err_has "lock hard link: says why" "more than one hard link"
    planted "lock file a FIFO" "$WDB.lock" fifo -d "$WDB" role add "p$n"
    err_has "lock FIFO: says why" "not a regular file"
    planted "-wal a symlink to root's file" "$WDB-wal" symlink \
        -d "$WDB" role add "p$n"
    planted "-wal a dangling symlink" "$WDB-wal" dangling \
        -d "$WDB" role add "p$n"
    planted "-wal a hard link to root's file" "$WDB-wal" hardlink \
        -d "$WDB" role add "p$n"
    planted "-shm a symlink to root's file" "$WDB-shm" symlink \
        -d "$WDB" role add "p$n"
    planted "-shm a dangling symlink" "$WDB-shm" dangling \
        -d "$WDB" role add "p$n"
    planted "-shm a hard link to root's file" "$WDB-shm" hardlink \
        -d "$WDB" role add "p$n"
    planted "-shm a hard link, read command" "$WDB-shm" hardlink \
        -d "$WDB" user list
    planted "-journal a hard link to root's file" "$WDB-journal" hardlink \
        -d "$WDB" role add "p$n"
    planted "-wal planted before init" "$W/new.db-wal" hardlink \
        -d "$W/new.db" init
    check "init refused: no database created" test ! -e "$W/new.db"

    # The database itself replaced by a link to root's database.
    "$HTAUTHZ" -d "$V/root.db" init >/dev/null
    mv "$WDB" "$W/real.db"
    as_www ln -s "$V/root.db" "$WDB"
    before=$(sqlite3 "$V/root.db" .dump)
    expect 1 "database a symlink to root's database: refused" \
        -d "$WDB" role add "p$n"
    err_has "database symlink: names it" "$WDB is a symbolic link"
    check "root's database unchanged" \
        test "$(sqlite3 "$V/root.db" .dump)" = "$before"
    rm -f "$WDB"
    mv "$W/real.db" "$WDB"

    # An import file planted as a link to a file of root's (/etc/shadow,
    # say) would copy its hashes where www-data reads them.
    htpasswd -nbB shadowed "root-only-pw" | head -1 >"$V/list"
    as_www ln -s "$V/list" "$W/users.htpasswd"
    before=$(wdump)
    expect 1 "import from a symlink: refused" -d "$WDB" import htpasswd \
        "$W/users.htpasswd"
    err_has "import from a symlink: says why" "is a symbolic link"
    check "import from a symlink: database unchanged" \
        test "$(wdump)" = "$before"
    rm -f "$W/users.htpasswd"

    # What is legitimately there still works: the lock is kept owned by
    # the database's owner, and a database reached through a symlinked
    # directory is used.
    expect 0 "write as root beside www-data's files" -d "$WDB" role add fine
    check "lock file owned by the database's owner" \
        test "$(stat -c %U "$WDB.lock")" = www-data
    ln -s "$W" "$T/www-link"
    expect 0 "database through a symlinked directory" \
        -d "$T/www-link/authz.db" role add via-link
else
    ok "files beside the database # skip (needs root and www-data)"
fi

# ---- every stderr line is one line, JSON lists are valid when empty -------

expect 0 "init an empty database" -d "$T/empty.db" init
for what in user role ip token; do
    json_ok "$what list --json on an empty database" -d "$T/empty.db" \
        "$what" list --json
done

# ---- 100,000-line import -------------------------------------------------

h=$(htpasswd -nbB -C 4 u pw | cut -d: -f2)
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("user%06d:%s\n" % (i, sys.argv[2]))' "$T/big" "$h"
expect 0 "init the big database" -d "$T/big.db" init
start=$(date +%s.%N)
run -d "$T/big.db" import htpasswd "$T/big"
end=$(date +%s.%N)
secs=$(python3 -c "print('%.2f' % ($end - $start))")
echo "# import of 100,000 htpasswd lines: $secs s"
check "100,000-line import exit 0" test "$rc" = 0
out_has "100,000 imported" "imported 100000, refused 0"
check "100,000-line import under 10 s ($secs s)" \
    python3 -c "import sys; sys.exit(0 if $secs < 10 else 1)"
check "100,000 users stored" test "$(sqlite3 "$T/big.db" \
    'SELECT count(*) FROM users')" = 100000

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed of $n checks failed"
    exit 1
fi
echo "# all $n checks passed"
exit 0

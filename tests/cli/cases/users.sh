#!/bin/bash
# htauthz user: add (names, passwords, the terminal prompt), passwd,
# disable, enable, expire.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_must init

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
if [ "$CLI_BACKEND" = postgresql ]; then
    # PostgreSQL holds UTF-8 text only: refused, with the reason.
    unchanged "name with a byte that is not UTF-8: refused" 1 \
        user add "$(printf 'lat\xe9')" --password-stdin <<<"pw"
    err_has "... saying why" "not UTF-8"
else
    expect 0 "name with a byte that is not UTF-8" \
        user add "$(printf 'lat\xe9')" --password-stdin <<<"pw"
fi

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
    if db_sql "SELECT 1 FROM users WHERE name = 'ttyuser'" |
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

# ---- user list: the kind of each hash, weak ones marked ----------------------

cat >"$T/kinds.htpasswd" <<'EOF'
k_sha:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=
k_apr1:$apr1$abcdefgh$5VEbMkemELfbhC5ck.U.z1
k_sha512:$6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49dFL1U4wX/
k_sha512r:$6$rounds=1000$abcdefgh$XqwJcW6OI747PCzoKGoK/1tWSlKoh2vkjEp0I.CpQYUGXuxtpSzAi0rXpF1oWR/3/HfvxKLb7xwD0vymBsSv8/
k_sha256:$5$abcdefgh$ijtOJ//yvc/9bq1g0llFn9dB688BwBDRD90DlKKSKE1
EOF
htpasswd -nbB -C 4 k_bcrypt4 pw >>"$T/kinds.htpasswd"
htpasswd -nbB -C 11 k_bcrypt11 pw >>"$T/kinds.htpasswd"
expect 0 "import users of every kind of hash" import htpasswd "$T/kinds.htpasswd"
expect 0 "user list" user list
check "header: NAME STATE EXPIRES ROLES, then HASH last" \
    test "$(head -n 1 "$T/out" | tr -s ' ')" = "NAME STATE EXPIRES ROLES HASH"
kind() { awk -v u="$1" '$1 == u {print $NF}' "$T/out"; }
check "htauthz's own hash: bcrypt/10, not weak" test "$(kind bob)" = "bcrypt/10"
check "{SHA}: sha1, weak" test "$(kind k_sha)" = "sha1!"
check "\$apr1\$: apr1-md5, weak" test "$(kind k_apr1)" = "apr1-md5!"
check "\$6\$ default: sha512-crypt/5000" test "$(kind k_sha512)" = "sha512-crypt/5000"
check "\$6\$ rounds=1000: weak" test "$(kind k_sha512r)" = "sha512-crypt/1000!"
check "\$5\$: sha256-crypt/5000" test "$(kind k_sha256)" = "sha256-crypt/5000"
check "bcrypt cost 4: weak" test "$(kind k_bcrypt4)" = "bcrypt/4!"
check "bcrypt cost 11: not weak" test "$(kind k_bcrypt11)" = "bcrypt/11"
check "columns 1-4 as before: name, state, expiry, roles" \
    test "$(awk '$1 == "carol" {print $2, $3, $4}' "$T/out")" = "disabled 2030-01-31T00:00:00Z -"
check "no hash itself in the listing" test "$(grep -c 'GpHWL3\|\$2y\$' "$T/out")" = 0
json_ok "user list --json" user list --json
check "--json: hash_kind and hash_weak" test "$(json_get \
    '[(u["hash_kind"], u["hash_weak"]) for u in d if u["name"] in ("bob", "k_apr1")]' \
    <"$T/out")" = "[('bcrypt/10', False), ('apr1-md5', True)]"
expect 0 "user show" user show k_sha
out_has "user show: the hash's kind" "hash:        sha1!"
run user show k_bcrypt4 --json
check "user show --json: hash_weak" test "$(json_get 'd["hash_weak"]' <"$T/out")" = True

tap_finish

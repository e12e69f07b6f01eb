#!/bin/bash
# htauthz import htpasswd and htgroup.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_must init

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
check "imported users absent when refused" test "$(db_sql \
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

# ---- progress: on a terminal only -------------------------------------------

if [ "$CLI_BACKEND" != postgresql ]; then
    python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(80000):
        f.write("prog%d:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n" % i)
' "$T/big.htpasswd"
    a=$(date +%s%N)
    python3 "$PTYJOB" "$T/tty" -- "$HTAUTHZ" import htpasswd "$T/big.htpasswd" \
        >"$T/job" 2>&1
    ms=$((($(date +%s%N) - a) / 1000000))
    check "import on a terminal: exit 0" grep -qx "exit 0" "$T/job"
    shown=$(grep -ao 'import: [0-9]* lines, [0-9]* users' "$T/tty" | wc -l)
    echo "# import of 80,000 lines on a terminal: $ms ms, $shown progress updates"
    check "progress shown while it runs (${shown} updates)" test "$shown" -ge 2
    check "at most ten updates a second, and the last (${shown} in ${ms} ms)" \
        test "$shown" -le $((ms / 100 + 2))
    check "each update starts with a carriage return" \
        test "$(grep -ao $'\rimport: ' "$T/tty" | wc -l)" = "$shown"
    check "the last update counts every line, then a new line" \
        grep -aq $'import: 80000 lines, 80000 users\r\n' "$T/tty"
    check "... and the summary follows on a line of its own" \
        grep -aq $'\nimported 80000, refused 0' "$T/tty"
    # Not a terminal: not a byte of it.
    run import htpasswd "$T/big.htpasswd"
    check "import, stderr not a terminal: exit 0" test "$rc" = 0
    check "... and no progress on stderr" test ! -s "$T/err"
    out_has "... the summary as before" "imported 80000, refused 0"
fi

tap_finish

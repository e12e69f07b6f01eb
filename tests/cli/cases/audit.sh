#!/bin/bash
# The audit trail: every write command adds exactly one row (who, the
# command, its names and options, the outcome), a refused one its error
# and nothing else, usage errors none; the rows bump no generation and add
# nothing to the change feed; htauthz audit --since and --json; no
# password, hash or token in the trail; htauthz init upgrades a version 4
# database; --since is fast on 1,000,000 rows (SQLite).
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

me=$(id -un)
unset SUDO_USER

rows() { db_sql "SELECT count(*) FROM audit"; }
# The newest row: user|command|args|outcome.
last_row() {
    db_sql "SELECT sys_user, command, args, outcome FROM audit ORDER BY id DESC LIMIT 1"
}
changes() { db_sql "SELECT count(*) FROM changes"; }

# row STATUS "USER|COMMAND|ARGS|OUTCOME" DESC HTAUTHZ-ARGS...: the command
# exits STATUS and adds exactly one row, which is the one given.
row() {
    local want=$1 expected=$2 desc=$3 n0 n1 got
    shift 3
    n0=$(rows)
    run "$@"
    n1=$(rows)
    got=$(last_row)
    if [ "$rc" -ne "$want" ]; then
        notok "$desc (exit $rc, wanted $want: $(head -c 300 "$T/err"))"
    elif [ "$n1" -ne $((n0 + 1)) ]; then
        notok "$desc ($((n1 - n0)) rows added, wanted 1)"
    elif [ "$got" != "$expected" ]; then
        notok "$desc (row: $got; wanted: $expected)"
    else
        ok "$desc"
    fi
}

# norow DESC STATUS HTAUTHZ-ARGS...: exits STATUS, adds no row.
norow() {
    local desc=$1 want=$2 n0
    shift 2
    n0=$(rows)
    run "$@"
    if [ "$rc" -eq "$want" ] && [ "$(rows)" -eq "$n0" ]; then ok "$desc"
    else notok "$desc (exit $rc, rows $n0 -> $(rows))"; fi
}

# ---- one row a write ---------------------------------------------------------

cli_must init
check "init: one row, create" \
    test "$(last_row)" = "$me|init|create version=5|ok"
check "init on a current database adds none" \
    test "$(cli_must init; rows)" = 1

row 0 "$me|user add|bob|ok" "user add" \
    user add bob --password-stdin <<<"bob-pw"
SUDO_USER=alice row 0 \
    "alice|user add|carol --expires 2030-01-31T00:00:00Z --disabled|ok" \
    "SUDO_USER=alice: the row says alice; --expires as a UTC time" \
    user add carol --password-stdin --expires 2030-01-31 --disabled \
    <<<"carol-pw"
row 0 "$me|user passwd|bob|ok" "user passwd" \
    user passwd bob --password-stdin <<<"bob-pw-2"
row 0 "$me|user disable|carol|ok" "user disable" user disable carol
row 0 "$me|user enable|carol|ok" "user enable" user enable carol
row 0 "$me|user expire|carol 2031-02-03T04:05:06Z|ok" "user expire" \
    user expire carol 2031-02-03T04:05:06Z
row 0 "$me|user expire|carol never|ok" "user expire never" \
    user expire carol never
row 0 "$me|role add|admin|ok" "role add" role add admin
row 0 "$me|role add|viewer|ok" "role add (another)" role add viewer
row 0 "$me|role grant|viewer docs:read docs:list|ok" "role grant" \
    role grant viewer docs:read docs:list
row 0 "$me|role revoke|viewer docs:list|ok" "role revoke" \
    role revoke viewer docs:list
row 0 "$me|role inherit|admin viewer|ok" "role inherit" \
    role inherit admin viewer
row 0 "$me|user grant|bob admin|ok" "user grant" user grant bob admin
row 0 "$me|user revoke|bob admin|ok" "user revoke" user revoke bob admin
row 0 "$me|user grant|bob admin viewer|ok" "user grant, two roles: one row" \
    user grant bob admin viewer
row 0 "$me|role disinherit|admin viewer|ok" "role disinherit" \
    role disinherit admin viewer
row 0 "$me|token issue|bob --expires 2030-01-31T00:00:00Z --scope docs:read --label \"ci job\" id=1|ok" \
    "token issue: scopes, label quoted, the id, never the token" \
    token issue bob --expires 2030-01-31 --scope docs:read --label "ci job"
tok1=$(head -n 1 "$T/out")
row 0 "$me|token revoke|1|ok" "token revoke" token revoke 1
row 0 "$me|ip block|192.0.2.0/24 --reason \"from the test\"|ok" "ip block" \
    ip block 192.0.2.0/24 --reason "from the test"
row 0 "$me|ip unblock|192.0.2.0/24|ok" "ip unblock" ip unblock 192.0.2.0/24
printf 'dave:%s\nerin:%s\nbad line\n' "$(htpasswd -nbB -C 4 dave dave-pw | cut -d: -f2)" \
    '{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=' >"$T/users.htpasswd"
row 0 "$me|import htpasswd|$T/users.htpasswd imported=2 updated=0 refused=1|ok" \
    "import htpasswd: the file and the counts" import htpasswd "$T/users.htpasswd"
printf 'ops: dave erin nobody\n' >"$T/groups"
row 0 "$me|import htgroup|$T/groups groups=1 new_roles=1 new_members=2 refused=1|ok" \
    "import htgroup: the file and the counts" import htgroup "$T/groups"
row 0 "$me|role del|ops|ok" "role del" role del ops
row 0 "$me|user del|erin|ok" "user del" user del erin

# ---- refusals: their row, and nothing else ----------------------------------

g0=$(gen)
c0=$(changes)
before=$(dump)
row 1 "$me|user del|nobody|error: user \"nobody\" not found" \
    "user del of an unknown user: its error" user del nobody
row 1 "$me|user add|bob|error: user \"bob\" already exists" \
    "user add of an existing user (refused before the password)" \
    user add bob --password-stdin <<<"whatever-pw"
row 1 "$me|token revoke|999|error: token 999 not found" \
    "token revoke of an unknown token" token revoke 999
row 1 "$me|user passwd|bob|error: no password on standard input" \
    "user passwd without a password: its error" \
    user passwd bob --password-stdin </dev/null
row 1 "$me|ip unblock|198.51.100.0/24|error: 198.51.100.0/24 is not on the blocklist" \
    "ip unblock of a range not blocked" ip unblock 198.51.100.0/24
row 1 "$me|token issue|bob --scope docs:write|error: user \"bob\" does not hold permission \"docs:write\" (a token's scopes are a subset of its user's permissions)" \
    "token issue beyond the user's permissions" token issue bob --scope docs:write
check "refusals changed nothing else" test "$(dump)" = "$before"
check "audit rows bump no generation" test "$(gen)" = "$g0"
check "audit rows add nothing to the change feed" test "$(changes)" = "$c0"

norow "usage error (unknown option): no row" 2 user del bob --bogus
norow "usage error (malformed WHEN): no row" 2 user expire bob tomorrow
norow "invalid name, refused before the database: no row" 1 user add "a:b" \
    --password-stdin <<<"pw"
norow "a file that cannot be read: no row" 1 import htpasswd "$T/nope"
norow "read commands: no row" 0 user list
norow "htauthz audit itself: no row" 0 audit

# A successful write and its row stand or fall together: with the audit
# table gone, the write is refused and nothing changes.
if [ "$CLI_BACKEND" != postgresql ]; then
    cp "$DB" "$T/noaudit.db"
    sqlite3 "$T/noaudit.db" "DROP TABLE audit"
    g1=$(sqlite3 "$T/noaudit.db" "SELECT value FROM meta WHERE key = 'generation'")
    run -d "$T/noaudit.db" role add orphan
    check "no audit table: the write fails" test "$rc" = 1
    check "... and is rolled back" test "$(sqlite3 "$T/noaudit.db" \
        "SELECT count(*) FROM roles WHERE name = 'orphan'")" = 0
    check "... generation unchanged" test "$(sqlite3 "$T/noaudit.db" \
        "SELECT value FROM meta WHERE key = 'generation'")" = "$g1"
fi

# ---- htauthz audit: text, --json, --since -------------------------------------

expect 0 "audit" audit
check "text: a header, then one line a row" \
    test "$(($(wc -l <"$T/out") - 1))" = "$(rows)"
check "text: tab-separated, seven columns" \
    awk -F'\t' 'NF != 7 {exit 1}' "$T/out"
check "text: oldest first" \
    awk -F'\t' 'NR > 1 && $1 <= prev {exit 1} NR > 1 {prev = $1}' "$T/out"
out_has "text: the refusal is there" 'error: user "nobody" not found'

odd=$(printf 'q"b\\s\t-\xc3\xa9')
run role add "$odd"     # refused (a tab): nothing reaches the database
odd=$(printf 'q"b\\s-\xc3\xa9')
row 0 "$me|role add|\"q\\\"b\\\\s-é\"|ok" "a name with quote, backslash, UTF-8: quoted" \
    role add "$odd"
if [ "$CLI_BACKEND" != postgresql ]; then
    row 0 "$me|user add|\"x\\xffy\"|ok" "a name that is not UTF-8: \\xHH" \
        user add "$(printf 'x\xffy')" --password-stdin <<<"pw-ff"
fi
json_lines() {   # every line of $T/out is a JSON object; prints how many
    python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    assert set(d) == {"id", "time", "user", "db_role", "command", "args",
                      "outcome"}, d
    n += 1
print(n)' "$T/out"
}
expect 0 "audit --json" audit --json
check "--json: JSON Lines, one object a row, all parsed" \
    test "$(json_lines)" = "$(rows)"
check "--json: the quoted name as recorded" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert any(r["args"] == "\"q\\\"b\\\\s-\u00e9\"" for r in rows)
assert rows[0]["command"] == "init" and rows[0]["outcome"] == "ok"
assert rows[1]["user"] == sys.argv[2] and rows[2]["user"] == "alice"
' "$T/out" "$me"

# --since: the first rows moved ten days back.
n_all=$(rows)
db_sql "UPDATE audit SET at = at - 864000 WHERE id <= 5" >/dev/null
expect 0 "audit --since 1d" audit --since 1d
check "--since 1d: the rows of the last day only" \
    test "$(($(wc -l <"$T/out") - 1))" = "$((n_all - 5))"
expect 0 "audit --since 2000-01-01 --json" audit --since 2000-01-01 --json
check "--since a date: every row" test "$(json_lines)" = "$n_all"
expect 0 "audit --since=20d" audit --since=20d
check "--since 20d: every row" test "$(($(wc -l <"$T/out") - 1))" = "$n_all"
expect 0 "audit --since a date to come" audit --since 2999-01-01
check "--since the future: the header alone" test "$(wc -l <"$T/out")" = 1
expect 2 "--since never is refused" audit --since never
expect 2 "--since soon is refused" audit --since soon
expect 2 "audit takes no operand" audit bob

# ---- no secret in the trail --------------------------------------------------

pw_add="Pw-Add-$RANDOM-Zq81"
pw_passwd="Pw-Passwd-$RANDOM-Kx27"
pw_import="Pw-Import-$RANDOM-Jw55"
cli_must user add secretive --password-stdin <<<"$pw_add"
cli_must user passwd secretive --password-stdin <<<"$pw_passwd"
cli_must user add secretive2 --password-stdin <<<"$pw_add"
run token issue secretive --label "sec"
tok2=$(head -n 1 "$T/out")
htpasswd -nbB -C 4 imported "$pw_import" >"$T/secret.htpasswd"
htpasswd -nbs imported2 "$pw_import" >>"$T/secret.htpasswd"
cli_must import htpasswd "$T/secret.htpasswd"
run token issue imported
tok3=$(head -n 1 "$T/out")
if [ "$CLI_BACKEND" = postgresql ]; then
    db_sql "SELECT * FROM audit" >"$T/trail"
else
    sqlite3 "$DB" "SELECT * FROM audit" >"$T/trail"
fi
leaks=""
for s in "$pw_add" "$pw_passwd" "$pw_import" "$tok1" "$tok2" "$tok3" \
         "bob-pw-2" "dave-pw"; do
    grep -qF -- "$s" "$T/trail" && leaks="$leaks secret:${s:0:6}..."
done
db_sql "SELECT hash FROM users" >"$T/hashes"
check "there are hashes to look for" test "$(wc -l <"$T/hashes")" -ge 6
while IFS= read -r h; do
    grep -qF -- "$h" "$T/trail" && leaks="$leaks hash:${h:0:7}..."
    # and the part after the salt alone
    grep -qF -- "${h: -20}" "$T/trail" && leaks="$leaks hash-tail:${h:0:7}..."
done <"$T/hashes"
check "the audit trail holds no password, token or hash${leaks}" test -z "$leaks"
check "the trail names the import file, not its lines" \
    grep -qF "import htpasswd|$T/secret.htpasswd imported=2" "$T/trail"
if [ "$CLI_BACKEND" != postgresql ]; then
    leaks=""
    for s in "$pw_add" "$pw_passwd" "$pw_import" "$tok1" "$tok2" "$tok3"; do
        cat "$DB" "$DB-wal" 2>/dev/null | grep -qaF -- "$s" \
            && leaks="$leaks ${s:0:6}..."
    done
    check "no password or token in the database file or its -wal${leaks}" \
        test -z "$leaks"
fi

# ---- a version 4 database -------------------------------------------------------

if [ "$CLI_BACKEND" = postgresql ]; then
    db_sql "DROP TABLE audit; UPDATE meta SET value = 4 WHERE key = 'schema_version'" >/dev/null
    g4=$(gen)
    expect 1 "a version 4 database is refused until upgraded" user list
    err_has "... saying so" "schema version 4, this build knows 5"
    expect 0 "init upgrades it" init
    out_has "... and says so" "upgraded to schema version 5"
    check "... with its row" test "$(last_row)" = "$me|init|upgrade from=4 to=5|ok"
    check "... an audit row is the first there" test "$(rows)" = 1
    check "... naming PostgreSQL's role too" test \
        "$(db_sql "SELECT db_role FROM audit")" = postgres
    check "... httpd's role may not read the trail" test \
        "$(db_sql "SELECT has_table_privilege('authz_status_reader', 'audit', 'SELECT')")" = f
    check "... htauthz's role may add rows, not change them" test \
        "$(db_sql "SELECT has_table_privilege('authz_status_writer', 'audit', 'INSERT'), has_table_privilege('authz_status_writer', 'audit', 'UPDATE')")" = "t|f"
    check "... the generation is kept" test "$(gen)" = "$g4"
    expect 0 "user list after the upgrade" user list
    tap_finish
fi

cp "$DB" "$T/v4.db"
sqlite3 "$T/v4.db" "DROP TABLE audit; PRAGMA user_version = 4"
g4=$(sqlite3 "$T/v4.db" "SELECT value FROM meta WHERE key = 'generation'")
expect 1 "a version 4 file is refused until upgraded" -d "$T/v4.db" user list
err_has "... saying so" "schema version 4, this build knows 5"
expect 0 "init upgrades it" -d "$T/v4.db" init
out_has "... and says so" "upgraded to schema version 5"
check "... version 5" test "$(sqlite3 "$T/v4.db" 'PRAGMA user_version')" = 5
check "... its row" test "$(sqlite3 "$T/v4.db" \
    "SELECT sys_user, command, args, outcome FROM audit")" \
    = "$me|init|upgrade from=4 to=5|ok"
check "... the generation is kept (no cache forgets anything)" \
    test "$(sqlite3 "$T/v4.db" "SELECT value FROM meta WHERE key = 'generation'")" = "$g4"
check "... the same schema as a new file" test \
    "$(sqlite3 "$T/v4.db" "SELECT sql FROM sqlite_master WHERE name LIKE 'audit%' ORDER BY name")" = \
    "$(sqlite3 "$DB" "SELECT sql FROM sqlite_master WHERE name LIKE 'audit%' ORDER BY name")"
expect 0 "a write after the upgrade" -d "$T/v4.db" role add after-upgrade

# ---- 1,000,000 rows ---------------------------------------------------------------

big=$T/big.db
cli_must -d "$big" init
now=$(date +%s)
t0=$(date +%s.%N)
sqlite3 "$big" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO audit (at, sys_user, command, args, outcome)
SELECT $now - 2000000 + 2 * i, 'bulk', 'user add', 'user' || i || ' --expires 2030-01-31T00:00:00Z', 'ok' FROM n"
t1=$(date +%s.%N)
echo "# 1,000,000 rows inserted in $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s"
check "1,000,001 rows" test "$(sqlite3 "$big" 'SELECT count(*) FROM audit')" = 1000001
# The newest rows: the bulk's last 50 (100 s) and init's.
elapsed() {   # elapsed HTAUTHZ-ARGS...: seconds, output to $T/out
    local a b
    a=$(date +%s.%N)
    "$HTAUTHZ" -d "$big" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    b=$(date +%s.%N)
    echo "$b - $a" | bc
}
s=$(elapsed audit --since 100s)
echo "# htauthz audit --since 100s on 1,000,001 rows: $s s ($(($(wc -l <"$T/out") - 1)) rows)"
check "--since 100s: exit 0" test "$rc" = 0
check "--since 100s: the recent rows only" test "$(($(wc -l <"$T/out") - 1))" -le 52
check "--since 100s: well under a second ($s s)" test "$(echo "$s < 0.5" | bc)" = 1
s=$(elapsed audit --since 100s --json)
echo "# htauthz audit --since 100s --json: $s s"
check "--since --json: well under a second ($s s)" test "$(echo "$s < 0.5" | bc)" = 1
a=$(date +%s.%N)
"$HTAUTHZ" -d "$big" audit >/dev/null 2>"$T/err"
rc=$?
s=$(echo "$(date +%s.%N) - $a" | bc)
echo "# htauthz audit > /dev/null, 1,000,001 rows: $s s"
check "full audit: exit 0" test "$rc" = 0
check "full audit: a few seconds ($s s)" test "$(echo "$s < 8" | bc)" = 1
a=$(date +%s.%N)
"$HTAUTHZ" -d "$big" audit --json >/dev/null 2>"$T/err"
s=$(echo "$(date +%s.%N) - $a" | bc)
echo "# htauthz audit --json > /dev/null, 1,000,001 rows: $s s"
check "full audit --json: a few seconds ($s s)" test "$(echo "$s < 8" | bc)" = 1
s=$(elapsed role add after-bulk)
echo "# a write beside 1,000,001 rows: $s s"
check "a write is not slowed by the trail ($s s)" test "$(echo "$s < 1" | bc)" = 1

tap_finish

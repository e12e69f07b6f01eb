#!/bin/bash
# htauthz migrate FILE URL: a SQLite database copied into a real, empty
# PostgreSQL database (started here on a unix socket, tests/lib_pg.sh):
# every row, hash, token hash and range the same; the schema made there
# first; the feed and credential versions working there; a second migrate,
# a password in the URL, a missing file or an unreachable server refused
# with one line, changing nothing.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"
# shellcheck source=../../lib_pg.sh
. "$(dirname "$0")/../../lib_pg.sh"

if ! pg_need; then
    echo "1..0 # SKIP PostgreSQL (postgresql-15) is not installed"
    exit 77
fi
if "$HTAUTHZ" migrate 2>&1 | grep -q "without PostgreSQL support"; then
    echo "1..0 # SKIP htauthz was built without libpq"
    exit 77
fi
chmod 755 "$T"
pg_start "$T/pg" || { echo "Bail out! PostgreSQL did not start"; exit 99; }
trap 'pg_stop; rm -rf "$T"' EXIT

cli_users
cli_roles
cli_must token issue bob --scope docs:read --label "ci job" --expires 30d
cli_must token issue dave
cli_must token revoke 2
cli_must ip block 192.0.2.0/24 --reason "migrate test"
cli_must ip block 2001:db8::/48 --expires 30d

pg_sql postgres "CREATE DATABASE azs" >/dev/null
url=$(pg_url azs)

expect 0 "migrate into an empty database" migrate "$DB" "$url"
out_has "it says what it copied" \
    "migrated 5 users, 3 roles, 3 permissions, 2 tokens, 2 blocklist entries"

# Each table, row for row: SQLite's text against PostgreSQL's.
same() {   # same DESC SQLITE-SQL PG-SQL
    local a b
    a=$(sqlite3 -separator '|' "$DB" "$2")
    b=$(pg_sql azs "$3")
    if [ "$a" = "$b" ] && [ -n "$a" ]; then ok "$1"
    else notok "$1 (sqlite: $(head -c 200 <<<"$a") / postgresql: $(head -c 200 <<<"$b"))"; fi
}
same "users: id, name, hash, state, expiry, times" \
    "SELECT id, name, hash, disabled, expires, created, updated FROM users ORDER BY id" \
    "SELECT id, name, hash, disabled, expires, created, updated FROM users ORDER BY id"
same "roles" "SELECT id, name FROM roles ORDER BY id" \
    "SELECT id, name FROM roles ORDER BY id"
same "inheritance" "SELECT role_id, parent_id FROM role_inherits ORDER BY 1, 2" \
    "SELECT role_id, parent_id FROM role_inherits ORDER BY 1, 2"
same "grants" "SELECT role_id, perm_id FROM role_permissions ORDER BY 1, 2" \
    "SELECT role_id, perm_id FROM role_permissions ORDER BY 1, 2"
same "permissions" "SELECT id, name FROM permissions ORDER BY id" \
    "SELECT id, name FROM permissions ORDER BY id"
same "memberships" "SELECT user_id, role_id FROM user_roles ORDER BY 1, 2" \
    "SELECT user_id, role_id FROM user_roles ORDER BY 1, 2"
same "tokens: id, SHA-256, user, label, times, revocation" \
    "SELECT id, lower(hex(hash)), user_id, label, created, expires, revoked FROM tokens ORDER BY id" \
    "SELECT id, encode(hash, 'hex'), user_id, label, created, expires, revoked FROM tokens ORDER BY id"
same "token scopes" "SELECT token_id, perm FROM token_scopes ORDER BY 1, 2" \
    "SELECT token_id, perm FROM token_scopes ORDER BY 1, 2"
same "blocklist: ranges, reasons, expiry" \
    "SELECT id, lower(hex(net)), bits, text, reason, created, expires FROM blocklist ORDER BY id" \
    "SELECT id, encode(net, 'hex'), bits, text, reason, created, expires FROM blocklist ORDER BY id"
check "the audit trail: every row, in order, then the migrate's own" \
    test "$(pg_sql azs "SELECT string_agg(sys_user || ' ' || command || ' ' || args || ' ' || outcome, ',' ORDER BY id) FROM audit")" \
    = "$(sqlite3 "$DB" "SELECT group_concat(r, ',') FROM (SELECT sys_user || ' ' || command || ' ' || args || ' ' || outcome AS r FROM audit ORDER BY id)"),$(id -un) migrate $DB users=5 roles=3 permissions=3 tokens=2 blocks=2 audit_rows=$(sqlite3 "$DB" "SELECT count(*) FROM audit") ok"
check "... times kept" test "$(pg_sql azs "SELECT min(at) FROM audit")" \
    = "$(sqlite3 "$DB" "SELECT min(at) FROM audit")"
check "every user has a credential version there" \
    test "$(pg_sql azs "SELECT count(*) FROM users WHERE cred > 0")" = 5
check "the schema version is $(sqlite3 "$DB" 'PRAGMA user_version')" \
    test "$(pg_sql azs "SELECT value FROM meta WHERE key = 'schema_version'")" \
    = "$(sqlite3 "$DB" 'PRAGMA user_version')"

# The copy goes on working there: new ids after the copied ones, the feed
# and a new credential version on a change.
cred0=$(pg_sql azs "SELECT cred FROM users WHERE name = 'bob'")
seq0=$(pg_sql azs "SELECT max(seq) FROM changes")
check "a user added there takes the next id" \
    test "$(pg_sql azs "INSERT INTO users (name, hash, created, updated) VALUES ('new', 'h', 1, 1) RETURNING id")" = 6
pg_sql azs "UPDATE users SET disabled = 1 WHERE name = 'bob'" >/dev/null
check "a change to bob draws a new credential version" \
    test "$(pg_sql azs "SELECT cred FROM users WHERE name = 'bob'")" != "$cred0"
check "... and adds feed rows naming new and bob" \
    test "$(pg_sql azs "SELECT string_agg(key, ',' ORDER BY seq) FROM changes WHERE seq > $seq0 AND kind = 1")" = "new,bob"
pg_sql azs "ALTER TABLE users DISABLE TRIGGER ALL; DELETE FROM users WHERE name = 'new'; ALTER TABLE users ENABLE TRIGGER ALL" >/dev/null

# Refused, changing nothing there.
pgdump() { pg_sql azs "SELECT count(*), string_agg(name || hash, ',' ORDER BY id) FROM users"; }
before=$(pgdump)
expect 1 "a second migrate into the same database" migrate "$DB" "$url"
err_has "it says the database is not empty" "is not empty"
expect 2 "a password in the URL" migrate "$DB" \
    "postgresql://postgres:secret-pw@/azs?host=$PG_SOCK"
check "the password is not repeated" \
    test "$(grep -c secret-pw "$T/err")" = 0
expect 2 "a password as key=value" migrate "$DB" \
    "host=$PG_SOCK dbname=azs user=postgres password=kv-secret"
expect 1 "a missing SQLite file" migrate "$T/nope.db" "$url"
expect 1 "a database that does not exist" migrate "$DB" "$(pg_url nope)"
err_has "libpq's reason, on one line" "PostgreSQL: cannot connect"
expect 2 "not a connection string" migrate "$DB" "host='unclosed"
expect 2 "one operand only" migrate "$DB"
check "PostgreSQL unchanged by the refusals" test "$(pgdump)" = "$before"

# A row PostgreSQL refuses half-way (a name that is not UTF-8, which
# SQLite takes): nothing is left there, not even the schema.
cp "$DB" "$T/bad.db"
sqlite3 "$T/bad.db" "INSERT INTO users (name, hash, created, updated) VALUES (CAST(x'7aff' AS TEXT), 'h', 1, 1)"
pg_sql postgres "CREATE DATABASE azs3" >/dev/null
expect 1 "a name that is not UTF-8" migrate "$T/bad.db" "$(pg_url azs3)"
err_has "it says which table" "copying users"
check "... and leaves nothing there, not even the schema" \
    test "$(pg_sql azs3 "SELECT to_regclass('meta') IS NULL")" = t

# A database that holds the schema already (made by hand, empty) is used
# as it is.
pg_sql postgres "CREATE DATABASE azs2" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d azs2 \
    -f "$(dirname "$0")/../../../sql/postgresql/schema.sql" >/dev/null 2>&1
expect 0 "migrate into a database made with sql/postgresql/schema.sql" \
    migrate "$DB" "$(pg_url azs2)"
check "... every user there" \
    test "$(pg_sql azs2 "SELECT count(*) FROM users")" = 5

tap_finish

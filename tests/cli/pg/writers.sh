#!/bin/bash
# PostgreSQL: writers take turns on a row lock (the generation's row in
# meta), not flock: a writer waits for another transaction that holds it,
# gives up after 5 s with "database is locked" and changes nothing; four
# writers at once lose nothing, and every change has its feed row.
# Run by tests/cli/postgresql.sh (CLI_BACKEND=postgresql).
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"
if [ "$CLI_BACKEND" != postgresql ]; then
    echo "1..0 # SKIP PostgreSQL only (run by tests/cli/postgresql.sh)"
    exit 77
fi
cli_must init

hold() {   # hold SECONDS: a transaction holding the writers' row lock
    pg_sql azs "BEGIN; SELECT value FROM meta WHERE key = 'generation'
        FOR UPDATE; SELECT pg_sleep($1); COMMIT" >/dev/null &
    holder=$!
    sleep 0.3
}

hold 1.5
t0=$(date +%s%N)
expect 0 "a writer waits for the row lock" role add waited
t1=$(date +%s%N)
wait "$holder"
check "... about as long as it was held ($(( (t1 - t0) / 1000000 )) ms)" \
    test $(( (t1 - t0) / 1000000 )) -ge 900
check "... and its change is there" test "$(db_sql \
    "SELECT count(*) FROM roles WHERE name = 'waited'")" = 1

hold 8
t0=$(date +%s%N)
unchanged "a writer gives up while the lock is held" 1 role add blocked
t1=$(date +%s%N)
err_has "... saying the database is locked" "database is locked"
check "... after about 5 s ($(( (t1 - t0) / 1000000 )) ms)" \
    test $(( (t1 - t0) / 1000000 )) -ge 4500 -a $(( (t1 - t0) / 1000000 )) -le 7000
wait "$holder"

feed0=$(db_sql "SELECT count(*) FROM changes WHERE kind = 2")
for w in 1 2 3 4; do
    (for i in $(seq 1 25); do
        "$HTAUTHZ" role add "w$w-$i" >/dev/null 2>>"$T/writers.err" || echo fail
    done) > "$T/writers.$w" &
done
wait
check "four writers at once: no command failed ($(cat "$T"/writers.* | wc -l) failures)" \
    test -z "$(cat "$T"/writers.*)"
check "... 100 roles made" test "$(db_sql \
    "SELECT count(*) FROM roles WHERE name LIKE 'w_-%'")" = 100
check "... 100 feed rows for them" test "$(( $(db_sql \
    "SELECT count(*) FROM changes WHERE kind = 2") - feed0 ))" = 100
# An import that meets a unique key on every line (the users are there
# already: each INSERT fails, then an UPDATE) must not pile up open
# subtransactions: 2,000 such lines took 39 s so, 1 s without.
python3 - "$T/again.htpasswd" <<'PY'
import base64, hashlib, sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        h = base64.b64encode(hashlib.sha1(b"pw-%d" % i).digest()).decode()
        f.write("again%d:{SHA}%s\n" % (i, h))
PY
expect 0 "import 2,000 users" import htpasswd "$T/again.htpasswd"
t0=$(date +%s%N)
expect 0 "import them again (every INSERT meets the unique key)" \
    import htpasswd "$T/again.htpasswd"
t1=$(date +%s%N)
check "... in under 10 s ($(( (t1 - t0) / 1000000 )) ms)" \
    test $(( (t1 - t0) / 1000000 )) -lt 10000
check "... 2,000 users, no more" test "$(db_sql \
    "SELECT count(*) FROM users WHERE name LIKE 'again%'")" = 2000
tap_finish

#!/bin/bash
# Reliability: concurrent htauthz writers while httpd reads (the
# SQLite 3.40 WAL-reset bug needs two writers or checkpointers at once, so
# htauthz serializes its writers with flock on DB.lock and BEGIN IMMEDIATE,
# busy timeout 5 s, and httpd only reads).  REL_WRITERS (default 4)
# processes x REL_WRITER_CHANGES (default 30) changes each, at once, while
# load clients read: every command succeeds, every change is there (0
# lost), integrity ok, httpd keeps answering 200.  Then, with DB.lock held
# by another process (`flock DB.lock sleep 8`), a write waits, fails with a
# one-line "busy" message and exit 1 within 4-7 s, and changes nothing.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
LOADGEN=$AZS_IT_DIR/../reliability/loadgen.py
[ -f "$LOADGEN" ] || _azs_die "missing $LOADGEN"
nw=${REL_WRITERS:-4} nc=${REL_WRITER_CHANGES:-30}
command -v flock >/dev/null || { echo "# SKIP: no flock(1)"; exit 77; }

azs_db_init
azs_user_add reader 'Writers-reader-pw-zq7'
hz role add staff
hz role grant staff docs:read
hz user grant reader staff
printf '[{"name":"reader","auth":"Basic %s","path":"/docs/a.txt","expect":200}]\n' \
    "$(printf 'reader:Writers-reader-pw-zq7' | base64 -w 0)" > "$AZS_ROOT/spec.json"
azs_loc_docs | azs_conf
azs_start || azs_bail "httpd starts"

stop=$AZS_ROOT/load.stop out=$AZS_ROOT/load.json
"$AZS_PYTHON" "$LOADGEN" --port "$AZS_PORT" --spec "$AZS_ROOT/spec.json" \
    --clients 4 --mode mixed --retry-stale --pace 0.05 --stop "$stop" \
    --max-seconds 120 --out "$out" >/dev/null &
load=$!

# writer W: NC changes: odd J adds role wW_J, even J grants role wW_(J-1)
# a permission, except every tenth J, which deletes role wW_(J-1) again.
writer() {
    local w=$1 j rc fails=0
    for j in $(seq 1 "$nc"); do
        if [ $((j % 10)) = 0 ]; then
            "$HTAUTHZ" -d "$AZS_DB" role del "w${w}_$((j - 1))"
        elif [ $((j % 2)) = 1 ]; then
            "$HTAUTHZ" -d "$AZS_DB" role add "w${w}_$j"
        else
            "$HTAUTHZ" -d "$AZS_DB" role grant "w${w}_$((j - 1))" "p${w}_$j"
        fi >/dev/null 2>>"$AZS_ROOT/fail.$w"
        rc=$?
        [ "$rc" = 0 ] || fails=$((fails + 1))
    done
    echo "$fails" > "$AZS_ROOT/fails.$w"
}
t0=$(date +%s%N)
pids=()
for w in $(seq 1 "$nw"); do
    writer "$w" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
azs_db_fixperms
touch "$stop"
wait "$load"
fails=0
for w in $(seq 1 "$nw"); do
    fails=$((fails + $(cat "$AZS_ROOT/fails.$w" 2>/dev/null || echo 999)))
done
# Expected per writer: one role per odd J, minus one per tenth J.
exp_roles=0
for j in $(seq 1 "$nc"); do
    [ $((j % 2)) = 1 ] && exp_roles=$((exp_roles + 1))
    [ $((j % 10)) = 0 ] && exp_roles=$((exp_roles - 1))
done
exp_perms=0
for j in $(seq 1 "$nc"); do
    [ $((j % 2)) = 0 ] && [ $((j % 10)) != 0 ] && exp_perms=$((exp_perms + 1))
done
exp_perms=$((exp_perms * nw))
exp_roles=$((exp_roles * nw))
got_roles=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM roles WHERE name GLOB 'w*_*'")
field() { "$AZS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$out" "$1" 2>/dev/null; }
printf '# writers[%s]: %d writers x %d changes in %d ms (%s changes/s), %d CLI failures, %s reads (%s failed) meanwhile\n' \
    "$AZS_MPM" "$nw" "$nc" "$ms" \
    "$(awk -v n=$((nw * nc)) -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')" \
    "$fails" "$(field requests)" "$(field failed)"
if [ "$fails" = 0 ]; then
    _azs_ok "all $((nw * nc)) concurrent CLI commands succeeded"
else
    _azs_not_ok "all $((nw * nc)) concurrent CLI commands succeeded" \
        "$(cat "$AZS_ROOT"/fail.* | head -n 10)"
fi
expect_true "0 lost changes: $got_roles writer roles (expected $exp_roles)" \
    test "$got_roles" = "$exp_roles"
got_perms=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id WHERE r.name GLOB 'w*_*'")
expect_true "0 lost changes: $got_perms writer grants (expected $exp_perms)" \
    test "$got_perms" = "$exp_perms"
ic=$(sqlite3 -readonly "$AZS_DB" 'PRAGMA integrity_check' 2>&1)
expect_true "PRAGMA integrity_check: $ic" test "$ic" = ok
# Each write empties the login caches, so most reads cost a bcrypt hash,
# which runs at idle priority beside the writers (README, "Password hashes
# under load"): the count shows reads went on, not how fast.
expect_true "httpd answered reads meanwhile ($(field requests) >= 10)" \
    test "$(field requests)" -ge 10
expect_true "0 failed reads ($(field failed))" test "$(field failed)" = 0

# ---- DB.lock held by another process ---------------------------------------------
before=$(sqlite3 -readonly "$AZS_DB" .dump | md5sum)
flock "$AZS_DB.lock" sleep 8 &
holder=$!
# Time the write only once the lock is really held.
for _ in $(seq 1 100); do
    flock -n "$AZS_DB.lock" true || break
    sleep 0.05
done
expect_true "another process holds DB.lock" eval '! flock -n "$AZS_DB.lock" true'
t0=$(date +%s%N)
err=$("$HTAUTHZ" -d "$AZS_DB" role add blocked 2>&1 >/dev/null)
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
printf '# writers[%s]: with DB.lock held: exit %d after %d ms: %s\n' "$AZS_MPM" "$rc" "$ms" "$err"
expect_true "locked: the write fails with exit 1 (got $rc)" test "$rc" = 1
expect_true "locked: it waited, and gave up within 4-7 s ($ms ms)" \
    test "$ms" -ge 4000 -a "$ms" -le 7000
expect_true "locked: one line on stderr ($(printf '%s\n' "$err" | wc -l))" \
    test "$(printf '%s\n' "$err" | wc -l)" = 1
expect_true "locked: the line says busy/locked" \
    eval 'printf "%s\n" "$err" | grep -Eqi "busy|locked"'
after=$(sqlite3 -readonly "$AZS_DB" .dump | md5sum)
expect_true "locked: nothing changed (.dump identical)" test "$before" = "$after"
http_req -u 'reader:Writers-reader-pw-zq7' /docs/a.txt
expect_status 200 "httpd serves while DB.lock is held (it never takes it)"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
out2=$("$HTAUTHZ" -d "$AZS_DB" role add blocked 2>&1)
expect_true "lock released: the same write succeeds ($out2)" \
    test "$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM roles WHERE name = 'blocked'")" = 1
azs_done

#!/bin/bash
# Reliability: htauthz churn while httpd serves
# (tests/reliability/README.md).
# Eight load clients send valid requests as users the churn never touches,
# while htauthz makes REL_CHURN_CHANGES (default 150) changes to OTHER users,
# roles, grants, permissions, passwords and tokens -- including grants of the
# very permission the valid users rely on, to churn roles.  Figures: non-2xx
# answers to valid users (must be 0), CLI failures (0), PRAGMA
# integrity_check (ok), the final state (0 lost changes) and the largest
# -wal file seen (bounded by REL_WAL_MAX_KB, default 8192).  On a slow or
# busy machine the churn stops after REL_CHURN_MAX_SECONDS (40) and says how
# many changes it made (at least 50 required).
# tests/reliability/run.sh runs it with thousands of changes.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
LOADGEN=$AZS_IT_DIR/../reliability/loadgen.py
[ -f "$LOADGEN" ] || _azs_die "missing $LOADGEN"
changes_wanted=${REL_CHURN_CHANGES:-150}
churn_max_s=${REL_CHURN_MAX_SECONDS:-40}   # stop the churn early on a slow box
wal_max_kb=${REL_WAL_MAX_KB:-8192}
clients=${REL_CLIENTS:-8}

azs_db_init
hz role add staff
hz role grant staff docs:read
spec=$AZS_ROOT/spec.json
{
    printf '['
    for n in $(seq 1 8); do
        i=$(printf '%02d' "$n")
        pw="Churn-valid-$i-zq7"
        azs_user_add "v$i" "$pw"
        hz user grant "v$i" staff
        path=/admin/
        [ $((n % 2)) = 0 ] && path=/docs/a.txt
        [ "$i" = 01 ] || printf ','
        printf '{"name":"v%s","auth":"Basic %s","path":"%s","expect":200}' \
            "$i" "$(printf 'v%s:%s' "$i" "$pw" | base64 -w 0)" "$path"
    done
    printf ']\n'
} > "$spec"
for r in 1 2 3 4; do hz role add "cr$r"; done

{ azs_loc_admin valid-user; azs_loc_docs; } | azs_conf
azs_start || azs_bail "httpd starts"

stop=$AZS_ROOT/load.stop ready=$AZS_ROOT/load.ready out=$AZS_ROOT/load.json
"$AZS_PYTHON" "$LOADGEN" --port "$AZS_PORT" --spec "$spec" \
    --clients "$clients" --mode mixed --retry-stale --pace "${REL_PACE:-0.1}" --stop "$stop" --ready "$ready" \
    --max-seconds "${REL_MAX_SECONDS:-120}" --out "$out" >/dev/null &
load=$!
azs_wait_file "$ready" "$load" 10
expect_true "all $clients load clients got answers before the churn" test -e "$ready"

# The churn: a fixed cycle of changes per churn user; every even user is
# kept at the end of its cycle (so the final state can be checked), every
# odd one deleted.
cli_fail=0 changes=0 wal_max=0 kept=0
fails=$AZS_ROOT/cli-failures
: > "$fails"
c() {   # one change through htauthz; count it, record a failure
    local out rc
    out=$(azs_htauthz "$@" 2>&1 </dev/null)
    rc=$?
    changes=$((changes + 1))
    if [ "$rc" != 0 ]; then
        cli_fail=$((cli_fail + 1))
        printf 'htauthz %s -> exit %s: %s\n' "$*" "$rc" "$out" >> "$fails"
    fi
    LAST_OUT=$out
}
cpw() {   # a change that reads a password from stdin
    local out rc pw=$1
    shift
    out=$(printf '%s\n' "$pw" | azs_htauthz "$@" --password-stdin 2>&1)
    rc=$?
    changes=$((changes + 1))
    if [ "$rc" != 0 ]; then
        cli_fail=$((cli_fail + 1))
        printf 'htauthz %s -> exit %s: %s\n' "$*" "$rc" "$out" >> "$fails"
    fi
}
wal_sample() {
    local s
    s=$(stat -c %s "$AZS_DB-wal" 2>/dev/null || echo 0)
    [ "$s" -gt "$wal_max" ] && wal_max=$s
}
t0=$(date +%s.%N)
k=0
churn_t0=$SECONDS
while [ "$changes" -lt "$changes_wanted" ] \
      && [ $((SECONDS - churn_t0)) -lt "$churn_max_s" ]; do
    k=$((k + 1))
    u=c$k a=cr$(( (k % 4) + 1 )) b=cr$(( ((k + 1) % 4) + 1 ))
    cpw "Churn-$k-pw" user add "$u"
    c user grant "$u" "$a" "$b"
    c role grant "$a" docs:read "perm$k"
    c role add "tmp$k"
    c role inherit "tmp$k" "$a"
    c token issue "$u" --label "churn $k"
    tok_id=$(printf '%s\n' "$LAST_OUT" | sed -n 2p)
    cpw "Churn-$k-pw2" user passwd "$u"
    c user disable "$u"
    c user enable "$u"
    c role revoke "$a" "perm$k"
    c user revoke "$u" "$b"
    c role disinherit "tmp$k" "$a"
    c role del "tmp$k"
    c token revoke "${tok_id:-0}"
    c user expire "$u" 30d
    if [ $((k % 2)) = 1 ]; then
        c user del "$u"
    else
        kept=$((kept + 1))
    fi
    c role revoke "$a" docs:read
    wal_sample
done
t1=$(date +%s.%N)
touch "$stop"
wait "$load"
wal_sample
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

summary=$(cat "$out" 2>/dev/null)
field() { "$AZS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$out" "$1" 2>/dev/null; }
reqs=$(field requests) failed=$(field failed)
printf '# churn[%s]: %d changes in %ss (%s/s), %s valid requests (%s/s), %s non-2xx/errors, %s stale keep-alive retries, %d CLI failures, max WAL %d KB\n' \
    "$AZS_MPM" "$changes" "$secs" \
    "$(awk -v n="$changes" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')" \
    "$reqs" "$(field rps)" "$failed" "$(field stale_retries)" "$cli_fail" "$((wal_max / 1024))"
expect_true "load generator finished with a summary" test -n "$reqs"
expect_true "the churn made $changes changes (>= 50; wanted $changes_wanted, at most ${churn_max_s}s)" \
    test "$changes" -ge 50
expect_true "valid requests were sent during the churn ($reqs >= 50)" \
    test "${reqs:-0}" -ge 50
if [ "${failed:-x}" = 0 ]; then
    _azs_ok "0 non-2xx answers or errors to valid users ($reqs requests)"
else
    _azs_not_ok "0 non-2xx answers or errors to valid users" "$summary"
fi
if [ "$cli_fail" = 0 ]; then
    _azs_ok "0 CLI failures in $changes changes"
else
    _azs_not_ok "0 CLI failures in $changes changes" "$(head -n 10 "$fails")"
fi
ic=$(sqlite3 -readonly "$AZS_DB" 'PRAGMA integrity_check' 2>&1)
expect_true "PRAGMA integrity_check: $ic" test "$ic" = ok
fk=$(sqlite3 -readonly "$AZS_DB" 'PRAGMA foreign_key_check' 2>&1)
expect_true "PRAGMA foreign_key_check: none" test -z "$fk"
nusers=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM users WHERE name LIKE 'c%'")
expect_true "0 lost changes: $nusers churn users kept (expected $kept)" \
    test "$nusers" = "$kept"
ntmp=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM roles WHERE name LIKE 'tmp%'")
expect_true "0 lost changes: $ntmp temporary roles left (expected 0)" \
    test "$ntmp" = 0
nlive=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM tokens WHERE revoked = 0")
expect_true "0 lost changes: $nlive unrevoked tokens (expected 0)" \
    test "$nlive" = 0
nexp=$(sqlite3 -readonly "$AZS_DB" "SELECT count(*) FROM users WHERE name LIKE 'c%' AND expires = 0")
expect_true "0 lost changes: $nexp kept churn users without expiry (expected 0)" \
    test "$nexp" = 0
expect_true "WAL bounded: max $((wal_max / 1024)) KB <= $wal_max_kb KB" \
    test "$((wal_max / 1024))" -le "$wal_max_kb"
# The valid users still get in after the churn.
http_req -u "v01:Churn-valid-01-zq7" /admin/
expect_status 200 "a valid user after the churn -> 200"
http_req -u "v02:Churn-valid-02-zq7" /docs/a.txt
expect_status 200 "a valid user with docs:read after the churn -> 200"
azs_done

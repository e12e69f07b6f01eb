#!/bin/bash
# Reliability: graceful restarts (tests/reliability/README.md).  REL_GRACEFUL_N
# (default 20) graceful restarts in a row (`apache2 -k graceful` with the
# case's -d/-f) under continuous valid load: 0 failed valid requests.  Half the
# clients open a new connection per request (no retry, ever: a refused or reset
# connection is a failure); half use keep-alive, where a request that fails
# on a REUSED connection before any byte of the answer arrived -- the old
# generation closing an idle connection, which graceful restarts do by
# design -- is retried once on a new connection (RFC 9110 9.2.2) and
# counted apart as a stale keep-alive retry.  Then a graceful restart with
# the database missing, and one with the database exclusively locked: the
# parent keeps running, answers 500 while the database is missing, 200 once
# it is back, with no further restart.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
LOADGEN=$AZS_IT_DIR/../reliability/loadgen.py
[ -f "$LOADGEN" ] || _azs_die "missing $LOADGEN"
n_graceful=${REL_GRACEFUL_N:-20}
clients=${REL_CLIENTS:-8}

azs_db_init
spec=$AZS_ROOT/spec.json
entries=()
for n in 1 2 3 4; do
    u=gr$n pw="Graceful-$n-pw-zq7"
    azs_user_add "$u" "$pw"
    entries+=("$(printf '{"name":"%s","auth":"Basic %s","path":"/admin/","expect":200}' \
        "$u" "$(printf '%s:%s' "$u" "$pw" | base64 -w 0)")")
done
( IFS=,; printf '[%s]\n' "${entries[*]}" ) > "$spec"

azs_loc_admin valid-user | azs_conf
azs_conf <<'EOF'
# Headroom: during a graceful restart the old generation's children keep
# their scoreboard slots until their connections end.
<IfModule mpm_prefork_module>
    MaxRequestWorkers 32
</IfModule>
<IfModule mpm_worker_module>
    ServerLimit 16
    MaxRequestWorkers 64
</IfModule>
<IfModule mpm_event_module>
    ServerLimit 16
    MaxRequestWorkers 64
</IfModule>
EOF
azs_allow_log 'AZS0501: 500 db-error: (user "gr1" )?for "/admin/"'
azs_start || azs_bail "httpd starts"
pid=$AZS_PID

stop=$AZS_ROOT/load.stop ready=$AZS_ROOT/load.ready out=$AZS_ROOT/load.json
"$AZS_PYTHON" "$LOADGEN" --port "$AZS_PORT" --spec "$spec" \
    --clients "$clients" --mode mixed --retry-stale --pace "${REL_PACE:-0.01}" \
    --stop "$stop" --ready "$ready" --max-seconds "${REL_MAX_SECONDS:-120}" \
    --out "$out" >/dev/null &
load=$!
azs_wait_file "$ready" "$load" 10
expect_true "all $clients load clients got answers before the restarts" test -e "$ready"

gen_of() {   # the generation httpd's scoreboard reports is not visible to
             # us; count the AH00493/AH00171 "restarting" lines instead
    grep -cE 'AH00493|AH00171|SIGUSR1 received' "$AZS_ERROR_LOG"
}
g0=$(gen_of)
restarted=0 t0=$SECONDS
for i in $(seq 1 "$n_graceful"); do
    if "$APACHE2" -d "$AZS_ROOT" -f "$AZS_CONF_DIR/httpd.conf" -k graceful \
        >/dev/null 2>&1; then
        restarted=$((restarted + 1))
    fi
    # Wait until the new generation has said so, then let the load run.
    for _ in $(seq 1 100); do
        [ "$(gen_of)" -ge $((g0 + i)) ] && break
        sleep 0.05
    done
    sleep "${REL_GRACEFUL_GAP:-0.3}"
done
secs=$((SECONDS - t0))
sleep 0.5
touch "$stop"
wait "$load"
field() { "$AZS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$out" "$1" 2>/dev/null; }
reqs=$(field requests) failed=$(field failed) stale=$(field stale_retries)
logged=$(( $(gen_of) - g0 ))
printf '# graceful[%s]: %d graceful restarts (%d logged by httpd) in %ds under load: %s valid requests, %s failed, %s stale keep-alive retries (retried once, succeeded)\n' \
    "$AZS_MPM" "$restarted" "$logged" "$secs" "$reqs" "$failed" "$stale"
expect_true "apache2 -k graceful succeeded $n_graceful times ($restarted)" \
    test "$restarted" = "$n_graceful"
expect_true "httpd logged $n_graceful restarts ($logged)" \
    test "$logged" -ge "$n_graceful"
expect_true "the parent survived ($pid)" _azs_alive "$pid"
expect_true "valid requests were sent during the restarts ($reqs >= 100)" \
    test "${reqs:-0}" -ge 100
if [ "${failed:-x}" = 0 ]; then
    _azs_ok "0 failed valid requests during $n_graceful graceful restarts"
else
    _azs_not_ok "0 failed valid requests during $n_graceful graceful restarts" \
        "$(cat "$out")"
fi

# ---- graceful restart with the database missing ---------------------------------
mv "$AZS_DB" "$AZS_ROOT/saved.db"
if azs_graceful; then
    _azs_ok "graceful restart with the database missing: httpd answers"
else
    _azs_not_ok "graceful restart with the database missing: httpd answers" \
        "$(tail -n 10 "$AZS_ERROR_LOG")"
fi
expect_true "database missing: the parent is still running" _azs_alive "$pid"
http_req -u "gr1:Graceful-1-pw-zq7" /admin/
expect_status 500 "database missing after the restart -> 500"
expect_true "httpd did not create the database" test ! -e "$AZS_DB"
mv "$AZS_ROOT/saved.db" "$AZS_DB"
http_req -u "gr1:Graceful-1-pw-zq7" /admin/
expect_status 200 "database restored -> 200 with no restart"

# ---- graceful restart with the database exclusively locked ----------------------
lockready=$AZS_ROOT/lock.ready
"$AZS_PYTHON" - "$AZS_DB" "$lockready" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write("locked\n")
time.sleep(3)
c.execute("COMMIT")
EOF
locker=$!
for _ in $(seq 1 100); do [ -e "$lockready" ] && break; sleep 0.05; done
expect_true "another process holds an exclusive lock" test -e "$lockready"
t0=$(date +%s%N)
if azs_graceful; then
    _azs_ok "graceful restart with the database locked: httpd answers"
else
    _azs_not_ok "graceful restart with the database locked: httpd answers"
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
printf '# graceful[%s]: restart with the database locked answered after %d ms\n' "$AZS_MPM" "$ms"
expect_true "database locked: the parent is still running" _azs_alive "$pid"
wait "$locker"
azs_db_fixperms
http_req -u "gr1:Graceful-1-pw-zq7" /admin/
expect_status 200 "lock released -> 200"
expect_true "the same parent all along" test "$AZS_PID" = "$pid"
azs_done

#!/bin/bash
# Failover: a primary PostgreSQL and a synchronous standby (pg_basebackup
# -R, synchronous_standby_names '*'), three httpd servers and htauthz all
# reaching them through one URL with both hosts and target_session_attrs=
# read-write.  A revocation is acknowledged (htauthz returned), the primary
# is killed (SIGKILL), the standby promoted: the revocation holds on every
# node throughout (never a 200 for that user), every node answers again
# after the promotion (reconnect time reported), and a new revocation made
# on the new primary reaches every node within the lease.
# azs: timeout 180

AZS_BACKEND=postgresql
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../lib_fleet.sh
. "$(dirname "$0")/../lib_fleet.sh"
azs_need_module

t_case=$SECONDS
# ---- the standby -------------------------------------------------------------
S_DIR=$AZS_ROOT/pg2
S_SOCK=$S_DIR/sock
S_PORT=5433
# Registered before it starts: a start that fails half-way is undone too.
azs_on_exit 'pg_dir_stop "$S_DIR/data"'
mkdir -p "$S_SOCK"
[ "$(id -u)" != 0 ] || chown -R "$PG_USER" "$S_DIR"
chmod 711 "$S_DIR"
chmod 755 "$S_SOCK"
_pg_as "$PG_BIN/pg_basebackup" -h "$PG_SOCK" -p "$PG_PORT" -U postgres \
    -D "$S_DIR/data" -R -X stream -c fast >"$S_DIR/basebackup.log" 2>&1 \
    || _azs_die "pg_basebackup: $(cat "$S_DIR/basebackup.log")"
_pg_as "$PG_BIN/pg_ctl" -D "$S_DIR/data" -l "$S_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $S_SOCK -p $S_PORT -c fsync=off \
    -c max_connections=200" start >/dev/null \
    || _azs_die "the standby does not start: $(tail -n 5 "$S_DIR/server.log")"
pg_sql postgres "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
pg_sql postgres "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
    [ "$(pg_sql postgres "SELECT count(*) FROM pg_stat_replication
          WHERE sync_state = 'sync'")" = 1 ] && break
    sleep 0.1
done
expect_true "the standby replicates synchronously" test "$(pg_sql postgres \
    "SELECT sync_state FROM pg_stat_replication")" = sync

both="host=$PG_SOCK,$S_SOCK&port=$PG_PORT,$S_PORT&target_session_attrs=read-write"
AZS_DB="postgresql://postgres@/authz?$both"
AZS_SERVER_DB="postgresql://httpd@/authz?$both"

azs_db_admin_api
azs_user_add alice Failover-alice-pw-1
azs_user_add bob Failover-bob-pw-22
hz user grant alice admin
hz user grant bob admin
azs_loc_admin | azs_conf
azs_allow_log 'AZS0103: 401 account-disabled: user "(alice|bob)"'
azs_allow_log 'AZS0501: 500 db-error: '
azs_allow_log 'AZS0610: (cannot hear from|lost) '
azs_allow_log 'AZS0611: hearing from '
azs_start || azs_bail "httpd starts"
fleet_start 2

drv=$AZS_ROOT/drill.py
cat > "$drv" <<'PY'
"""drill.py CMDFILE URL... - per node, keep-alive clients for alice and bob
loop until the file CMDFILE says "stop"; prints, per node: bob's 200s, the
first and last time (s, since the file said "killed") alice was refused,
and the first 200 after that (the reconnect time)."""
import base64, http.client, json, os, sys, threading, time, urllib.parse
cmd, urls = sys.argv[1], sys.argv[2:]
def auth(u, p):
    return "Basic " + base64.b64encode(("%s:%s" % (u, p)).encode()).decode()
A, B = auth("alice", "Failover-alice-pw-1"), auth("bob", "Failover-bob-pw-22")
def state():
    try:
        return open(cmd).read().strip()
    except OSError:
        return ""
res = {}
def node(i, url):
    u = urllib.parse.urlsplit(url)
    conns = {}
    r = {"bob_200": 0, "refused": 0, "requests": 0, "gap": 0.0,
         "last_ok": None}
    killed_at, last_ok = None, time.monotonic()
    while True:
        st = state()
        if st == "stop":
            break
        if st.startswith("killed") and killed_at is None:
            killed_at = float(st.split()[1])
        for who, a in (("alice", A), ("bob", B)):
            c = conns.get(who)
            try:
                if c is None:
                    c = conns[who] = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("GET", "/admin/", headers={"Authorization": a})
                resp = c.getresponse(); resp.read(); code = resp.status
            except (OSError, http.client.HTTPException):
                code = 0
                c.close(); conns[who] = None
            r["requests"] += 1
            now = time.monotonic()
            if who == "bob" and code == 200:
                r["bob_200"] += 1
            if who == "alice":
                if code != 200:
                    r["refused"] += 1
                else:
                    r["gap"] = max(r["gap"], now - last_ok)
                    last_ok = now
                    if killed_at is not None:
                        r["last_ok"] = now - killed_at
        time.sleep(0.01)
    res[i] = r
ts = [threading.Thread(target=node, args=(i, u)) for i, u in enumerate(urls)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps(res))
PY
cmdf=$AZS_ROOT/drill.cmd
: > "$cmdf"
chmod a+r "$cmdf"

printf '# setup took %d s\n' $((SECONDS - t_case))
hz user disable bob
sleep 0.2
"$AZS_PYTHON" "$drv" "$cmdf" "${FLEET_URLS[@]}" > "$AZS_ROOT/drill.json" &
drill=$!
sleep 1
pid=$(head -n 1 "$PG_DIR/data/postmaster.pid")
kids=$(pgrep -P "$pid")
t_kill=$("$AZS_PYTHON" -c 'import time; print(time.monotonic())')
kill -KILL "$pid" $kids
echo "killed $t_kill" > "$cmdf"
sleep 0.5
_pg_as "$PG_BIN/pg_ctl" -D "$S_DIR/data" -w -t 30 promote >/dev/null \
    || _azs_die "the standby is not promoted"
t_promoted=$("$AZS_PYTHON" -c "import time; print('%.3f' % (time.monotonic() - $t_kill))")
sleep 3
echo stop > "$cmdf"
wait "$drill"

res=$("$AZS_PYTHON" - "$AZS_ROOT/drill.json" <<'PY'
import json, sys
for i, r in sorted(json.load(open(sys.argv[1])).items()):
    print(i, r["requests"], r["bob_200"], r["refused"], "%.3f" % r["gap"],
          "%.3f" % r["last_ok"] if r["last_ok"] is not None else "never")
PY
)
while read -r n reqs bob200 refused gap last; do
    expect_true "node $n: bob, disabled before the kill, never 200 ($reqs requests)" \
        test "$bob200" = 0
    expect_true "node $n: alice served after the promotion (last 200 at $last s after the kill, promoted at $t_promoted s)" \
        awk -v l="$last" -v p="$t_promoted" 'BEGIN { exit !(l != "never" && l + 0 > p + 1.5) }'
    printf '# figure: node %s: alice refused %s times; longest time without a 200: %s s (kill at 0, promotion at %s s)\n' \
        "$n" "$refused" "$gap" "$t_promoted"
done <<< "$res"
expect_log 'AZS0611: hearing from ' "node 0's watcher hears from the promoted standby" 0
expect_true "three nodes reported" test "$(grep -c . <<< "$res")" = 3

# A new revocation, on the new primary: every node within the lease.
hz user disable alice
t0=$(date +%s%N)
for url in "${FLEET_URLS[@]}"; do
    got=
    for _ in $(seq 1 50); do
        got=$(curl -s -o /dev/null -w '%{http_code}' \
              -u alice:Failover-alice-pw-1 "$url/admin/")
        [ "$got" = 401 ] && break
        sleep 0.02
    done
    expect_true "$url: the new revocation holds ($got)" test "$got" = 401
done
# In milliseconds (bash's SECONDS counts whole seconds, so its difference
# could read 2 for 1.1 s): the lease (1 s) and the clients' own time.
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_true "... within the lease, and the curl runs (${ms} ms <= 1500)" test "$ms" -le 1500
expect_true "htauthz wrote to the promoted standby" test "$(psql -X -q -A -t \
    -h "$S_SOCK" -p "$S_PORT" -U postgres -d authz -c \
    "SELECT disabled FROM users WHERE name = 'alice'")" = 1
t_stop=$SECONDS
fleet_stop
printf '# stopping nodes 1 and 2 took %d s\n' $((SECONDS - t_stop))
fleet_check_logs
azs_done

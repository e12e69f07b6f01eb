#!/bin/bash
# AuthzStatusHashLimit: costly hashes are bounded across the whole server
# by a System V semaphore the parent owns; a flood of wrong passwords gets
# 401 or 503 busy (with Retry-After), never 200, while a client whose login
# is cached goes on getting 200; the semaphore belongs to the user httpd
# runs as, is back to its full count after the flood, and is replaced by a
# graceful restart and removed when httpd stops (no IPC left behind).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"
command -v ipcs >/dev/null || { printf '# SKIP: no ipcs\n'; exit 77; }

pw='H4sh-limit-valid-pw'
azs_db_init
azs_user_add alice "$pw"
azs_user_add mallory 'M4llory-real-pw'

# Small children, so that the flood outnumbers a child's threads.
azs_conf <<'EOF2'
LogLevel warn authz_status:debug
AuthzStatusHashLimit 1
EOF2
azs_threaded_child 4
azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS0102: 401 bad-password: user "mallory"'
azs_allow_log 'AZS0110: 503 busy: user "mallory"'
azs_allow_log '(AH00484|AH00286): server reached MaxRequestWorkers'

azs_start || azs_bail "httpd starts with the module"

# semaphore id from the parent's AZS0606 line
sem_of_log() {
    log_since 0 | sed -n 's/.*AZS0606: at most 1 costly.*(semaphore \([0-9]*\)).*/\1/p' \
        | tail -n 1
}
# semval of semaphore $1 (empty when it does not exist)
sem_value() {
    ipcs -s -i "$1" 2>/dev/null | awk '$1 == "0" && NF >= 2 {print $2; exit}'
}
sem=$(sem_of_log)
expect_true "the parent made a semaphore (id '$sem')" test -n "$sem"
owner=$(ipcs -s -i "$sem" 2>/dev/null | tr -s ' \t' '\n' | sed -n 's/^uid=//p' | head -n 1)
if [ -n "$AZS_RUN_USER" ]; then
    expect_true "the semaphore belongs to $AZS_RUN_USER (uid=$owner)" \
        test "$owner" = "$(id -u "$AZS_RUN_USER")" -o "$owner" = "$AZS_RUN_USER"
fi
expect_true "mode 600" eval 'ipcs -s -i "$sem" | grep -q "mode=0*600"'
expect_true "one place free before the flood ($(sem_value "$sem"))" \
    test "$(sem_value "$sem")" = 1

http_req -u "alice:$pw" /admin/
expect_status 200 "alice's login, now cached -> 200"

out=$AZS_ROOT/flood.json
"$AZS_PYTHON" - "$AZS_PORT" "$pw" > "$out" <<'PY'
import base64, http.client, json, sys, threading, time
port, pw = int(sys.argv[1]), sys.argv[2]
stop = time.time() + 4.0
lock = threading.Lock()
res = {"flood": {}, "retry_after_missing": 0, "valid": {},
       "flood_errors": 0, "valid_errors": 0}

def auth(u, p):
    return "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()

def count(kind, status):
    with lock:
        res[kind][str(status)] = res[kind].get(str(status), 0) + 1

def flood(i):
    n = 0
    while time.time() < stop:
        n += 1
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            c.request("GET", "/admin/",
                      headers={"Authorization": auth("mallory", f"guess-{i}-{n}")})
            r = c.getresponse()
            r.read()
            count("flood", r.status)
            if r.status == 503 and r.getheader("Retry-After") != "1":
                with lock:
                    res["retry_after_missing"] += 1
            c.close()
        except Exception:
            # a connection the server had no thread for: refused, not let in
            with lock:
                res["flood_errors"] += 1

def valid():
    # Keep-alive; a reused connection the server closed before answering
    # (event closes idle keep-alive connections when its threads are all
    # busy) is retried once on a new one, as clients do.  A failure on a
    # new connection is an error.
    c, fresh = None, True
    while time.time() < stop:
        try:
            if c is None:
                c, fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=15), True
            c.request("GET", "/admin/", headers={"Authorization": auth("alice", pw)})
            r = c.getresponse()
            r.read()
            count("valid", r.status)
            fresh = False
        except Exception:
            c = None
            if fresh:
                with lock:
                    res["valid_errors"] += 1

ts = [threading.Thread(target=flood, args=(i,)) for i in range(10)]
ts.append(threading.Thread(target=valid))
time.sleep(0)
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(res))
PY
res=$(cat "$out")
printf '# flood[%s]: %s\n' "$AZS_MPM" "$res"
get() { "$AZS_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$out" "$1"; }

expect_true "flood: never a 200 for a wrong password" \
    test "$(get 'd["flood"].get("200", 0)')" = 0
expect_true "flood: only 401 and 503 ($(get 'd["flood"]'))" \
    test "$(get 'sum(v for k, v in d["flood"].items() if k not in ("401", "503"))')" = 0
expect_true "flood: wrong passwords were checked (401s: $(get 'd["flood"].get("401", 0)'))" \
    test "$(get 'd["flood"].get("401", 0)')" -ge 1
expect_true "flood: every 503 carries Retry-After: 1" \
    test "$(get 'd["retry_after_missing"]')" = 0
if [ "$AZS_MPM" != prefork ]; then
    # Ten floods in a child of four threads: past three waiting, the answer
    # is 503 at once.
    expect_true "flood: busy answers came (503s: $(get 'd["flood"].get("503", 0)'))" \
        test "$(get 'd["flood"].get("503", 0)')" -ge 1
    expect_log 'AZS0110: 503 busy: user "mallory" for "/admin/"' \
        "flood: the busy line" 0
fi
expect_true "cached client: no connection errors" \
    test "$(get 'd["valid_errors"]')" = 0
expect_true "cached client: only 200s ($(get 'd["valid"]'))" \
    test "$(get 'sum(v for k, v in d["valid"].items() if k != "200")')" = 0
expect_true "cached client: served all along ($(get 'd["valid"].get("200", 0)') answers in 4 s)" \
    test "$(get 'd["valid"].get("200", 0)')" -ge 40
expect_no_log 'AZS0[0-9]{3}: [0-9]+ [a-z-]+: user "alice"' \
    "cached client: no denial logged" 0

# Every place given back once the flood is answered.
for _ in $(seq 1 100); do
    [ "$(sem_value "$sem")" = 1 ] && break
    sleep 0.1
done
expect_true "after the flood: the place is free again ($(sem_value "$sem"))" \
    test "$(sem_value "$sem")" = 1

azs_graceful || azs_bail "graceful restart"
for _ in $(seq 1 50); do
    new=$(sem_of_log)
    [ -n "$new" ] && [ "$new" != "$sem" ] && break
    sleep 0.1
done
expect_true "graceful restart: a new semaphore ($sem -> $new)" \
    test -n "$new" -a "$new" != "$sem"
expect_true "graceful restart: the old one is removed" \
    test -z "$(sem_value "$sem")"
http_req -u "alice:$pw" /admin/
expect_status 200 "after the restart: alice -> 200"

azs_stop
expect_true "httpd stopped: its semaphore is removed" \
    test -z "$(sem_value "$new")"
azs_done

#!/bin/bash
# AuthzStatusThrottle across a fleet (README.md, "Throttling failed
# logins"): two httpd servers keep their counts in one real redis-server
# (AuthzStatusThrottleCache redis:...), started by the case on 127.0.0.1.
#  - failures split across both servers ban the address on both: the
#    server that counted the last one refuses it before reading anything,
#    the other before any password is hashed (it asks redis first);
#  - the counts are in redis (its keys), not in either server;
#  - redis stopped: logins still work (200 and 401, never 500), the
#    throttle is off, and that is logged (AZS0403), rate-limited;
#  - redis back: failures are counted again, without a restart of httpd;
#  - redis frozen (it accepts, never answers): no request waits for it
#    more than 250 ms; logins go on, logged.
# azs: timeout 120

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_fleet.sh
. "$(dirname "$0")/../lib_fleet.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_redis.sh
. "$(dirname "$0")/../lib_redis.sh"
azs_need_module
redis_need
[ -f "$AP_LIBEXECDIR/mod_socache_redis.so" ] || {
    printf '# SKIP: mod_socache_redis is not installed\n'
    exit 77
}

pw='Fleet-thr0ttle-pw-zq7'
bad='Fleet-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
mkdir -p "$AZS_DOCROOT/admin"
echo admin > "$AZS_DOCROOT/admin/index.html"
azs_on_exit redis_stop
redis_start

AZS_EXTRA_MODULES="socache_redis"
azs_conf <<EOF2
AuthzStatusThrottle 4/10s 6s
AuthzStatusThrottleCache redis:127.0.0.1:$REDIS_PORT
RedisTimeout 2
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
EOF2
azs_loc_basic /admin Administration | azs_conf
azs_allow_log 'AZS0(101|102): 401 (unknown-user|bad-password): user "alice" for "/admin/"'
azs_allow_log 'AZS0402: 429 throttled: for "/admin/"'
azs_allow_log 'AZS0403: throttle cache redis:127.0.0.1:[0-9]+: '
azs_allow_log 'AH03[0-9]{3}:'   # mod_socache_redis: the server went away

azs_start || azs_bail "node 0 starts"
fleet_start 1
N0=${FLEET_URLS[0]}
N1=${FLEET_URLS[1]}

# req NODE ADDRESS USER:PASSWORD
req() {
    http_req -H "X-Forwarded-For: $2" -u "$3" "$1/admin/"
}

# ---- failures on both servers add up ---------------------------------------------
A=198.51.100.1
req "$N0" $A "alice:$bad"; req "$N1" $A "alice:$bad"
req "$N0" $A "alice:$bad"
expect_status 401 "3 failures of $A, on node 0 and node 1: 401"
keys=$(redis_cli --scan --pattern '*' | wc -l)
expect_true "the count is in redis ($keys key)" test "$keys" -ge 1
req "$N1" $A "alice:$bad"
expect_status 401 "the 4th, on node 1: 401"
req "$N1" $A "alice:$pw"
expect_status 429 "node 1 (counted the 4th): $A refused"
expect_no_header WWW-Authenticate "node 1: no challenge"
mark0=$(stat -c %s "${FLEET_LOGS[0]}")
req "$N0" $A "alice:$bad"
expect_status 429 "node 0: a wrong password from $A refused too"
req "$N0" $A "alice:$pw"
expect_status 429 "node 0: and the right one (never verified on node 0)"
expect_no_log 'AZS0102: 401' "node 0 hashed no password for the banned address" "$mark0"
expect_log "AZS0402: 429 throttled: for \"/admin/\" \\(address $A: 4 failed logins within 10s" \
    "node 0 logs the ban once it refuses it" "$mark0"
req "$N0" 198.51.100.2 "alice:$pw"
expect_status 200 "node 0: another address: 200"
req "$N1" 198.51.100.2 "alice:$pw"
expect_status 200 "node 1: another address: 200"

# ---- redis stopped: the throttle is off, authentication is not --------------------
redis_stop
B=198.51.100.3
mark0=$(stat -c %s "${FLEET_LOGS[0]}")
for i in 1 2 3 4 5 6; do
    req "$N0" $B "alice:$bad"
    [ "$HTTP_STATUS" = 401 ] || break
done
expect_status 401 "redis stopped: 6 failures of $B on node 0 are 401, not 429 (nothing counted) nor 500"
req "$N0" $B "alice:$pw"
expect_status 200 "redis stopped: $B logs in (200)"
req "$N1" 198.51.100.4 "alice:$pw"
expect_status 200 "redis stopped: node 1 logs in another address (200)"
expect_log 'AZS0403: throttle cache redis:127.0.0.1:[0-9]+: (reading|storing) a count failed' \
    "node 0 logs that the throttle's cache fails" "$mark0"
lines=$(tail -c +$((mark0 + 1)) "${FLEET_LOGS[0]}" | grep -c 'AZS0403')
children=$(azs_child_pids | wc -w)
expect_true "at most one AZS0403 line per process in 10 s ($lines lines, $children children)" \
    test "$lines" -le "$children"
req "$N0" $A "alice:$pw"
expect_status 429 "redis stopped: the ban node 0 knows still holds"

# ---- redis back: counted again, no restart --------------------------------------------
redis_start
C=198.51.100.5
ok=
for _ in $(seq 1 40); do
    req "$N1" $C "alice:$bad"
    [ "$HTTP_STATUS" = 429 ] && { ok=1; break; }
    sleep 0.25
done
expect_true "redis back: failures of $C are counted again and ban it (node 1)" test -n "$ok"
# A node whose calls failed while redis was away has apr_redis mark the
# server dead, and tries it again after apr_redis's own retry interval
# (seconds): until then it fails open, as above.
for _ in $(seq 1 40); do
    req "$N0" $C "alice:$bad"
    [ "$HTTP_STATUS" = 429 ] && break
    sleep 0.25
done
expect_status 429 "redis back: node 0 refuses $C too, within 10 s"

# ---- redis frozen (SIGSTOP): it accepts, never answers ------------------------------
# httpd's redis provider would wait for ever (its RedisTimeout does not
# hold); a request waits for the throttle at most 250 ms, then goes on.
kill -STOP "$REDIS_PID"
D=198.51.100.6
mark0=$(stat -c %s "${FLEET_LOGS[0]}")
slow=0
for i in 1 2 3 4 5 6; do
    req "$N0" $D "alice:$bad"
    [ "$HTTP_STATUS" = 401 ] || break
    awk -v t="$HTTP_TIME" 'BEGIN {exit !(t > 1.5)}' && slow=$((slow + 1))
done
expect_status 401 "redis frozen: 6 failures of $D are 401 (not counted), not 500"
expect_true "redis frozen: no failure waited more than 1.5 s ($slow did)" test "$slow" = 0
t0=$SECONDS
req "$N0" 198.51.100.7 "alice:$pw"
expect_status 200 "redis frozen: a first login (one redis read before its hash) -> 200"
req "$N1" 198.51.100.7 "alice:$pw"
expect_status 200 "redis frozen: and on node 1"
expect_true "redis frozen: within a second or two each ($((SECONDS - t0)) s for both)" \
    test $((SECONDS - t0)) -le 3
expect_log 'AZS0403: throttle cache redis:127.0.0.1:[0-9]+: (does not answer|did not answer within 250 ms)' \
    "node 0 logs that the cache does not answer" "$mark0"
kill -CONT "$REDIS_PID"

fleet_check_logs
azs_done

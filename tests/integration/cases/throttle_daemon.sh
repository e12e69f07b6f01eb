#!/bin/bash
# AuthzStatusThrottle in an httpd started as Debian starts it
# (apache2 -k start: it forks into the background, and reads its
# configuration twice, unloading and reloading every module in between):
# a failure is counted and bans (no child crashes on a pointer into a
# module's old mapping), a graceful restart keeps the ban, and the server
# stops cleanly (no "Segmentation fault" anywhere in its log).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='Daemon-alice-pw-zq7'
bad='Daemon-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
mkdir -p "$AZS_DOCROOT/admin"
echo admin > "$AZS_DOCROOT/admin/index.html"
# mod_socache_shmcb loaded after this module, as a site that adds the
# throttle to an existing configuration would (the order moves where
# httpd maps the reloaded modules).
AZS_SKIP_SHMCB=1
azs_conf <<EOF2
LoadModule socache_shmcb_module "$AP_LIBEXECDIR/mod_socache_shmcb.so"
AuthzStatusThrottle 2/1m 1m
EOF2
azs_loc_basic /admin Administration | azs_conf
azs_allow_log 'AZS0102: 401 bad-password: user "alice" for "/admin/"'
azs_allow_log 'AZS0402: 429 throttled: for "/admin/"'

AZS_PORT=$(azs_free_port) || azs_bail "no free port"
AZS_URL=http://127.0.0.1:$AZS_PORT
azs_write_conf
pidfile=$AZS_RUN_DIR/httpd.pid
stop_daemon() {
    [ -s "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
}
azs_on_exit stop_daemon
"$APACHE2" -d "$AZS_ROOT" -f "$AZS_CONF_DIR/httpd.conf" -k start \
    || azs_bail "apache2 -k start"
up=
for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$AZS_URL/" && { up=1; break; }
    sleep 0.05
done
[ -n "$up" ] || azs_bail "httpd (-k start) answers"

http_req -u "alice:$bad" /admin/
expect_status 401 "failure 1: 401"
http_req -u "alice:$bad" /admin/
expect_status 401 "failure 2: 401"
http_req -u "alice:$pw" /admin/
expect_status 429 "banned after 2 failures"
"$APACHE2" -d "$AZS_ROOT" -f "$AZS_CONF_DIR/httpd.conf" -k graceful \
    || azs_bail "apache2 -k graceful"
sleep 1
http_req -u "alice:$pw" /admin/
expect_status 429 "after apache2 -k graceful: still banned"
stop_daemon
sleep 0.3
expect_no_log 'Segmentation fault|exit signal' "no child or parent crashed" 0

azs_done

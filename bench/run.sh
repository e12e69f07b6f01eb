#!/usr/bin/env bash
# bench/run.sh - mod_authz_status against httpd's own authentication
# modules, on loopback, with ratios to serving the same file without
# authentication.  See bench/README.md.
#
#   bash bench/run.sh            short mode: 10 and 100,000 users, 5 s runs,
#                                one round (a few minutes)
#   bash bench/run.sh --full     10 and 1,000,000 users, 10 s runs, 3 rounds
#
# Options (each also an environment variable):
#   --users "N ..."    user counts                      BENCH_USERS
#   --duration S       seconds per wrk run              BENCH_DURATION
#   --rounds N         interleaved rounds               BENCH_ROUNDS
#   --conns N          wrk connections (default 16)     BENCH_CONNS
#   --configs "..."    subset of: floor file dbd socache azs-bcrypt azs-sha-nocache
#                      azs-bearer azs-blocked azs-pg azs-throttle
#                      azs-throttled azs-export        BENCH_CONFIGS
#                      (azs-pg: (5) on PostgreSQL, when installed)
#   --many             also cycle through many users    BENCH_MANY=1
#                      (on by default with --full)
#   --many-users N     how many (default 1,000)         BENCH_MANY_USERS
#   --crowd "N ..."    N returning users in rotation,   BENCH_CROWD
#                      bcrypt 10 + Require, all verified once first
#   --churn "R ..."    those crowds while htauthz       BENCH_CHURN
#                      commits R unrelated writes a second
#   --churn-crowds "N ..."  crowds under churn (50)     BENCH_CHURN_CROWDS
#   --grant-churn "R ..."  those crowds while htauthz   BENCH_GRANT_CHURN
#                      grants R new permissions a second to the role every
#                      crowd user inherits (role00001)
#   --propagation N    changes timed from htauthz to    BENCH_PROPAGATION
#                      the first changed answer, on (5) and (9) (default 50)
#   --crowd-rounds N   the crowd and churn runs N times BENCH_CROWD_ROUNDS
#                      (default 1; the report gives medians and min-max)
#   --crowd-pg         the crowd and churn runs again   BENCH_CROWD_PG=1
#                      on PostgreSQL (the same data, migrated)
#   --no-extras        skip targets 5, 6 and 7          BENCH_EXTRAS=0
#   --pin              httpd on CPU 0, wrk on CPU 1     BENCH_PIN=1
#                      (steadier ratios on a shared machine)
#   --fresh            regenerate the fixtures          BENCH_FRESH=1
#   --keep             keep the server roots            BENCH_KEEP=1
# Other environment: BENCH_WORK (fixtures and server roots, default
# /tmp/azs-bench), AZS_BUILD (build directory, default _build), AZS_MODULE,
# HTAUTHZ, APACHE2, AP_LIBEXECDIR, BENCH_ROLES, BENCH_GRANTS, BENCH_BLOCKS,
# BENCH_SCHEMA (the schema fixtures are made from, default sql/schema.sql),
# BENCH_CHURN_DURATION (seconds per churn run, default 10 or more),
# BENCH_WARM_CONNS (the crowd's warm-up client, default 8 at once).
set -eu
umask 022

top=$(cd "$(dirname "$0")/.." && pwd)
# azs_conf_server: the first lines of every httpd.conf here.
# shellcheck source=../tests/integration/lib_conf.sh
. "$top/tests/integration/lib_conf.sh"
bench=$top/bench
out=$bench/out

mode=short
USERS=${BENCH_USERS:-}
DURATION=${BENCH_DURATION:-}
ROUNDS=${BENCH_ROUNDS:-}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-1}
CONFIGS=${BENCH_CONFIGS:-"floor file dbd socache azs-bcrypt azs-sha-nocache azs-bearer azs-blocked azs-pg azs-throttle azs-throttled azs-export"}
MANY=${BENCH_MANY:-}
EXTRAS=${BENCH_EXTRAS:-1}
FRESH=${BENCH_FRESH:-0}
KEEP=${BENCH_KEEP:-0}
PIN=${BENCH_PIN:-0}
ROLES=${BENCH_ROLES:-10000}
GRANTS=${BENCH_GRANTS:-100000}
BLOCKS=${BENCH_BLOCKS:-100000}
T5_VALID_CONNS=${BENCH_T5_VALID_CONNS:-1}
T5_ATTACK_CONNS=${BENCH_T5_ATTACK_CONNS:-64}
MANY_USERS=${BENCH_MANY_USERS:-1000}
CROWD=${BENCH_CROWD:-}
CHURN=${BENCH_CHURN:-}
GRANT_CHURN=${BENCH_GRANT_CHURN:-}
CHURN_CROWDS=${BENCH_CHURN_CROWDS:-50}
CROWD_PG=${BENCH_CROWD_PG:-}
CROWD_ROUNDS=${BENCH_CROWD_ROUNDS:-1}
PROPAGATION=${BENCH_PROPAGATION:-50}
CHURN_DURATION=${BENCH_CHURN_DURATION:-}
WARM_CONNS=${BENCH_WARM_CONNS:-8}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --full) mode=full ;;
    --short) mode=short ;;
    --users) USERS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --configs) CONFIGS=$2; shift ;;
    --many) MANY=1 ;;
    --no-many) MANY=0 ;;
    --many-users) MANY_USERS=$2; shift ;;
    --crowd) CROWD=$2; shift ;;
    --churn) CHURN=$2; shift ;;
    --churn-crowds) CHURN_CROWDS=$2; shift ;;
    --grant-churn) GRANT_CHURN=$2; shift ;;
    --no-extras) EXTRAS=0 ;;
    --crowd-pg) CROWD_PG=1 ;;
    --crowd-rounds) CROWD_ROUNDS=$2; shift ;;
    --propagation) PROPAGATION=$2; shift ;;
    --fresh) FRESH=1 ;;
    --keep) KEEP=1 ;;
    --pin) PIN=1 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done
if [ "$mode" = full ]; then
    : "${USERS:=10 1000000}" "${DURATION:=10}" "${ROUNDS:=3}" "${MANY:=1}"
else
    : "${USERS:=10 100000}" "${DURATION:=5}" "${ROUNDS:=1}" "${MANY:=0}"
fi
: "${CHURN_DURATION:=$(( DURATION > 10 ? DURATION : 10 ))}"

BUILD=${AZS_BUILD:-$top/_build}
MODULE=${AZS_MODULE:-$BUILD/.libs/mod_authz_status.so}
HTAUTHZ=${HTAUTHZ:-$BUILD/htauthz}
APACHE2=${APACHE2:-$(PATH=$PATH:/usr/sbin command -v apache2 \
                     || PATH=$PATH:/usr/sbin command -v httpd || true)}
MODDIR=${AP_LIBEXECDIR:-$( (apxs -q LIBEXECDIR || apxs2 -q LIBEXECDIR) \
                           2>/dev/null || echo /usr/lib/apache2/modules)}
WORK=${BENCH_WORK:-/tmp/azs-bench}
SCHEMA=${BENCH_SCHEMA:-$top/sql/schema.sql}

for tool in wrk curl python3 htpasswd sqlite3; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
[ -n "$APACHE2" ] && [ -x "$APACHE2" ] || { echo "run.sh: no apache2/httpd" >&2; exit 1; }
if [ ! -f "$MODULE" ] || [ ! -x "$HTAUTHZ" ]; then
    echo "run.sh: building (no $MODULE or $HTAUTHZ)" >&2
    AZS_BUILD=$BUILD bash "$top/scripts/build.sh"
fi

# --pin: the server and the client on separate CPUs, so that neither
# steals the other's time slices (every configuration, ceiling included).
SRV_PIN=() CLI_PIN=()
if [ "$PIN" = 1 ]; then
    command -v taskset >/dev/null || { echo "run.sh: --pin needs taskset" >&2; exit 1; }
    [ "$(nproc)" -ge 2 ] || { echo "run.sh: --pin needs 2 CPUs" >&2; exit 1; }
    SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1)
fi

RUN_USER= RUN_GROUP=
if [ "$(id -u)" = 0 ]; then
    RUN_USER=www-data
    RUN_GROUP=$(id -gn www-data)
fi

if [ ! -d "$WORK" ]; then
    mkdir -p "$WORK"
    chmod 755 "$WORK"   # www-data walks into the fixtures and server roots
fi
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
RAW=$out/raw-$mode-$stamp.tsv
REPORT=$out/report-$mode-$stamp.txt
RUNDIR=$(mktemp -d "$WORK/run.XXXXXX")
chmod 755 "$RUNDIR"
: > "$RAW"

# ---- cleanup: every httpd we started, by its pid file; background wrk ----

PIDFILES=()
BGPIDS=()
stop_httpd() {
    local pf=$1 pid i
    [ -s "$pf" ] || return 0
    pid=$(cat "$pf")
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local p
    set +e
    for p in "${BGPIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDFILES[@]}"; do
        stop_httpd "$p"
    done
    if declare -F pg_stop >/dev/null; then
        pg_stop
    fi
    if [ "$KEEP" = 1 ]; then
        echo "server roots kept in $RUNDIR"
    else
        rm -rf "$RUNDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
raw() { local IFS=$'\t'; printf '%s\n' "$*" >> "$RAW"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

raw meta mode "$mode"
raw meta users "$USERS"
raw meta duration "$DURATION"
raw meta rounds "$ROUNDS"
raw meta wrk "wrk -t$THREADS -c$CONNS -d${DURATION}s --timeout 30s"
raw meta pin "$([ "$PIN" = 1 ] && echo 'httpd on CPU 0, wrk on CPU 1' || echo no)"
raw meta host "$(uname -sr), $(nproc) cores"
raw meta httpd "$("$APACHE2" -v | sed -n 's/^Server version: //p')"
raw meta module "$MODULE ($(date -r "$MODULE" '+%Y-%m-%d %H:%M:%S'))"
raw meta source "$(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$top" && [ -n "$(git status --porcelain -- . ':!bench' 2>/dev/null)" ] && echo ' + uncommitted changes' || true)"
raw meta fixtures "roles $ROLES, grants $GRANTS, blocklist $BLOCKS"
raw meta schema "$SCHEMA ($(sed -n 's/.*schema version \([0-9]*\).*/version \1/p;q' "$SCHEMA"))"
raw meta "load before" "$(cut -d' ' -f1-3 /proc/loadavg)"

# Fixtures and servers: build_fixture, fixture_dir, conf_for, start_server.
# shellcheck source=lib_servers.sh
. "$bench/lib_servers.sh"

# Measuring and checks: wrk_run, measure, check_config, load_args, many_script.
# shellcheck source=lib_measure.sh
. "$bench/lib_measure.sh"

# ---- main ---------------------------------------------------------------------

log "mode $mode: users [$USERS], ${DURATION}s per run, $ROUNDS round(s), wrk -t$THREADS -c$CONNS"
log "module $MODULE, htauthz $HTAUTHZ, work $WORK"

for n in $USERS; do
    build_fixture "$n"
done

start_server ceil ceiling "$WORK"
first=${USERS%% *}
# shellcheck disable=SC1090
. "$(fixture_dir "$first")/fixture.env"
check_config - ceiling ceil || { log "the ceiling server does not serve the file"; exit 1; }

ACTIVE=()
i=0
for n in $USERS; do
    i=$(( i + 1 ))
    # shellcheck disable=SC1090
    . "$(fixture_dir "$n")/fixture.env"
    for c in $CONFIGS; do
        key=s${i}_${c//-/_}
        if [ "$c" = azs-pg ] && ! pg_bench_prepare "$(fixture_dir "$n")"; then
            raw check "$n" "$c" fail "no PostgreSQL"
            continue
        fi
        if ! start_server "$key" "$c" "$(fixture_dir "$n")"; then
            raw check "$n" "$c" fail "httpd did not start"
            CHECK_FAILS=$(( CHECK_FAILS + 1 ))
            continue
        fi
        if check_config "$n" "$c" "$key"; then
            ACTIVE+=("$n:$c:$key")
        else
            log "$c with $n users answers wrongly: not measured (error log: ${RUNDIR}/$key/logs/error.log)"
            tail -n 5 "$RUNDIR/$key/logs/error.log" >&2 || true
        fi
    done
done
[ ${#ACTIVE[@]} -gt 0 ] || { log "nothing to measure"; exit 1; }

# Warm-up: every server's children open their handles, fill their caches.
log "warm-up (1 s per server)"
for a in "${ACTIVE[@]}"; do
    IFS=: read -r n c key <<< "$a"
    . "$(fixture_dir "$n")/fixture.env"
    load_args "$n" "$c"
    port=PORT_$key root=ROOT_$key
    wrk_run "http://127.0.0.1:${!port}/p/file.txt" 1 "$CONNS" "${LOAD[@]}" >/dev/null
    wait_idle "${!root}"
    if [ "$MANY" = 1 ] && case $c in dbd|socache|azs-sha-nocache) true ;; *) false ;; esac; then
        # Each of the many users once ({SHA}: cheap), so that a cache
        # (authn_socache) starts the rounds as warm as for the one user.
        many_script "$n" >/dev/null
        python3 "$bench/crowd.py" warm "${!port}" /p/file.txt \
            "$RUNDIR/many-$n.names" "$MANY_USERS" "$FX_PASSWORD" "$CONNS" >/dev/null
        wait_idle "${!root}"
        # Then the rotation itself for DURATION s: each child has its own
        # memo of users (and dbd its own statements), and the warm-up
        # above met each user in one child only.
        wrk_run "http://127.0.0.1:${!port}/p/file.txt" "$DURATION" "$CONNS" \
            -s "$(many_script "$n")" >/dev/null
        wait_idle "${!root}"
    fi
done
wrk_run "http://127.0.0.1:$PORT_ceil/p/file.txt" 1 "$CONNS" >/dev/null

# Rounds: the ceiling before and after every configuration.
CEIL_ARGS=(-H "$(basic "$FX_VALID" "$FX_PASSWORD")")
for round in $(seq 1 "$ROUNDS"); do
    measure "$round" - ceiling ceil "${CEIL_ARGS[@]}"
    for a in "${ACTIVE[@]}"; do
        IFS=: read -r n c key <<< "$a"
        . "$(fixture_dir "$n")/fixture.env"
        load_args "$n" "$c"
        measure "$round" "$n" "$c" "$key" "${LOAD[@]}"
        measure "$round" - ceiling ceil "${CEIL_ARGS[@]}"
        if [ "$MANY" = 1 ] && case $c in dbd|socache|azs-sha-nocache) true ;; *) false ;; esac; then
            # The same, cycling through MANY_USERS users.  wrk's Lua request
            # hook costs the client a little, which without --pin is CPU
            # taken from httpd: the ceiling runs beside it send the same
            # rotation (it ignores the header), recorded as ceiling+lua.
            measure "$round" - ceiling+lua ceil -s "$(many_script "$n")"
            measure "$round" "$n" "$c+many" "$key" -s "$(many_script "$n")"
            measure "$round" - ceiling+lua ceil -s "$(many_script "$n")"
        fi
    done
done

# ---- propagation: htauthz's return to the first changed answer ---------------
# (5) on SQLite and (9) on PostgreSQL, PROPAGATION changes each (a user
# disabled, then enabled again), on a keep-alive connection.
for a in "${ACTIVE[@]}"; do
    IFS=: read -r n c key <<< "$a"
    case $c in azs-bcrypt|azs-pg) ;; *) continue ;; esac
    [ "$PROPAGATION" -gt 0 ] || break
    . "$(fixture_dir "$n")/fixture.env"
    port=PORT_$key
    if [ "$c" = azs-pg ]; then
        pdb=$(pg_url "$(pg_bench_db "$(fixture_dir "$n")")")
    else
        pdb=$(fixture_dir "$n")/azs_bcrypt.db
    fi
    # shellcheck disable=SC2046
    set -- $(python3 "$bench/propagate.py" "$HTAUTHZ" "$pdb" "${!port}" \
        "$FX_VALID" "$FX_PASSWORD" "$PROPAGATION")
    raw propagation "$n" "$c" "$PROPAGATION" "$@"
    log "propagation ($c, $n users): p50 $1 ms, p99 $2 ms, max $3 ms, missed $4 of $PROPAGATION"
done

largest=0
for n in $USERS; do [ "$n" -gt "$largest" ] && largest=$n; done
li=0 i=0
for n in $USERS; do i=$(( i + 1 )); [ "$n" = "$largest" ] && li=$i; done
. "$(fixture_dir "$largest")/fixture.env"

# ---- crowd and churn: many returning users, unrelated writes -----------------
# On a copy of (5)'s database at the largest size, in one server: CROWD_MAX
# users holding the permission are each verified once (a bcrypt each, by a
# parallel client), then wrk cycles through the first K of them for every
# K in CROWD (no writes), then for every K in CHURN_CROWDS and R in CHURN
# while htauthz commits R unrelated writes a second (in turn: another user
# added, a token issued to another user, an address blocked, a role added).
# One pass (writes made in one run are still there in the next).
if [ -n "$CROWD" ] || [ -n "$CHURN" ] || [ -n "$GRANT_CHURN" ]; then
    cfx=$RUNDIR/crowd
    mkdir -p "$cfx"
    chmod 755 "$cfx"
    [ -z "$RUN_USER" ] || chown "$RUN_USER:$RUN_GROUP" "$cfx"
    # SQLite's backup (what the WAL holds too), as the server's user so
    # that it owns every file it opens.
    ${RUN_USER:+runuser -u "$RUN_USER" --} python3 -c '
import sqlite3, sys
s = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
d = sqlite3.connect(sys.argv[2])
s.backup(d)
d.execute("PRAGMA journal_mode = WAL")
d.close()' "$(fixture_dir "$largest")/azs_bcrypt.db" "$cfx/azs_crowd.db"
    crowd_max=0
    for k in $CROWD ${CHURN:+$CHURN_CROWDS} ${GRANT_CHURN:+$CHURN_CROWDS}; do
        [ "$k" -gt "$crowd_max" ] && crowd_max=$k
    done
    python3 "$bench/crowd.py" pick "$(fixture_dir "$largest")/authorized.txt" \
        "$crowd_max" "$cfx/names"
  # The same runs on SQLite, then (--crowd-pg) on PostgreSQL holding the
  # same data: CKEY the server, CDB what htauthz writes to.
  for CBACK in sqlite ${CROWD_PG:+postgresql}; do
    if [ "$CBACK" = postgresql ]; then
        pg_bench_prepare "$cfx" azs_crowd.db || break
        CKEY=crowdpg CDB=$(pg_url "$(pg_bench_db "$cfx")")
        start_server crowdpg azs-pg "$cfx" || exit 1
        check_config "$largest" azs-pg crowdpg \
            || { log "the crowd server (PostgreSQL) answers wrongly: $RUNDIR/crowdpg/logs/error.log"; exit 1; }
    else
        CKEY=crowd CDB=$cfx/azs_crowd.db
        start_server crowd azs-crowd "$cfx" || exit 1
        check_config "$largest" azs-crowd crowd \
            || { log "the crowd server answers wrongly: $RUNDIR/crowd/logs/error.log"; exit 1; }
    fi
    CPORT=PORT_$CKEY CROOT=ROOT_$CKEY
    CPORT=${!CPORT} CROOT=${!CROOT}
    log "crowd ($CBACK): verifying $crowd_max users once ($WARM_CONNS requests at once)"
    warm=$(python3 "$bench/crowd.py" warm "$CPORT" /p/file.txt "$cfx/names" \
        "$crowd_max" "$FX_PASSWORD" "$WARM_CONNS")
    # shellcheck disable=SC2086
    raw warm "$largest" "$crowd_max" $warm "$CBACK"
    log "crowd: $crowd_max users verified in $(cut -d' ' -f1 <<< "$warm") s (200: $(cut -d' ' -f2 <<< "$warm"), other: $(cut -d' ' -f3 <<< "$warm"))"
    wait_idle "$CROOT"

    # churn_loop RATE SECONDS LOG TAG MODE: RATE writes a second for
    # SECONDS, one line each in LOG ("kind exit-status ms"), on wrk's CPU
    # with --pin; TAG (a number) makes the names and addresses of one run
    # new.  MODE mixed: the four unrelated writes in turn; grant: a new
    # permission granted to role00001, which every crowd user inherits.
    churn_loop() {
        local rate=$1 secs=$2 logf=$3 tag=$4 mode=$5 db=$CDB i=0 t0 now next d rc kind w0
        [ "$PIN" = 0 ] || taskset -pc 1 "$BASHPID" >/dev/null 2>&1 || true
        : > "$logf"
        t0=$(date +%s%N)
        while :; do
            next=$(( t0 + i * 1000000000 / rate ))
            [ $(( next - t0 )) -lt $(( secs * 1000000000 )) ] || break
            now=$(date +%s%N)
            if [ "$next" -gt "$now" ]; then
                d=$(( next - now ))
                sleep "$(( d / 1000000000 )).$(printf '%09d' $(( d % 1000000000 )))"
            fi
            rc=0 w0=$(date +%s%N)
            case $mode-$(( i % 4 )) in
            grant-*) kind=role-grant
               "$HTAUTHZ" -d "$db" role grant role00001 "churn:$tag-$i" \
                   >/dev/null 2>&1 || rc=$? ;;
            mixed-0) kind=user-add
               printf 'churn-pw-%d\n' "$i" | "$HTAUTHZ" -d "$db" user add \
                   "churn$tag-$i" --password-stdin >/dev/null 2>&1 || rc=$? ;;
            mixed-1) kind=token-issue
               "$HTAUTHZ" -d "$db" token issue "$FX_DENIED" --label churn \
                   >/dev/null 2>&1 || rc=$? ;;
            mixed-2) kind=ip-block
               "$HTAUTHZ" -d "$db" ip block \
                   "198.$(( 18 + (i >> 8 & 1) )).$(( tag % 256 )).$(( i & 255 ))" \
                   --reason churn >/dev/null 2>&1 || rc=$? ;;
            mixed-3) kind=role-add
               "$HTAUTHZ" -d "$db" role add "churn$tag-$i" >/dev/null 2>&1 || rc=$? ;;
            esac
            echo "$kind $rc $(( ($(date +%s%N) - w0) / 1000000 ))" >> "$logf"
            i=$(( i + 1 ))
        done
    }

    # crowd_script K: the wrk script cycling through the first K users
    # (made once), its path on stdout.
    crowd_script() {
        local s=$cfx/crowd-$1.lua
        [ -f "$s" ] || python3 "$bench/crowd.py" lua "$cfx/names" "$1" "$FX_PASSWORD" > "$s"
        echo "$s"
    }
    # crowd_run K RATE SECONDS [MODE]: one recorded run of the first K
    # users, with RATE writes a second (0: none) of churn_loop's MODE
    # (mixed; first: no writes, the first pass after the verification).
    crowd_run() {
        local k=$1 rate=$2 secs=$3 mode=${4:-mixed} cfg=crowd-$1 s o res t0 t1 cpu
        local cpid="" clog=$cfx/churn-$(( SEQ + 1 )).log writes=0 wfail=0 wms=0
        [ "$rate" = 0 ] || cfg=churn-$k-$rate
        [ "$mode" = mixed ] || cfg=$mode-$k-$rate
        s=$(crowd_script "$k")
        t0=$(server_ticks "$CROOT")
        if [ "$rate" != 0 ]; then
            churn_loop "$rate" "$secs" "$clog" $(( SEQ + 1 )) "$mode" &
            cpid=$!
            BGPIDS+=("$cpid")
        fi
        o=$("${CLI_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 30s \
            -s "$s" "http://127.0.0.1:$CPORT/p/file.txt" 2>&1) || true
        if [ -n "$cpid" ]; then
            wait "$cpid" || true
            read -r writes wfail wms < <(awk '{n++; if ($2 != 0) f++; t += $3}
                END {printf "%d %d %d\n", n, f, n ? t / n : 0}' "$clog")
        fi
        wait_idle "$CROOT"
        t1=$(server_ticks "$CROOT")
        res=$(awk '
            /^Requests\/sec:/ { rps = $2 }
            / requests in / { total = $1 }
            /Non-2xx or 3xx responses:/ { non = $NF }
            /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
            /^azs-status / { s503 = $3; bad = $5 }
            END { printf "%s %s %d %d %d %d\n", rps == "" ? 0 : rps, total + 0,
                  non, err, s503, bad }' <<< "$o")
        cpu=$(awk -v d=$(( t1 - t0 )) -v hz="$CLK_TCK" '{
            printf "%.1f", ($2 > 0 && d >= 0) ? d * 1e6 / hz / $2 : -1 }' <<< "$res")
        SEQ=$(( SEQ + 1 ))
        # shellcheck disable=SC2086
        raw run "$SEQ" 1 "$largest" "$cfg" $(cut -d' ' -f1-4 <<< "$res") "$cpu"
        # shellcheck disable=SC2086
        raw crowd "$SEQ" "$k" "$rate" $(cut -d' ' -f5-6 <<< "$res") "$writes" "$wfail" "$wms" "$secs" "$mode" "$CBACK"
        log "$(printf '%-18s' "$cfg") $(awk '{printf "%10.1f req/s  (non-200 %d, of which 503 %d, errors %d)", $1, $6, $5, $4}' <<< "$res")  writes $writes (failed $wfail)  $cpu us CPU/request"
    }

    # The ceiling beside each crowd run sends the same rotation through
    # the same Lua hook (it ignores the header): both sides pay the
    # client's cost, which without --pin is CPU taken from httpd.
    CROWD_CEIL=(-s "$(crowd_script "$crowd_max")")
    measure 1 - ceiling+lua ceil "${CROWD_CEIL[@]}"
    # The whole crowd once more, recorded as the first pass: the
    # verification met each user in one child, and each child remembers
    # users and roles for itself (AuthzStatusMemo).
    crowd_run "$crowd_max" 0 "$DURATION" first
    measure 1 - ceiling+lua ceil "${CROWD_CEIL[@]}"
    # Then every scenario, CROWD_ROUNDS times over (one run each is at
    # the mercy of a noisy neighbour; the report takes the median).
    for cround in $(seq 1 "$CROWD_ROUNDS"); do
        log "crowd ($CBACK): round $cround of $CROWD_ROUNDS"
        for k in $CROWD; do
            crowd_run "$k" 0 "$DURATION"
            measure "$cround" - ceiling+lua ceil "${CROWD_CEIL[@]}"
        done
        for k in ${CHURN:+$CHURN_CROWDS}; do
            for r in $CHURN; do
                crowd_run "$k" "$r" "$CHURN_DURATION"
                measure "$cround" - ceiling+lua ceil "${CROWD_CEIL[@]}"
            done
        done
        for k in ${GRANT_CHURN:+$CHURN_CROWDS}; do
            for r in $GRANT_CHURN; do
                crowd_run "$k" "$r" "$CHURN_DURATION" grant
                measure "$cround" - ceiling+lua ceil "${CROWD_CEIL[@]}"
            done
        done
    done
    stop_httpd "$CROOT/httpd.pid"
  done
fi

if [ "$EXTRAS" = 1 ]; then
    # ---- target 6: resident memory per child after load ----------------
    i=0
    for n in $USERS; do
        i=$(( i + 1 ))
        for c in azs-bcrypt azs-sha-nocache azs-bearer; do
            key=s${i}_${c//-/_}
            root=$RUNDIR/$key
            [ -s "$root/httpd.pid" ] || continue
            for p in $(pgrep -P "$(cat "$root/httpd.pid")" || true); do
                kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
                [ -n "$kb" ] && raw rss "$n" "$c" "$p" "$kb"
            done
        done
    done

    # ---- target 5: wrong passwords must not starve a cached client ------
    key=s${li}_azs_bcrypt
    port=PORT_$key
    if [ -n "${!port:-}" ]; then
        log "target 5: $T5_VALID_CONNS valid connection(s) alone, then beside $T5_ATTACK_CONNS sending wrong passwords"
        read -r -a res <<< "$(attack_beside "$key" 0)"
        # shellcheck disable=SC2086
        raw t5 "$largest" "${res[@]}"
        log "target 5: alone ${res[0]} req/s, under attack ${res[4]} req/s, wrong passwords answered ${res[8]} req/s"
    fi

    # ---- the throttle's flood: the same attack, throttled ----------------
    # On (10), behind mod_remoteip: the attackers' connections name
    # 192.0.2.66 in X-Forwarded-For, so after 20 failures they get 429;
    # the valid client (127.0.0.1) is measured alone, then beside them:
    # attackers 50 ms away (each connection sends its next request 50 ms
    # after its answer), then as fast as answers come (a flood bounded only
    # by what the server can answer).
    key=s${li}_azs_throttle
    port=PORT_$key
    if [ -n "${!port:-}" ]; then
        for pause in 50 0; do
            log "throttle flood: $T5_VALID_CONNS valid connection(s) alone, then beside $T5_ATTACK_CONNS sending wrong passwords from 192.0.2.66, $pause ms after each answer"
            read -r -a res <<< "$(attack_beside "$key" "$pause" -H "X-Forwarded-For: 192.0.2.66")"
            hashed=$(grep -c 'AZS0102: 401 bad-password' "$RUNDIR/$key/logs/error.log" || true)
            raw flood "$largest" "${res[@]}" "$hashed" "$pause"
            log "throttle flood: alone ${res[0]} req/s, beside the flood ${res[4]} req/s, the flood answered ${res[8]} req/s (429), $hashed passwords checked for it"
        done
    fi

    # ---- target 6: start-up with the largest database -----------------
    i=0
    for n in $USERS; do
        i=$(( i + 1 ))
        key=s${i}_azs_bcrypt
        root=$RUNDIR/$key
        port=PORT_$key
        [ -s "$root/httpd.pid" ] || continue
        . "$(fixture_dir "$n")/fixture.env"
        stop_httpd "$root/httpd.pid"
        sleep 0.5
        t0=$(now_ms)
        "${SRV_PIN[@]}" "$APACHE2" -f "$root/httpd.conf" -k start
        t1=$(now_ms)
        t2= t3=
        for j in $(seq 1 1000); do
            if [ -z "$t2" ] && [ "$(code "http://127.0.0.1:${!port}/p/file.txt")" = 401 ]; then
                t2=$(now_ms)
            fi
            if [ -n "$t2" ] && [ "$(code -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "http://127.0.0.1:${!port}/p/file.txt")" = 200 ]; then
                t3=$(now_ms)
                break
            fi
            sleep 0.01
        done
        raw startup "$n" "$(( t1 - t0 ))" "$(( ${t2:-0} - t0 ))" "$(( ${t3:-0} - t0 ))"
        log "start-up with $n users: apache2 -k start $(( t1 - t0 )) ms, first 401 $(( ${t2:-0} - t0 )) ms, first 200 (one bcrypt) $(( ${t3:-0} - t0 )) ms"
    done

    # ---- target 7: the CLI on the largest database ---------------------
    cli=$RUNDIR/cli
    mkdir -p "$cli"
    fx=$(fixture_dir "$largest")
    cp "$fx/azs_bcrypt.db" "$cli/big.db"
    bhash=$(sqlite3 "$cli/big.db" "SELECT hash FROM users LIMIT 1")
    python3 - "$cli/import.htpasswd" "$bhash" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.writelines("imp%06d:%s\n" % (i, sys.argv[2]) for i in range(100000))
EOF
    # timed LABEL DB-SIZE STDIN cmd...: one timing, in ms
    timed() {
        local label=$1 size=$2 input=$3 t0 t1 rc=0
        shift 3
        t0=$(now_ms)
        if [ -n "$input" ]; then
            printf '%s\n' "$input" | "$@" >/dev/null 2>"$cli/err" || rc=$?
        else
            "$@" >/dev/null 2>"$cli/err" < /dev/null || rc=$?
        fi
        t1=$(now_ms)
        if [ "$rc" != 0 ]; then
            log "target 7: $label failed ($rc): $(head -n 1 "$cli/err")"
            raw cli "$label" "$size" fail
        else
            raw cli "$label" "$size" "$(( t1 - t0 ))"
        fi
    }
    "$HTAUTHZ" -d "$cli/imp.db" init >/dev/null 2>&1
    timed "import htpasswd (100,000 lines)" 0 "" \
        "$HTAUTHZ" -d "$cli/imp.db" import htpasswd "$cli/import.htpasswd"
    timed "import htpasswd (100,000 lines)" "$largest" "" \
        "$HTAUTHZ" -d "$cli/big.db" import htpasswd "$cli/import.htpasswd"
    "$HTAUTHZ" -d "$cli/small.db" init >/dev/null 2>&1
    for r in 1 2 3 4 5 6 7; do
        timed "bcrypt cost 10 alone (htpasswd -nbB)" - "" htpasswd -nbB -C 10 x "pw-$r"
        timed "process start alone (htauthz --help)" - "" "$HTAUTHZ" --help
        timed "user add --password-stdin" 0 "pw-$r" \
            "$HTAUTHZ" -d "$cli/small.db" user add "new$r" --password-stdin
        timed "user add --password-stdin" "$largest" "pw-$r" \
            "$HTAUTHZ" -d "$cli/big.db" user add "new$r" --password-stdin
        timed "user grant" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" user grant "u000000$r" "role0000$(( r + 1 ))"
        timed "user revoke" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" user revoke "u000000$r" "role0000$(( r + 1 ))"
        timed "user disable" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" user disable "u000000$r"
        timed "ip block" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" ip block "198.51.100.$r" --reason bench
        timed "ip unblock" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" ip unblock "198.51.100.$r"
        timed "role grant" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" role grant "role0000$r" "cli:perm$r"
        timed "token issue" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" token issue "u000000$r"
        timed "check" "$largest" "" \
            "$HTAUTHZ" -d "$cli/big.db" check "$FX_VALID" "$FX_PERM"
    done
fi

# Anything alarming in the error logs: crashes, database errors.
for root in "$RUNDIR"/*/; do
    [ -f "$root/logs/error.log" ] || continue
    n=$(grep -cE 'exit signal|AH00052|AZS0501|AZS06' "$root/logs/error.log" || true)
    [ "$n" = 0 ] || raw alarm "$(basename "$root")" "$n" \
        "$(grep -E 'exit signal|AH00052|AZS0501|AZS06' "$root/logs/error.log" | head -n 1)"
done

raw meta "load after" "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$bench/report.py" "$RAW" | tee "$REPORT"
cp "$REPORT" "$out/latest-$mode.txt"
log "report: $REPORT (raw: $RAW)"
[ "$CHECK_FAILS" = 0 ] || { log "$CHECK_FAILS check(s) failed: see the report"; exit 1; }

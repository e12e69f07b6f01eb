# shellcheck shell=bash
#
# lib_fleet.sh - more httpd servers beside the case's own (a fleet sharing
# one PostgreSQL database), for cases run with AZS_BACKEND=postgresql.
#
#   . "$(dirname "$0")/../lib_fleet.sh"
#   azs_start                 # node 0: the case's own server ($AZS_URL)
#   fleet_start 2             # nodes 1 and 2: the same configuration,
#                             # their own port, pid file and logs
#   "${FLEET_URLS[@]}"        # every node's URL, node 0 first
#   fleet_logs                # every node's error log
#   fleet_stop                # also run when the case ends
#
# Each node is started and stopped as azs_start does (its own session,
# SIGTERM, bounded waits); a node's error log is checked with the case's
# own by azs_done (fleet_check_logs).

FLEET_URLS=()
FLEET_PIDS=()
FLEET_LOGS=()

fleet_start() {
    local n=$1 i port dir conf pid
    FLEET_URLS=("$AZS_URL")
    FLEET_LOGS=("$AZS_ERROR_LOG")
    # Registered before the first node starts: a node that fails to start
    # does not leave the ones before it running.
    [ -n "${FLEET_ON_EXIT:-}" ] || azs_on_exit fleet_stop
    FLEET_ON_EXIT=1
    for i in $(seq 1 "$n"); do
        port=$(azs_free_port) || _azs_die "no free port"
        dir=$AZS_ROOT/node$i
        mkdir -p "$dir/logs" "$dir/run"
        [ -z "$AZS_RUN_USER" ] || chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$dir/run"
        conf=$dir/httpd.conf
        sed -e "s|^Listen 127.0.0.1:.*|Listen 127.0.0.1:$port|" \
            -e "s|^PidFile .*|PidFile \"$dir/run/httpd.pid\"|" \
            -e "s|^DefaultRuntimeDir .*|DefaultRuntimeDir \"$dir/run\"|" \
            -e "s|^ErrorLog .*|ErrorLog \"$dir/logs/error.log\"|" \
            -e "s|^CustomLog .*|CustomLog \"$dir/logs/access.log\" common|" \
            "$AZS_CONF_DIR/httpd.conf" > "$conf"
        setsid "$APACHE2" -d "$AZS_ROOT" -f "$conf" -DFOREGROUND \
            >"$dir/logs/httpd.out" 2>&1 </dev/null &
        pid=$!
        FLEET_PIDS+=("$pid")
        FLEET_URLS+=("http://127.0.0.1:$port")
        FLEET_LOGS+=("$dir/logs/error.log")
        for _ in $(seq 1 $((AZS_START_TIMEOUT * 20))); do
            _azs_alive "$pid" || _azs_die "node $i exits: $(cat "$dir/logs/httpd.out")"
            curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && break
            sleep 0.05
        done
    done
}

fleet_stop() {
    local pid
    for pid in "${FLEET_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${FLEET_PIDS[@]}"; do
        for _ in $(seq 1 $((AZS_STOP_TIMEOUT * 20))); do
            _azs_alive "$pid" || break
            sleep 0.05
        done
        _azs_alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    FLEET_PIDS=()
}

# The lines of every node's error log that match a regex.
fleet_grep() {
    cat "${FLEET_LOGS[@]}" 2>/dev/null | grep -E -- "$1"
}

# Every other node's error log holds nothing the case did not allow (node
# 0's is checked by azs_done).
fleet_check_logs() {
    local i bad
    for i in $(seq 1 $((${#FLEET_LOGS[@]} - 1))); do
        bad=$(AZS_ERROR_LOG=${FLEET_LOGS[$i]} azs_unexpected_log)
        if [ -z "$bad" ]; then
            _azs_ok "node $i: no unexpected error-log lines"
        else
            _azs_not_ok "node $i: no unexpected error-log lines" "$bad"
        fi
    done
}

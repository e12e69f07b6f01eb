# shellcheck shell=bash
#
# lib_redis.sh - a real redis-server for a case (the throttle's shared
# cache across a fleet), on 127.0.0.1 and a free port, in the case's
# ServerRoot, nothing saved to disk; stopped by pid.
#
#   . "$(dirname "$0")/../lib_redis.sh"
#   redis_need                # skip the case (77) without redis-server
#   redis_start               # REDIS_PORT, REDIS_PID
#   redis_stop
#   redis_cli ARGS...         # redis-cli on that port

REDIS_PORT=
REDIS_PID=

redis_need() {
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null
    then
        printf '# SKIP: redis-server is not installed (apt-get install redis-server)\n'
        exit 77
    fi
}

redis_cli() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_start() {
    local dir=$AZS_ROOT/redis
    mkdir -p "$dir"
    [ -n "$REDIS_PORT" ] || REDIS_PORT=$(azs_free_port) || _azs_die "no free port"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --dir "$dir" \
        >"$dir/redis.log" 2>&1 </dev/null &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
        [ "$(redis_cli ping 2>/dev/null)" = PONG ] && return 0
        _azs_alive "$REDIS_PID" || break
        sleep 0.05
    done
    _azs_die "redis-server does not start: $(tail -n 5 "$dir/redis.log")"
}

redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    kill -TERM "$REDIS_PID" 2>/dev/null
    for _ in $(seq 1 100); do
        _azs_alive "$REDIS_PID" || break
        sleep 0.05
    done
    _azs_alive "$REDIS_PID" && kill -KILL "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}

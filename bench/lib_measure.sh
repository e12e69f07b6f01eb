# bench/lib_measure.sh - sourced by bench/run.sh: measuring (wrk_run, measure,
# wait_idle) and the checks that every configuration answers correctly
# (check_config), with the load each configuration gets (load_args, many_script).
# Uses run.sh's settings and helpers (log, raw, RAW, RUNDIR, the servers, ...).
# shellcheck shell=bash

# ---- measuring --------------------------------------------------------------

basic() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

# CPU ticks used by a server (master and children, all threads).
server_ticks() {
    local m p files=()
    m=$(cat "$1/httpd.pid" 2>/dev/null) || { echo 0; return; }
    for p in "$m" $(pgrep -P "$m" || true); do
        files+=("/proc/$p/stat")
    done
    cat "${files[@]}" 2>/dev/null | awk '{s += $14 + $15} END {print s + 0}'
}

# Wait (at most 60 s) until a server has finished what the last run left
# in flight, so it does not steal CPU from the next run.
wait_idle() {
    local root=$1 a b i
    for i in $(seq 1 120); do
        a=$(server_ticks "$root")
        sleep 0.5
        b=$(server_ticks "$root")
        [ $(( b - a )) -le 2 ] && return 0
    done
    log "warning: $root still busy after 60 s"
}

# wrk_run URL SECONDS CONNS [wrk args...]: prints "rps total non2xx errors".
wrk_run() {
    local url=$1 d=$2 c=$3 o
    shift 3
    o=$("${CLI_PIN[@]}" wrk -t"$THREADS" -c"$c" -d"${d}s" --timeout 30s "$@" "$url" 2>&1) || true
    awk '
        /^Requests\/sec:/ { rps = $2 }
        / requests in / { total = $1 }
        /Non-2xx or 3xx responses:/ { non = $NF }
        /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
        END { printf "%s %s %d %d\n", rps == "" ? 0 : rps, total + 0, non, err }
    ' <<< "$o"
}

# attack_beside KEY PAUSE_MS [HEADER-ARGS...] - the valid user on
# $T5_VALID_CONNS connection(s) of server KEY alone, then beside
# $T5_ATTACK_CONNS connections sending it with a wrong password (and
# HEADER-ARGS), each PAUSE_MS after its answer (0: at once; wrk's Lua
# delay()); prints the valid client's wrk_run fields alone, then beside
# the attack, then the attack's requests/s.
attack_beside() {
    local key=$1 pause=$2 port url good bad alone loaded attack lua=()
    shift 2
    port=PORT_$key
    url="http://127.0.0.1:${!port}/p/file.txt"
    good=$(basic "$FX_VALID" "$FX_PASSWORD")
    bad=$(basic "$FX_VALID" "not-$FX_PASSWORD")
    if [ "$pause" != 0 ]; then
        printf 'function delay()\n  return %d\nend\n' "$pause" > "$RUNDIR/pause-$pause.lua"
        lua=(-s "$RUNDIR/pause-$pause.lua")
    fi
    alone=$(wrk_run "$url" "$DURATION" "$T5_VALID_CONNS" -H "$good")
    wait_idle "$RUNDIR/$key"
    "${CLI_PIN[@]}" wrk -t1 -c"$T5_ATTACK_CONNS" -d"$(( DURATION + 4 ))s" --timeout 30s \
        "${lua[@]}" -H "$bad" "$@" "$url" > "$RUNDIR/attack-$key.txt" 2>&1 &
    BGPIDS+=($!)
    sleep 2
    loaded=$(wrk_run "$url" "$DURATION" "$T5_VALID_CONNS" -H "$good")
    wait "${BGPIDS[-1]}" || true
    attack=$(awk '/^Requests\/sec:/ {print $2}' "$RUNDIR/attack-$key.txt")
    wait_idle "$RUNDIR/$key"
    echo "$alone $loaded ${attack:-0}"
}

SEQ=0
# measure ROUND SIZE CONFIG KEY HEADER-ARGS...: one recorded run.
# Also records the server's CPU time (all its processes, user + system)
# per answered request, which other load on the machine disturbs less than
# requests/s.
CLK_TCK=$(getconf CLK_TCK)
measure() {
    local round=$1 size=$2 config=$3 key=$4 port root res t0 t1 cpu
    shift 4
    port=PORT_$key root=ROOT_$key
    t0=$(server_ticks "${!root}")
    res=$(wrk_run "http://127.0.0.1:${!port}/p/file.txt" "$DURATION" "$CONNS" "$@")
    wait_idle "${!root}"
    t1=$(server_ticks "${!root}")
    cpu=$(awk -v d=$(( t1 - t0 )) -v hz="$CLK_TCK" '{
        printf "%.1f", ($2 > 0 && d >= 0) ? d * 1e6 / hz / $2 : -1 }' <<< "$res")
    SEQ=$(( SEQ + 1 ))
    # shellcheck disable=SC2086
    raw run "$SEQ" "$round" "$size" "$config" $res "$cpu"
    log "round $round  $(printf '%-10s %-18s' "$size" "$config") $(awk '{printf "%10.1f req/s  (non-2xx %d, errors %d)", $1, $3, $4}' <<< "$res")  $cpu us CPU/request"
}

# ---- checks: a benchmark of error pages is worthless --------------------------

CHECK_FAILS=0
code() {
    curl -s -o /dev/null --max-time 60 -w '%{http_code}' "$@" || true
}
expect() {   # expect SIZE CONFIG WANT WHAT curl-args...
    local size=$1 config=$2 want=$3 what=$4 got
    shift 4
    got=$(code "$@")
    if [ "$got" = "$want" ]; then
        return 0
    fi
    log "CHECK FAILED: $config ($size users): $what: got $got, want $want"
    raw check "$size" "$config" fail "$what: got $got, want $want"
    CHECK_FAILS=$(( CHECK_FAILS + 1 ))
    return 1
}

# check_config SIZE CONFIG KEY: 0 if the server answers as it must.
check_config() {
    local size=$1 config=$2 key=$3 port url fx ok=0 body hdr
    port=PORT_$key
    url="http://127.0.0.1:${!port}/p/file.txt"
    fx=$(fixture_dir "$size")
    case $config in
    azs-bearer)
        expect "$size" "$config" 401 "no token" "$url" || ok=1
        expect "$size" "$config" 200 "valid token" \
            -H "Authorization: Bearer $(cat "$fx/token.valid")" "$url" || ok=1
        expect "$size" "$config" 401 "unknown token" \
            -H "Authorization: Bearer azs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$url" || ok=1
        expect "$size" "$config" 403 "token of a user lacking $FX_PERM" \
            -H "Authorization: Bearer $(cat "$fx/token.denied")" "$url" || ok=1
        ;;
    azs-blocked)
        expect "$size" "$config" 403 "valid user from a blocked address" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 403 "no credentials from a blocked address" "$url" || ok=1
        hdr=$(curl -s -o /dev/null -D - --max-time 10 "$url" | tr -d '\r' \
              | grep -ci '^WWW-Authenticate:' || true)
        [ "$hdr" = 0 ] || { log "CHECK FAILED: $config: 403 carries a challenge"; ok=1; }
        ;;
    ceiling)
        expect "$size" "$config" 200 "no authentication" "$url" || ok=1
        ;;
    azs-throttled)
        # One wrong password bans 127.0.0.1 (AuthzStatusThrottle 1/1h).
        expect "$size" "$config" 401 "wrong password" \
            -H "$(basic "$FX_VALID" "wrong-$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 429 "valid user from the throttled address" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 429 "no credentials from the throttled address" "$url" || ok=1
        hdr=$(curl -s -o /dev/null -D - --max-time 10 "$url" | tr -d '\r')
        grep -qi '^WWW-Authenticate:' <<< "$hdr" \
            && { log "CHECK FAILED: $config: 429 carries a challenge"; ok=1; }
        grep -qiE '^Retry-After: [0-9]+$' <<< "$hdr" \
            || { log "CHECK FAILED: $config: 429 without Retry-After"; ok=1; }
        ;;
    *)
        expect "$size" "$config" 401 "no credentials" "$url" || ok=1
        expect "$size" "$config" 200 "valid user" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 401 "wrong password" \
            -H "$(basic "$FX_VALID" "wrong-$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 401 "unknown user" \
            -H "$(basic "nobody-$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        expect "$size" "$config" 403 "user lacking the group/permission" \
            -H "$(basic "$FX_DENIED" "$FX_PASSWORD")" "$url" || ok=1
        ;;
    esac
    if [ "$config" = azs-bcrypt ] && [ "$ok" = 0 ]; then
        # With the cache warm, every change is seen by the next request.
        local db=$fx/azs_bcrypt.db
        expect "$size" "$config" 200 "valid user (cached)" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        "$HTAUTHZ" -d "$db" user revoke "$FX_VALID" "$FX_VALID_ROLE" >/dev/null
        expect "$size" "$config" 403 "next request after user revoke" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        "$HTAUTHZ" -d "$db" user grant "$FX_VALID" "$FX_VALID_ROLE" >/dev/null
        "$HTAUTHZ" -d "$db" user disable "$FX_VALID" >/dev/null
        expect "$size" "$config" 401 "next request after user disable" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
        "$HTAUTHZ" -d "$db" user enable "$FX_VALID" >/dev/null
        expect "$size" "$config" 200 "next request after user enable + grant" \
            -H "$(basic "$FX_VALID" "$FX_PASSWORD")" "$url" || ok=1
    fi
    if [ "$config" != ceiling ] && [ "$config" != azs-blocked ] \
       && [ "$config" != azs-throttled ] && [ "$ok" = 0 ]; then
        load_args "$size" "$config"
        body=$(curl -s --max-time 60 "${LOAD[@]}" "$url" | wc -c)
        [ "$body" = 100 ] || { log "CHECK FAILED: $config: body of $body bytes"; ok=1; }
    fi
    if [ "$ok" = 0 ]; then
        raw check "$size" "$config" ok ""
    fi
    return "$ok"
}

# The header arguments wrk sends for a configuration.
load_args() {   # load_args SIZE CONFIG -> sets LOAD (array)
    local fx
    fx=$(fixture_dir "$1")
    if [ "$2" = azs-bearer ]; then
        LOAD=(-H "Authorization: Bearer $(cat "$fx/token.valid")")
    else
        LOAD=(-H "$(basic "$FX_VALID" "$FX_PASSWORD")")
    fi
}

# A wrk script sending the Authorization of MANY_USERS users in turn, all
# of them holding the permission (and in benchgrp for mod_authz_dbd).
many_script() {   # many_script SIZE -> path
    local fx s
    fx=$(fixture_dir "$1")
    s=$RUNDIR/many-$1.lua
    python3 - "$fx/authorized.txt" "$MANY_USERS" "$FX_PASSWORD" \
        "$RUNDIR/many-$1.names" > "$s" <<'EOF'
import base64, sys
names = [l.strip() for l in open(sys.argv[1]) if l.strip()]
k = min(int(sys.argv[2]), len(names))
step = max(1, len(names) // k)
pick = names[::step][:k]
with open(sys.argv[4], "w") as f:
    f.writelines(n + "\n" for n in pick)
print("local hdrs = {")
for n in pick:
    v = base64.b64encode(("%s:%s" % (n, sys.argv[3])).encode()).decode()
    print('  "Basic %s",' % v)
print("}")
print("""local reqs = {}
local i = 0
init = function(args)
  for j, h in ipairs(hdrs) do
    reqs[j] = wrk.format("GET", nil, {["Authorization"] = h})
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end""")
EOF
    echo "$s"
}

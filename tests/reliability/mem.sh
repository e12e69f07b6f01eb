#!/bin/bash
# Memory and file descriptors of ONE child under REL_MEM_REQUESTS (default
# 200000) mixed requests: 200 (a bcrypt user, cached login), 401 (wrong
# password of a {SHA} user, so the run takes minutes, not hours), 403
# (valid login, no role) and 400 (malformed credentials, which also closes
# the connection), in equal parts.  httpd runs one child (prefork:
# StartServers 1, MaxRequestWorkers 1; event/worker: ServerLimit 1,
# MaxConnectionsPerChild 0 everywhere); VmRSS and the number of open fds
# (/proc/PID/fd) are sampled every REL_MEM_STEP (10000) requests.  Figures:
# the least-squares slope after warm-up (the first REL_MEM_WARMUP, 20000,
# requests) in KB per 10k requests, and fds at the end vs after warm-up.
# Fails if the child changed, if any answer was unexpected, if the RSS
# slope exceeds REL_MEM_MAX_SLOPE_KB (default 16 KB per 10k) or fds grew.
#
#   AZS_MPMS=prefork tests/integration/run.sh tests/reliability/mem.sh

# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
azs_need_module
LOADGEN=$(dirname "$0")/loadgen.py
total=${REL_MEM_REQUESTS:-200000}
step=${REL_MEM_STEP:-10000}
warm=${REL_MEM_WARMUP:-20000}
max_slope=${REL_MEM_MAX_SLOPE_KB:-16}

azs_db_init
hz role add admin
azs_user_add boss 'Mem-boss-pw-zq7'
hz user grant boss admin
htp=$AZS_ROOT/sha.htpasswd
sha() { printf '%s' "$1" | openssl dgst -sha1 -binary | base64 -w 0; }
printf 'shauser:{SHA}%s\npleb:{SHA}%s\n' "$(sha right)" "$(sha plebpw)" > "$htp"
hz import htpasswd "$htp"
b() { printf '%s' "$1" | base64 -w 0; }
cat > "$AZS_ROOT/spec.json" <<EOF
[{"name":"200","auth":"Basic $(b boss:Mem-boss-pw-zq7)","path":"/admin/","expect":200},
 {"name":"401","auth":"Basic $(b shauser:wrong)","path":"/admin/","expect":401},
 {"name":"403","auth":"Basic $(b pleb:plebpw)","path":"/admin/","expect":403},
 {"name":"400","auth":"Basic !!!notbase64","path":"/admin/","expect":400}]
EOF
azs_loc_admin | azs_conf
azs_conf <<'EOF'
# One child, never recycled.
MaxConnectionsPerChild 0
KeepAliveTimeout 30
MaxKeepAliveRequests 0
<IfModule mpm_prefork_module>
    StartServers 1
    MinSpareServers 1
    MaxSpareServers 1
    MaxRequestWorkers 1
    ServerLimit 1
</IfModule>
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild 8
    MinSpareThreads 1
    MaxSpareThreads 8
    MaxRequestWorkers 8
</IfModule>
# The denials are the point; keep the log small.
LogLevel crit
CustomLog /dev/null common
EOF
azs_start || azs_bail "httpd starts"
child() { pgrep -P "$AZS_PID" | head -n 1; }
kids=$(pgrep -P "$AZS_PID" | wc -l)
expect_true "one child ($kids)" test "$kids" = 1
c0=$(child)
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
samples=$AZS_ROOT/samples
: > "$samples"
# Every client cycles through the four kinds.  prefork's single child
# serves one connection at a time, so it gets a single client.
clients=4
[ "$AZS_MPM" = prefork ] && clients=1
per_round=$((step / clients))
done_n=0 bad=0 t0=$SECONDS
printf '0 %s %s\n' "$(rss "$c0")" "$(fds "$c0")" >> "$samples"
while [ "$done_n" -lt "$total" ]; do
    out=$("$AZS_PYTHON" "$LOADGEN" --port "$AZS_PORT" --spec "$AZS_ROOT/spec.json" \
        --clients "$clients" --requests "$per_round" --mode keepalive \
        --rotate --retry-stale --max-seconds 300)
    n=$(printf '%s' "$out" | "$AZS_PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["requests"], d["failed"])')
    done_n=$((done_n + ${n% *}))
    bad=$((bad + ${n#* }))
    [ "${n#* }" = 0 ] || printf '# round with failures: %s\n' "$out"
    c=$(child)
    if [ "$c" != "$c0" ]; then
        _azs_not_ok "the same child serves all requests" "was $c0, now $c after $done_n"
        break
    fi
    printf '%d %s %s\n' "$done_n" "$(rss "$c")" "$(fds "$c")" >> "$samples"
    [ $(( done_n % 50000 )) -lt "$step" ] && printf '# memory[%s]: %d requests, VmRSS %s KB, %s fds\n' \
        "$AZS_MPM" "$done_n" "$(rss "$c")" "$(fds "$c")"
done
secs=$((SECONDS - t0))
read -r slope fd_w fd_e rss_w rss_e < <("$AZS_PYTHON" - "$samples" "$warm" <<'EOF'
import sys
pts = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
w = [p for p in pts if p[0] >= int(sys.argv[2])]
if len(w) < 2:
    print("nan 0 0 0 0"); sys.exit()
xs = [p[0] / 10000.0 for p in w]; ys = [p[1] for p in w]
mx = sum(xs) / len(xs); my = sum(ys) / len(ys)
sxx = sum((x - mx) ** 2 for x in xs)
s = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
print("%.2f %d %d %d %d" % (s, w[0][2], w[-1][2], w[0][1], w[-1][1]))
EOF
)
printf '# memory[%s]: %d requests (200/401/403/400) on one child in %ds (%d/s): VmRSS %s KB after warm-up -> %s KB, slope %s KB per 10k requests; fds %s -> %s; %d unexpected answers\n' \
    "$AZS_MPM" "$done_n" "$secs" "$((done_n / (secs > 0 ? secs : 1)))" "$rss_w" "$rss_e" "$slope" "$fd_w" "$fd_e" "$bad"
sed 's/^/# sample: /' "$samples" | tail -n 25
expect_true "$done_n >= $total requests sent" test "$done_n" -ge "$total"
expect_true "0 unexpected answers ($bad)" test "$bad" = 0
expect_true "RSS slope after warm-up $slope KB/10k <= $max_slope" \
    awk -v s="$slope" -v m="$max_slope" 'BEGIN { exit !(s != "nan" && s <= m) }'
expect_true "open fds flat after warm-up ($fd_w -> $fd_e)" test "$fd_e" -le "$fd_w"
azs_done

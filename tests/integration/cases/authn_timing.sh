#!/bin/bash
# An unknown user and a wrong password take the same time (PRODUCT.md
# section 3): the module verifies a dummy hash of the same cost for an
# unknown user.  Interleaved samples of both (300 each, or as many as fit
# in 45 s) on one keep-alive connection; the medians must differ by less
# than 20% of the median and by less than 10 ms -- a bound meant for a hash
# of about 80 ms, scaled up when the host is slower than that (a loaded CI
# machine).  Prints the figure.  Timing is the same under every MPM, so
# this runs under event only.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

if [ "$AZS_MPM" != event ]; then
    printf '# SKIP: authn_timing runs under the event MPM only\n'
    exit 77
fi
[ -n "$AZS_PYTHON" ] || { printf '# SKIP: no python3\n'; exit 77; }

pw='T1ming-right-pw-zq7'
bad='T1ming-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"

azs_conf <<'EOF'
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require valid-user
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 401 (unknown-user|bad-password): user "(alice|nobody[0-9]*)" for "/admin/"'

azs_start || azs_bail "httpd starts"

out=$AZS_ROOT/timing.txt
"$AZS_PYTHON" - "$AZS_PORT" "$pw" "$bad" \
    "${AZS_TIMING_PAIRS:-300}" "${AZS_TIMING_BUDGET:-45}" > "$out" <<'EOF'
import base64, http.client, random, statistics, sys, time
port, pw, bad, pairs, budget = sys.argv[1:6]
pairs, budget = int(pairs), float(budget)

def auth(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
status = {}

def one(kind, i):
    # A new unknown name each time; the same wrong password for alice.
    h = auth("nobody%d" % i, bad) if kind == "unknown" else auth("alice", bad)
    t0 = time.perf_counter()
    conn.request("GET", "/admin/", headers={"Authorization": h})
    r = conn.getresponse()
    r.read()
    dt = time.perf_counter() - t0
    status.setdefault(kind, set()).add(r.status)
    return dt

for i in range(4):                       # warm up both paths
    one("unknown", i); one("badpw", i)
samples = {"unknown": [], "badpw": []}
rng = random.Random(7)
t_end = time.monotonic() + budget
for i in range(pairs):
    if time.monotonic() > t_end:
        break
    order = ["unknown", "badpw"]
    rng.shuffle(order)                    # interleaved, in random order
    for kind in order:
        samples[kind].append(one(kind, 100 + i))
u = statistics.median(samples["unknown"]) * 1000
b = statistics.median(samples["badpw"]) * 1000
print("samples %d %d" % (len(samples["unknown"]), len(samples["badpw"])))
print("status %s %s" % (",".join(map(str, sorted(status["unknown"]))),
                        ",".join(map(str, sorted(status["badpw"])))))
print("median_ms %.3f %.3f %.3f" % (u, b, u - b))
print("figure median unknown-user %.1f ms, bad-password %.1f ms, difference %.1f ms (%d + %d samples)"
      % (u, b, u - b, len(samples["unknown"]), len(samples["badpw"])))
EOF
rc=$?
expect_true "the sampler ran (exit $rc)" test "$rc" = 0

figure=$(sed -n 's/^figure //p' "$out")
printf '# %s\n' "$figure"
read -r _ n_u n_b < <(grep '^samples ' "$out")
read -r _ st_u st_b < <(grep '^status ' "$out")
read -r _ med_u med_b diff < <(grep '^median_ms ' "$out")

expect_true "every unknown-user sample answered 401 (got ${st_u:-none})" \
    test "${st_u:-}" = 401
expect_true "every bad-password sample answered 401 (got ${st_b:-none})" \
    test "${st_b:-}" = 401
expect_true "at least 50 samples of each (got ${n_u:-0} and ${n_b:-0})" \
    test "${n_u:-0}" -ge 50 -a "${n_b:-0}" -ge 50
# The wrong password runs a real hash: if it were fast, the comparison
# would mean nothing.
expect_true "a wrong password costs a real hash (medians ${med_u:-?} and ${med_b:-?} ms >= 5 ms)" \
    awk -v u="${med_u:-0}" -v b="${med_b:-0}" 'BEGIN { exit !(u >= 5 && b >= 5) }'
limit=$(awk -v b="${med_b:-0}" 'BEGIN { printf("%.1f", (b > 80) ? 10 * b / 80 : 10) }')
expect_true "median difference < $limit ms (${diff:-?} ms)" \
    awk -v d="${diff:-999}" -v l="$limit" \
        'BEGIN { d = d < 0 ? -d : d; exit !(d < l) }'
expect_true "median difference < 20% of the median (${diff:-?} of ${med_b:-?} ms)" \
    awk -v d="${diff:-999}" -v b="${med_b:-0}" \
        'BEGIN { d = d < 0 ? -d : d; exit !(b > 0 && d < 0.2 * b) }'

azs_done

#!/bin/bash
# An unknown user and a wrong password take the same time (doc/security.md,
# invariant 4): the module verifies a dummy hash of the same cost for an
# unknown user.  Interleaved samples of both (300 each, or as many as fit
# in 45 s) on one keep-alive connection; the medians must differ by less
# than 20% of the median and by less than 10 ms -- a bound meant for a hash
# of about 80 ms, scaled up when the host is slower than that (a loaded CI
# machine).  Prints the figure.  Timing is the same under every MPM, so
# this runs under event only.
#
# Then the failure floor: users whose hashes cost far less than the dummy
# (bcrypt cost 5, $apr1$, {SHA}, imported from htpasswd) give wrong
# passwords, interleaved with unknown users, 20 rounds of each
# (AZS_FLOOR_ROUNDS): every median within the same bound of the
# unknown-user median.

# Its figures are times: make check runs it while no other case runs.
# azs: alone

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
# Cheap hashes, as an htpasswd file brings them in.
htp=$AZS_CONF_DIR/htpasswd
htpasswd -c -b -B -C 5 "$htp" cheap_b5 "$pw" 2>/dev/null \
    && htpasswd -b -m "$htp" cheap_md5 "$pw" 2>/dev/null \
    && htpasswd -b -s "$htp" cheap_sha "$pw" 2>/dev/null \
    || _azs_die "htpasswd failed"
azs_htauthz import htpasswd "$htp" >/dev/null \
    || _azs_die "htauthz import htpasswd failed"

azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS[0-9]{4}: 401 (unknown-user|bad-password): user "(alice|(warm|unknown|ghost)[0-9]*|cheap_(b5|md5|sha))" for "/admin/"'

azs_start || azs_bail "httpd starts"

out=$AZS_ROOT/timing.txt
"$AZS_PYTHON" - "$AZS_PORT" "$pw" "$bad" \
    "${AZS_TIMING_PAIRS:-300}" "${AZS_TIMING_BUDGET:-45}" \
    "${AZS_FLOOR_ROUNDS:-20}" > "$out" <<'EOF'
import base64, http.client, random, statistics, sys, time
port, pw, bad, pairs, budget, rounds = sys.argv[1:7]
pairs, budget, rounds = int(pairs), float(budget), int(rounds)

conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
status = {}

def one(kind, user):
    h = "Basic " + base64.b64encode(("%s:%s" % (user, bad)).encode()).decode()
    t0 = time.perf_counter()
    conn.request("GET", "/admin/", headers={"Authorization": h})
    r = conn.getresponse()
    r.read()
    dt = time.perf_counter() - t0
    status.setdefault(kind, set()).add(r.status)
    return dt

# kind -> user: a new unknown name each time, the same user otherwise.
def sample(users, rounds, seed, t_end):
    kinds = list(users)
    for i in range(2):                   # warm up every path
        for k in kinds:
            one(k, users[k] or "warm%d" % i)
    samples = {k: [] for k in kinds}
    rng = random.Random(seed)
    for i in range(rounds):
        if time.monotonic() > t_end:
            break
        order = kinds[:]
        rng.shuffle(order)               # interleaved, in random order
        for k in order:
            samples[k].append(one(k, users[k] or "%s%d" % (k, i)))
    return samples

samples = sample({"unknown": None, "badpw": "alice"}, pairs, 7,
                 time.monotonic() + budget)
u = statistics.median(samples["unknown"]) * 1000
b = statistics.median(samples["badpw"]) * 1000
print("samples %d %d" % (len(samples["unknown"]), len(samples["badpw"])))
print("status %s %s" % (",".join(map(str, sorted(status["unknown"]))),
                        ",".join(map(str, sorted(status["badpw"])))))
print("median_ms %.3f %.3f %.3f" % (u, b, u - b))
print("figure median unknown-user %.1f ms, bad-password %.1f ms, difference %.1f ms (%d + %d samples)"
      % (u, b, u - b, len(samples["unknown"]), len(samples["badpw"])))

# The failure floor: cheap hashes against unknown users.
status.clear()
samples = sample({"ghost": None, "b5": "cheap_b5", "md5": "cheap_md5",
                  "sha": "cheap_sha"}, rounds, 11, float("inf"))
for k in samples:
    print("floor %s %d %s %.3f" % (k, len(samples[k]),
          ",".join(map(str, sorted(status[k]))),
          statistics.median(samples[k]) * 1000))
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

# ---- the failure floor: cheap hashes fail as slowly as the dummy ----
read -r _ _ n_fu st_fu med_fu < <(grep '^floor ghost ' "$out")
expect_true "every unknown-user floor sample answered 401 (got ${st_fu:-none})" \
    test "${st_fu:-}" = 401
# The bound of the first comparison, against the unknown-user median.
lim=$(awk -v u="${med_fu:-0}" 'BEGIN { printf("%.1f", (u > 80) ? 10 * u / 80 : 10) }')
figure="median unknown-user ${med_fu:-?} ms"
for kind in b5 md5 sha; do
    read -r _ _ _ st med < <(grep "^floor $kind " "$out")
    figure="$figure, $kind ${med:-?} ms"
    expect_true "$kind: every wrong-password sample answered 401 (got ${st:-none})" \
        test "${st:-}" = 401
    expect_true "$kind: wrong password within $lim ms and 20% of the unknown-user median (${med:-?} vs ${med_fu:-?} ms)" \
        awk -v m="${med:-0}" -v u="${med_fu:-0}" -v l="$lim" \
            'BEGIN { d = m - u; d = d < 0 ? -d : d; exit !(u >= 5 && d < l && d < 0.2 * u) }'
done
printf '# floor: %s (%s rounds)\n' "$figure" "${n_fu:-?}"

azs_done

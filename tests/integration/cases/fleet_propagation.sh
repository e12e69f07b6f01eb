#!/bin/bash
# A fleet: three httpd servers sharing one PostgreSQL database (a real
# server, started by the case).  For each kind of change (disable, password,
# role revoke, token revoke, block), $FLEET_CHANGES revocations (200) are made
# with htauthz (the changes undoing them, enable, grant, unblock, made
# between, untimed) while a keep-alive client per node loops; per node, the
# time from htauthz's return to the first request answered as after it.
# Pass: every node changes within AuthzStatusMaxStale (1 s) every time.
# Figures: p50, p99 and max per kind (the aim: p99 under 100 ms).

# azs: timeout 400

AZS_BACKEND=postgresql
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../lib_fleet.sh
. "$(dirname "$0")/../lib_fleet.sh"
azs_need_module

changes=${FLEET_CHANGES:-200}
azs_db_admin_api
azs_user_add dora Fleet-dora-pw-3x
azs_user_add pat Fleet-pw-one-9q
azs_user_add rob Fleet-rob-pw-7m
azs_user_add tina Fleet-tina-pw-8v
hz user grant dora admin
hz user grant pat admin
hz user grant rob admin
hz user grant tina api
azs_secret Fleet-pw-two-4k

{
    azs_loc_admin
    azs_loc_api
    cat <<CONF
<Location "/open">
    AuthzStatusBlocklist On
    Require all granted
</Location>
CONF
} | azs_conf
mkdir -p "$AZS_DOCROOT/open"
printf 'open\n' > "$AZS_DOCROOT/open/index.html"
azs_allow_log 'AZS0103: 401 account-disabled: user "dora"'
azs_allow_log 'AZS0102: 401 bad-password: user "pat"'
azs_allow_log 'AZS0301: 403 missing-role: user "rob"'
azs_allow_log 'AZS0203: 401 token-revoked: user "tina"'
azs_allow_log 'AZS0401: 403 ip-blocked: for "/open/"'
azs_start || azs_bail "httpd starts"
fleet_start 2
expect_true "three nodes answer" test "${#FLEET_URLS[@]}" = 3

out=$AZS_ROOT/propagation.json
"$AZS_PYTHON" "$(dirname "$0")/../fleet_propagate.py" "$HTAUTHZ" "$AZS_DB" \
    "$changes" "${FLEET_URLS[@]}" > "$out" 2> "$AZS_ROOT/propagation.err"
expect_true "the propagation driver ran" test -s "$out" \
    || cat "$AZS_ROOT/propagation.err"

report=$("$AZS_PYTHON" - "$out" "$changes" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100.0))]
for kind, r in res.items():
    for node, ms in enumerate(r["ms"]):
        missed = sum(1 for x in ms if x is None)
        got = [x for x in ms if x is not None]
        print("%s|%d|%d|%d|%d|%.1f|%.1f|%.1f" % (
            kind, node, len(ms), missed, r["wrong"],
            pct(got, 50) if got else -1, pct(got, 99) if got else -1,
            max(got) if got else -1))
PY
)
while IFS='|' read -r kind node count missed wrong p50 p99 max; do
    [ -n "$kind" ] || continue
    expect_true "$kind, node $node: $count changes, every one seen" \
        test "$count" = "$changes" -a "$missed" = 0
    expect_true "$kind, node $node: within the lease (max ${max} ms < 1000)" \
        awk -v m="$max" 'BEGIN { exit !(m >= 0 && m < 1000) }'
    expect_true "$kind, node $node: no unexpected answer" test "$wrong" = 0
    printf '# figure: %s, node %s: p50 %s ms, p99 %s ms, max %s ms (%s revocations)\n' \
        "$kind" "$node" "$p50" "$p99" "$max" "$count"
done <<< "$report"
expect_true "five kinds on three nodes reported" \
    test "$(printf '%s\n' "$report" | grep -c .)" = 15

expect_true "no node logged a database error" \
    test -z "$(fleet_grep 'AZS0501|AZS061[023]')"
fleet_stop
fleet_check_logs
azs_done

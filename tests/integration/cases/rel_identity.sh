#!/bin/bash
# Reliability: identity under concurrency (tests/reliability/README.md).  24
# Basic users and 8 Bearer-token users, one client each, all at once
# (REL_ID_REQUESTS requests per client, default 20; even clients keep-alive,
# odd clients a new connection per request); httpd echoes REMOTE_USER in
# X-Remote-User.  Every answer must be 200 and carry the client's own user:
# mismatches 0.  A per-thread or per-child cache that mixed logins up would
# show here.  httpd may close an idle keep-alive connection (event closes them
# when its workers are busy); a request that failed on a reused connection
# before any byte of the answer is retried once on a new one (RFC 9110 9.2.2)
# and counted apart; any other failure fails the case.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
LOADGEN=$AZS_IT_DIR/../reliability/loadgen.py
[ -f "$LOADGEN" ] || _azs_die "missing $LOADGEN"
per_client=${REL_ID_REQUESTS:-20}
nbasic=24 nbearer=8

azs_db_init
hz role add api
hz role grant api api:call
spec=$AZS_ROOT/spec.json
entries=()
# Users 1-4 get bcrypt hashes (htauthz user add); the others {SHA} hashes
# through import htpasswd, which keeps the setup and the first logins of
# prefork's many children fast.
htp=$AZS_ROOT/users.htpasswd
: > "$htp"
for n in $(seq 1 $nbasic); do
    u=$(printf 'id%02d' "$n") pw="Ident-$n-pw-zq7"
    if [ "$n" -le 4 ]; then
        azs_user_add "$u" "$pw"
    else
        printf '%s:{SHA}%s\n' "$u" \
            "$(printf '%s' "$pw" | openssl dgst -sha1 -binary | base64 -w 0)" >> "$htp"
    fi
    entries+=("$(printf '{"name":"%s","auth":"Basic %s","path":"/admin/","expect":200,"echo":"%s"}' \
        "$u" "$(printf '%s:%s' "$u" "$pw" | base64 -w 0)" "$u")")
done
hz import htpasswd "$htp"
for n in $(seq 1 $nbearer); do
    u=$(printf 'tk%02d' "$n")
    printf '%s:{SHA}%s\n' "$u" "$(printf 'x%s' "$n" | openssl dgst -sha1 -binary | base64 -w 0)" > "$htp"
    hz import htpasswd "$htp"
    hz user grant "$u" api
    t=$(azs_htauthz token issue "$u" | sed -n 1p)
    [ -n "$t" ] || _azs_die "token issue $u failed"
    entries+=("$(printf '{"name":"%s","auth":"Bearer %s","path":"/api/x.json","expect":200,"echo":"%s"}' \
        "$u" "$t" "$u")")
done
( IFS=,; printf '[%s]\n' "${entries[*]}" ) > "$spec"

azs_conf <<'EOF'
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require valid-user
    Header always set X-Remote-User "expr=%{REMOTE_USER}"
</Location>
<Location "/api">
    AuthType Bearer
    AuthName "api"
    Require permission api:call
    Header always set X-Remote-User "expr=%{REMOTE_USER}"
</Location>
# Room for every client at once (the harness's pools are small).
<IfModule mpm_prefork_module>
    StartServers 8
    MaxRequestWorkers 48
</IfModule>
<IfModule mpm_worker_module>
    ServerLimit 8
    MaxRequestWorkers 64
</IfModule>
<IfModule mpm_event_module>
    ServerLimit 8
    MaxRequestWorkers 64
</IfModule>
EOF
azs_start || azs_bail "httpd starts"

# The echo works at all (so a mismatch count of 0 means something).
http_req -u "id01:Ident-1-pw-zq7" /admin/
expect_header X-Remote-User '^id01$' "the echo header carries REMOTE_USER"

clients=$((nbasic + nbearer))
out=$AZS_ROOT/load.json
timeout 120 "$AZS_PYTHON" "$LOADGEN" --port "$AZS_PORT" --spec "$spec" \
    --clients "$clients" --requests "$per_client" --mode mixed --retry-stale \
    --max-seconds 100 --out "$out" >/dev/null
field() { "$AZS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$out" "$1" 2>/dev/null; }
reqs=$(field requests) mism=$(field mismatch) failed=$(field failed)
printf '# identity[%s]: %s clients x %s requests = %s requests in %ss, %s REMOTE_USER mismatches, %s failed, %s stale keep-alive retries\n' \
    "$AZS_MPM" "$clients" "$per_client" "$reqs" "$(field seconds)" "$mism" "$failed" "$(field stale_retries)"
expect_true "all $((clients * per_client)) requests were answered ($reqs)" \
    test "${reqs:-0}" = $((clients * per_client))
if [ "${mism:-x}" = 0 ] && [ "${failed:-x}" = 0 ]; then
    _azs_ok "0 REMOTE_USER mismatches, 0 failures"
else
    _azs_not_ok "0 REMOTE_USER mismatches, 0 failures" "$(cat "$out")"
fi
azs_done

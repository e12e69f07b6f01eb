#!/bin/bash
# SetHandler authz-status-metrics: after a known mix of requests, every
# counter is exact (all children add into one set in shared memory), the
# page is valid Prometheus text 0.0.4, mod_status's server-status shows
# the same figures, and a graceful restart keeps the counts (README,
# "Metrics") while the cache of verified logins starts again.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw_a='Alice-m3trics-pw-zq7'
pw_b='Bob-m3trics-pw-zq7'
bad='Wr0ng-m3trics-pw-zq7'

azs_db_admin_api
azs_user_add alice "$pw_a"
azs_user_add bob "$pw_b"
hz user grant alice admin
hz user grant alice api
out=$(azs_htauthz token issue alice) || azs_bail "token issue"
tok=$(printf '%s\n' "$out" | sed -n 1p)
out=$(azs_htauthz token issue alice) || azs_bail "token issue"
r_tok=$(printf '%s\n' "$out" | sed -n 1p)
hz token revoke "$(printf '%s\n' "$out" | sed -n 2p)"
hz ip block 127.0.0.1 --reason metrics-test
broken=$AZS_ROOT/not-a-database
printf 'this is not an SQLite database, not at all\n%.0s' $(seq 1 200) \
    > "$broken"
chmod 644 "$broken"

printf 'api\n' > "$AZS_DOCROOT/api/index.html"
AZS_EXTRA_MODULES="status rewrite"
mkdir -p "$AZS_DOCROOT/rw"
{
    azs_loc_admin
    azs_loc_api
    azs_loc_form_login /dologin.html form
    azs_loc_basic /blocked Blocked
    azs_loc_basic /broken Broken
    cat <<EOF
<Location "/blocked">
    AuthzStatusBlocklist On
</Location>
<Location "/broken">
    AuthzStatusDatabase "$broken"
</Location>
<Location "/metrics">
    SetHandler authz-status-metrics
    Require ip 127.0.0.1
</Location>
# An ErrorDocument into a blocked location: blocked again, one decision.
<Location "/blocked-ed">
    AuthzStatusBlocklist On
    AuthType Basic
    AuthName "Blocked"
    AuthBasicProvider authz_status
    Require valid-user
    ErrorDocument 403 /blocked/
</Location>
# An internal redirect decides: its answer is counted and logged.
<Directory "$AZS_DOCROOT/rw">
    Options FollowSymLinks
    RewriteEngine On
    RewriteRule ^x\.html\$ /admin/index.html [PT]
</Directory>
# A refusal whose ErrorDocument is refused too: the first is the answer.
<Location "/ed-admin">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require role admin
    ErrorDocument 403 /ed-staff/
</Location>
<Location "/ed-staff">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
    Require role staff
</Location>
<Location "/metrics-broken">
    SetHandler authz-status-metrics
    AuthzStatusDatabase "$broken"
    Require ip 127.0.0.1
</Location>
ExtendedStatus On
<Location "/server-status">
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
AuthzStatusThrottle 8/60s
EOF
} | azs_conf
for l in 'AZS0101: 401 unknown-user: user "carol"' \
    'AZS0102: 401 bad-password: user "(alice|bob)"' \
    'AZS0301: 403 missing-role: user "bob"' \
    'AH01630:|AH01631:|AH01797:' \
    'AZS0105: 400 malformed-credentials' \
    'AZS0203: 401 token-revoked' 'AZS0201: 401 token-unknown' \
    'AZS0401: 403 ip-blocked' 'AZS0402: 429 throttled' \
    'AZS0501: 500 db-error: user "alice" for "/broken/"'; do
    azs_allow_log "$l"
done

azs_start || azs_bail "httpd starts with the module"

# scrape - the metrics page into $page; checks the answer's format
# A decision is counted when its request is logged, which httpd does after
# the answer was sent: a client can see its answer before that.  So a
# scrape first waits (at most 3 s) until mod_status's scoreboard shows no
# request being served or logged but its own (W): every other slot is
# waiting (_), open (.), keeping a connection alive (K), cleaning up (I) or
# an old generation's finishing after a graceful restart (G).
settle() {
    local sb
    for _ in $(seq 1 60); do
        http_req '/server-status?auto'
        sb=$(sed -n 's/^Scoreboard: //p' "$HTTP_BODY")
        [ -n "$sb" ] && [ "$(printf '%s' "$sb" | tr -d '_.KIG' | wc -c)" -le 1 ] \
            && return 0
        sleep 0.05
    done
    printf '# settle: the scoreboard stayed busy: %s\n' "$sb"
}
scrape() {
    settle
    http_req /metrics
    page=$HTTP_BODY
}
# value SAMPLE - the value of one sample line of the last scrape ("" if
# absent); SAMPLE is the name with its labels, as printed
value() {
    awk -v s="$1" '$0 !~ /^#/ { v = $NF; $NF = ""; sub(/ $/, "");
                   if ($0 == s) print v }' "$page"
}
# expect_value SAMPLE N DESC
expect_value() {
    local v
    v=$(value "$1")
    if [ "$v" = "$2" ]; then
        _azs_ok "$3: $1 = $2"
    else
        _azs_not_ok "$3: $1 = $2" "found '${v:-absent}'"
    fi
}
# first NAME - the value of the first sample of metric NAME, labels aside
first() {
    awk -v n="$1" '$0 !~ /^#/ { s = $1; sub(/\{.*/, "", s);
                   if (s == n) { print $NF; exit } }' "$page"
}
dec() { printf 'authz_status_decisions_total{status="%s",reason="%s"}' "$1" "$2"; }

scrape
expect_status 200 "the metrics page answers 200"
expect_header Content-Type '^text/plain; version=0\.0\.4; charset=utf-8$' \
    "Prometheus text format 0.0.4"
expect_value "$(dec 200 granted)" 0 "nothing decided yet"
expect_value "$(dec 401 bad-password)" 0 "every reason has a series from 0"
expect_value authz_status_hashes_verified_total 0 "no hash yet"
expect_value authz_status_throttled_addresses 0 "no ban yet"
start=$(value authz_status_start_time_seconds)
expect_true "a start time ($start)" test "${start:-0}" -gt 1700000000

# ---- the mix -------------------------------------------------------------
for _ in 1 2 3; do
    http_req -u "alice:$pw_a" /admin/
    expect_status 200 "alice -> 200"
done
for _ in 1 2; do
    http_req -u "alice:$bad" /admin/
    expect_status 401 "alice, wrong password -> 401"
done
http_req -u "carol:$pw_a" /admin/
expect_status 401 "unknown user -> 401"
http_req /admin/
expect_status 401 "no credentials -> 401 (mod_auth_basic's, not counted)"
http_req -u "bob:$pw_b" /admin/
expect_status 403 "bob without the role -> 403"
http_req -H 'Authorization: Basic !!!' /admin/
expect_status 400 "malformed credentials -> 400"
http_req -H "Authorization: Bearer $tok" /api/
expect_status 200 "token -> 200"
http_req -H "Authorization: Bearer $r_tok" /api/
expect_status 401 "revoked token -> 401"
http_req -H "Authorization: Bearer azs_notatokenatallnotatokenatall00" /api/
expect_status 401 "unknown token -> 401"
http_req -u "alice:$pw_a" /blocked/
expect_status 403 "blocked address -> 403"
http_req -u "alice:$pw_a" /broken/
expect_status 500 "broken database -> 500"
# 127.0.0.3: eight wrong passwords, then banned.
for _ in $(seq 1 8); do
    http_req --interface 127.0.0.3 -u "bob:$bad" /admin/
done
expect_status 401 "127.0.0.3, eighth wrong password -> 401"
for _ in 1 2; do
    http_req --interface 127.0.0.3 -u "bob:$pw_b" /admin/
    expect_status 429 "127.0.0.3 banned -> 429"
done

scrape
expect_value "$(dec 200 granted)" 4 "3 logins and a token let through"
expect_value "$(dec 401 bad-password)" 10 "2 + 8 wrong passwords"
expect_value "$(dec 401 unknown-user)" 1 "one unknown user"
expect_value "$(dec 403 missing-role)" 1 "bob refused"
expect_value "$(dec 400 malformed-credentials)" 1 "one malformed header"
expect_value "$(dec 401 token-revoked)" 1 "one revoked token"
expect_value "$(dec 401 token-unknown)" 1 "one unknown token"
expect_value "$(dec 403 ip-blocked)" 1 "one blocked address"
expect_value "$(dec 500 db-error)" 1 "one database error"
expect_value "$(dec 429 throttled)" 2 "two throttled requests"
expect_value "$(dec 503 busy)" 0 "no busy refusal"
expect_value authz_status_db_errors_total 1 "db errors"
expect_value authz_status_cache_hits_total 2 "alice's 2nd and 3rd logins"
expect_value authz_status_cache_misses_total 12 \
    "alice 1 + 2 wrong, bob 1 + 8 wrong"
expect_value authz_status_hashes_verified_total 13 \
    "every miss and the unknown user's stand-in hash"
expect_value authz_status_hashes_busy_total 0 "no login refused as busy"
expect_value authz_status_throttle_bans_total 1 "127.0.0.3 banned once"
expect_value authz_status_throttled_addresses 1 "one address banned now"
if [ "${AZS_BACKEND:-sqlite}" = postgresql ]; then
    expect_true "the database is readable" test "$(first authz_status_database_up)" = 1
else
    expect_value "authz_status_database_up{database=\"$AZS_DB\"}" 1 \
        "the database is readable, named by its path"
fi
gen=$(first authz_status_generation)
expect_true "the database's generation is shown ($gen)" \
    test "${gen:-0}" -gt 0
seq_a=$(first authz_status_change_sequence)
hz role add metrics-nobody
scrape
gen2=$(first authz_status_generation)
seq_b=$(first authz_status_change_sequence)
expect_true "a write gives a new generation ($gen -> $gen2)" \
    test "$gen2" != "$gen"
expect_true "... and a newer change sequence ($seq_a -> $seq_b)" \
    test "${seq_b:-0}" -gt "${seq_a:-0}"
if [ "${AZS_BACKEND:-sqlite}" = postgresql ]; then
    age=$(first authz_status_fleet_heard_age_seconds)
    expect_true "a fleet node shows how long ago it heard from the database ($age s, under the 1 s lease)" \
        "$AZS_PYTHON" -c "import sys; sys.exit(not (0 <= float('${age:-x}') < 1.0))"
else
    expect_true "no fleet age for a SQLite file" \
        bash -c "! grep -q '^authz_status_fleet_heard_age_seconds' '$page'"
fi

# A scrape where the database cannot be read: 200, database_up 0, and no
# request's 500 (no db-error line, nothing counted).
http_req /metrics-broken
expect_status 200 "metrics of an unreadable database -> 200"
page=$HTTP_BODY
expect_value "authz_status_database_up{database=\"$broken\"}" 0 \
    "database_up 0 for a file that is no database"
expect_true "no generation for it" \
    bash -c "! grep -q '^authz_status_generation' '$page'"
expect_no_log 'AZS0501' "the scrape logged no db-error"
scrape
expect_value authz_status_db_errors_total 1 "the scrape counted no db error"

# Every sample is "name{labels} value" after its TYPE line.
expect_true "the page is valid Prometheus text" "$AZS_PYTHON" - "$page" <<'EOF'
import re, sys
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+]+$')
typed = set()
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('# TYPE '):
        typed.add(line.split()[2])
    elif line.startswith('# HELP '):
        pass
    elif not sample.match(line) or line.split('{')[0].split(' ')[0] not in typed:
        sys.exit('bad line: %r' % line)
EOF

# mod_status shows the same figures.
http_req '/server-status?auto'
expect_status 200 "server-status?auto answers"
expect_body "^$(dec 200 granted | sed 's/[{}]/\\&/g'): 4$" \
    "server-status?auto has the module's figures"
http_req /server-status
expect_body '<h2>mod_authz_status</h2>' "server-status has a section"
expect_body 'authz_status_hashes_verified_total</td><td>13<' \
    "... with the same figures"
expect_no_log 'AZS[0-9]{4}:.*"/(metrics|server-status)' \
    "scrapes are no decisions" 0

# ---- a graceful restart ---------------------------------------------------
azs_graceful || azs_bail "graceful restart"
scrape
expect_value "$(dec 200 granted)" 4 "after a graceful restart: counts kept"
expect_value "$(dec 401 bad-password)" 10 "... every one"
expect_value authz_status_hashes_verified_total 13 "... hashes too"
expect_value authz_status_start_time_seconds "$start" "... the start time"
expect_value authz_status_throttled_addresses 1 "... and the ban holds"
http_req -u "alice:$pw_a" /admin/
expect_status 200 "alice after the restart -> 200"
scrape
expect_value "$(dec 200 granted)" 5 "one more granted"
expect_value authz_status_cache_misses_total 13 \
    "the cache of verified logins starts again: a miss"
expect_value authz_status_hashes_verified_total 14 "... and a hash"

# ---- chains of requests: one decision per client request ---------------
http_req -u "alice:$pw_a" /blocked-ed/
expect_status 403 "blocked, and its ErrorDocument blocked again -> 403"
http_req -u "alice:$pw_a" /rw/x.html
expect_status 200 "alice through an internal redirect -> 200"
http_req -u "bob:$pw_b" /rw/x.html
expect_status 403 "bob through an internal redirect -> 403"
expect_log 'AZS0301: 403 missing-role: user "bob" for "/admin/index.html"' \
    "the redirect's refusal is logged, naming where it was decided"
http_req --data-urlencode "httpd_username=alice" \
    --data-urlencode "httpd_password=$pw_a" /dologin.html
expect_header Set-Cookie '^session=' "a form login -> a session"
http_req -u "bob:$pw_b" /ed-admin/
expect_status 403 "bob refused, and refused again by the ErrorDocument -> 403"
expect_log 'AZS0301: 403 missing-role: user "bob" for "/ed-admin/" \(requires role admin\)' \
    "the refusal the client got is logged"
expect_no_log 'AZS0301: .*"/ed-staff/"' "the ErrorDocument's refusal is not"
scrape
expect_value "$(dec 403 ip-blocked)" 2 \
    "the ErrorDocument's second refusal is not counted again"
expect_value "$(dec 200 granted)" 7 \
    "the redirected login and the form login are let through"
expect_value "$(dec 403 missing-role)" 3 \
    "the redirected refusal is counted, the ErrorDocument's second one not"

azs_done

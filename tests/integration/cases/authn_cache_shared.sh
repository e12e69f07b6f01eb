#!/bin/bash
# The cache of verified logins is one table for all of httpd's children:
# a returning user's password is verified once (AZS0106), and every later
# connection is answered from the cache (AZS0107) by whichever child takes
# it.  Under prefork each connection may go to another process.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw='Sh4red-cache-pw-k2m8'
azs_db_init
azs_user_add alice "$pw"

azs_conf <<'EOF2'
LogLevel authz_status:debug
EOF2
azs_loc_admin valid-user | azs_conf

azs_start || azs_bail "httpd starts"

mark=$(log_mark)
http_req -u "alice:$pw" /admin/
expect_status 200 "first login -> 200"

# 4 rounds of 6 connections at once, each a new connection.
codes=$AZS_RESP_DIR/shared-codes
: > "$codes"
for _ in 1 2 3 4; do
    pids=()
    for _ in 1 2 3 4 5 6; do
        curl -s -o /dev/null --max-time "$AZS_CURL_TIMEOUT" \
            -w '%{http_code}\n' -u "alice:$pw" "$AZS_URL/admin/" >> "$codes" &
        pids+=($!)
    done
    wait "${pids[@]}"
done
expect_true "24 more logins on new connections -> 24 x 200" \
    [ "$(grep -c '^200$' "$codes")" = 24 ]
expect_log_count 24 'AZS0107: password accepted \(verified earlier' \
    "24 answered from the cache" "$mark"
expect_log_count 1 'AZS0106: password accepted: user "alice"' \
    "the password verified once for 25 logins" "$mark"
children=$(log_since "$mark" | grep -E 'AZS010[67]' \
           | grep -oE '\[pid [0-9]+' | sort -u | wc -l)
if [ "$AZS_MPM" = prefork ]; then
    expect_true "prefork: answered by more than one child ($children)" \
        [ "$children" -ge 2 ]
fi

azs_done

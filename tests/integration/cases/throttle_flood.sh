#!/bin/bash
# A flood (README.md, "Throttling failed logins"): 64 connections from one
# address (127.0.0.2) send wrong passwords as fast as they are answered.
# The throttle engages within N failures (N, and the one hash that may
# have started before the Nth was counted): every later answer is 429, no
# password hashed for it.  A valid client from another address (127.0.0.1,
# its login cached) keeps at least 0.8 of the requests per second it
# made alone.  The figures are printed (the closing note's).
# azs: timeout 120
# azs: alone

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || { printf '# SKIP: no python3\n'; exit 77; }

pw='Fl00d-valid-pw-zq7'
bad='Fl00d-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
mkdir -p "$AZS_DOCROOT/admin"
echo admin > "$AZS_DOCROOT/admin/index.html"
N=10
azs_conf <<EOF2
AuthzStatusThrottle $N/1m 5m
EOF2
azs_loc_basic /admin Administration | azs_conf
azs_allow_log 'AZS0102: 401 bad-password: user "alice" for "/admin/"'
azs_allow_log 'AZS0402: 429 throttled: for "/admin/"'
azs_allow_log 'AZS0110: 503 busy: user "alice" for "/admin/"'
azs_allow_log 'AH00484:'   # prefork: MaxRequestWorkers reached (the flood)
azs_start || azs_bail "httpd starts"

flood=$AZS_IT_DIR/throttle_flood.py
good="Basic $(printf 'alice:%s' "$pw" | base64)"
wrong="Basic $(printf 'alice:%s' "$bad" | base64)"

http_req -u "alice:$pw" /admin/
expect_status 200 "the valid client's login (verified once, then cached)"

# The flood: 64 connections from 127.0.0.2, each sending the next wrong
# password 50 ms after each answer (a client that far away).  Its first
# two seconds meet the throttle.  Then the valid client measures one second
# alone, and one second beside the flood again, ROUNDS times over (nine;
# the median round's ratio counts: a few rounds disturbed by the rest of
# the machine, or by the load generators' own CPU on these 2 cores, do not
# decide), interleaved, so what else the machine does weighs on both alike.
mark=$(log_mark)
flood_run() {   # SECONDS -> the flood's counts, in $AZS_ROOT/flood.txt
    "$AZS_PYTHON" "$flood" flood "$AZS_PORT" 127.0.0.2 64 "$1" "$wrong" \
        "${AZS_FLOOD_PAUSE_MS:-50}" > "$AZS_ROOT/flood.txt" 2>&1
}
flood_run 2
fl=$(cat "$AZS_ROOT/flood.txt")
count() {   # STATUS -> how many answers had it
    sed -n 1p <<<"$fl" | xargs -n 2 2>/dev/null | awk -v s="$1" '$1 == s {n = $2} END {print n + 0}'
}
n401=$(count 401)
n429=$(count 429)
n503=$(count 503)
other=$(sed -n 1p <<<"$fl" | xargs -n 2 | awk '$1 != 401 && $1 != 429 && $1 != 503 {s += $2} END {print s + 0}')
first=$(sed -n 's/^first429 //p' <<<"$fl")
# The valid client: ${AZS_VALID_CONNS:-4} keep-alive connections (a browser
# opens several), one request at a time on each, for one second.
valid() {
    "$AZS_PYTHON" "$flood" flood "$AZS_PORT" 127.0.0.1 "${AZS_VALID_CONNS:-4}" 1 "$good" 0 | sed -n '1p;3p'
}
rps0=0 rps1=0 bad_valid= later429=0 later_other= ratios=
ROUNDS=${AZS_FLOOD_ROUNDS:-9}
for round in $(seq 1 "$ROUNDS"); do
    alone=$(valid)
    flood_run 1.6 &
    fpid=$!
    sleep 0.3
    during=$(valid)
    wait $fpid
    fl=$(cat "$AZS_ROOT/flood.txt")
    later429=$((later429 + $(count 429)))
    later_other="$later_other$(sed -n 1p <<<"$fl" | xargs -n 2 | awk '$1 != 429')"
    bad_valid="$bad_valid$({ sed -n 1p <<<"$alone"; sed -n 1p <<<"$during"; } | xargs -n 2 | awk '$1 != 200')"
    a=$(sed -n 's/^rps //p' <<<"$alone")
    d=$(sed -n 's/^rps //p' <<<"$during")
    printf '# round %s: valid client %s req/s alone, %s beside the flood\n' "$round" "$a" "$d"
    rps0=$(awk -v x="$rps0" -v y="$a" 'BEGIN {print x + y}')
    rps1=$(awk -v x="$rps1" -v y="$d" 'BEGIN {print x + y}')
    ratios="$ratios $(awk -v a="$d" -v b="$a" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
done
hashed=$(log_since "$mark" | grep -c 'AZS0102: 401 bad-password')
ratio=$(tr ' ' '\n' <<<"$ratios" | sed '/^$/d' | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
printf '# flood, first 2 s: %s answers 429, %s answers 401, %s answers 503 (first 429 after %s answers); %s passwords checked; then %s answers 429 in %s x 1.6 s\n' \
    "$n429" "$n401" "$n503" "$first" "$hashed" "$later429" "$ROUNDS"
printf '# valid client: %s requests alone, %s beside the flood (%s x 1 s each); ratios per round:%s; median %s\n' "$rps0" "$rps1" "$ROUNDS" "$ratios" "$ratio"
expect_true "the flood got 429s (${n429:-0}, then $later429)" \
    test "$n429" -ge 100 -a "$later429" -ge $((ROUNDS * 60))
expect_true "after the ban, the flood got nothing but 429 ($later_other)" \
    test -z "$later_other"
expect_true "engaged within N=$N failures, and the one hash started before (${n401:-0} answered 401)" \
    test "${n401:-0}" -ge "$N" -a "${n401:-0}" -le $((N + 1))
# Before the ban, wrong passwords that find every hash place taken get
# 503 at once, as without the throttle (AuthzStatusHashLimit); none after.
expect_true "nothing but 401, 429 and (before the ban) 503 for the flood ($other other)" \
    test "$other" = 0
# Requests already past the gate when the ban began may still be answered
# 503 by the hash limit (no hash either): at most one per connection.
expect_true "after the first 429, at most one 401 or 503 per connection already past the gate ($n401 + $n503 answers, first 429 after $first)" \
    test "${first:-0}" -ge 0 -a $((n401 + n503)) -le "$((first + 64))"
expect_true "passwords checked for the flood: as many as its 401s ($hashed)" \
    test "$hashed" = "${n401:-0}"
expect_true "the valid client got only 200s, alone and beside the flood ($bad_valid)" \
    test -z "$bad_valid"
expect_true "the valid client keeps >= 0.8 of its requests per second (median round: $ratio; rounds:$ratios)" \
    awk -v r="$ratio" 'BEGIN {exit !(r >= 0.8)}'
expect_log_count 1 'AZS0402: 429 throttled: for "/admin/" \(address 127.0.0.2: 10 failed' \
    "one AZS0402 line for the flood's ban" "$mark"

azs_done

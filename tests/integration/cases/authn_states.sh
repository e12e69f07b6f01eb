#!/bin/bash
# The four ways a Basic login fails (doc/log-messages.md): unknown
# user, wrong password, disabled account, expired account.  Each answers 401
# with the Basic challenge, and the four answers are byte-identical (status
# line, headers but Date, body); only the error log tells them apart, one
# line each at the default LogLevel, never with the password.  Every change
# made with htauthz (enable, expiry, password, delete, add) is seen by the
# very next request, even right after a login the module had verified and
# cached.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

pw_a='Alice-st4tes-pw-zq7'     # alice: active
pw_d='Dave-st4tes-pw-zq7'      # dave: disabled
pw_e='Erin-st4tes-pw-zq7'      # erin: expired at creation (past date)
pw_f='Frank-st4tes-pw-zq7'     # frank: expired with "user expire NAME now"
pw_new='Alice-n3w-pw-zq7'
bad='Wr0ng-st4tes-pw-zq7'

azs_db_init
azs_user_add alice "$pw_a"
azs_user_add dave "$pw_d" --disabled
azs_user_add erin "$pw_e" --expires 2020-01-31
azs_user_add frank "$pw_f"
hz user expire frank now

azs_loc_admin valid-user | azs_conf
users='(alice|bob|dave|erin|frank|gina)'
azs_allow_log "AZS[0-9]{4}: 401 (unknown-user|bad-password|account-disabled|account-expired): user \"$users\" for \"/admin/\""

azs_start || azs_bail "httpd starts with the module"

# expect_denied REASON USER DESC - the last request got the 401 of REASON,
# with the challenge, and left exactly one module line naming USER
expect_denied() {
    expect_status 401 "$3 -> 401"
    expect_header WWW-Authenticate '^Basic realm="Administration"$' \
        "$3 -> Basic challenge"
    expect_log "AZS[0-9]{4}: 401 $1: user \"$2\" for \"/admin/\"" \
        "$3 -> $1 line"
    expect_log_count 1 'AZS[0-9]{4}:' "$3 -> exactly one module line"
}

# ---- the four failures -----------------------------------------------------

http_req -u "alice:$pw_a" /admin/
expect_status 200 "control: alice with her password -> 200"

# denied_as KEY USER PASSWORD REASON DESC - a login to /admin/ that gets
# the 401 of REASON (expect_denied); its headers and body are kept as KEY.
declare -A hdr body
denied_as() {
    http_req -u "$2:$3" /admin/
    expect_denied "$4" "$2" "$5"
    hdr[$1]=$HTTP_HDR body[$1]=$HTTP_BODY
}
denied_as unknown bob "$pw_a" unknown-user "unknown user"
denied_as badpw alice "$bad" bad-password "wrong password"
denied_as disabled dave "$pw_d" account-disabled \
    "disabled account, right password"
denied_as expired erin "$pw_e" account-expired \
    "account added with a past --expires"

http_req -u "frank:$pw_f" /admin/
expect_denied account-expired frank "account expired with 'user expire now'"

# The account state is only revealed (in the log) to the right password.
http_req -u "dave:$bad" /admin/
expect_denied bad-password dave "disabled account, wrong password"

for v in badpw disabled expired; do
    expect_same_headers "${hdr[unknown]}" "${hdr[$v]}" \
        "unknown-user and $v: same status line and headers"
    expect_same_body "${body[unknown]}" "${body[$v]}" \
        "unknown-user and $v: same body"
done
expect_true "the 401 body is not empty (the comparison means something)" \
    test -s "${body[unknown]}"

# ---- changes seen by the very next request -----------------------------------

hz user enable dave
http_req -u "dave:$pw_d" /admin/
expect_status 200 "user enable -> 200 on the next request"

hz user expire erin never
http_req -u "erin:$pw_e" /admin/
expect_status 200 "user expire never -> 200 on the next request"

# Several logins first, so that every child (and thread) likely holds alice
# in its cache of verified logins; then each change must void it at once.
warm() {
    local ok=0
    for _ in 1 2 3 4 5 6; do
        http_req -u "$1" /admin/
        [ "$HTTP_STATUS" = 200 ] && ok=$((ok + 1))
    done
    expect_true "$2: six logins before the change -> 200" test "$ok" = 6
}
# after_change N USER:PW REASON USER DESC - N requests, each must be the
# 401 of REASON (the first one is checked in detail)
after_change() {
    local n=$1 cred=$2 reason=$3 user=$4 desc=$5 bad=0
    http_req -u "$cred" /admin/
    expect_denied "$reason" "$user" "$desc (first request)"
    for _ in $(seq 2 "$n"); do
        http_req -u "$cred" /admin/
        [ "$HTTP_STATUS" = 401 ] || bad=$((bad + 1))
    done
    expect_true "$desc: $n requests in a row -> 401 (got $bad other)" \
        test "$bad" = 0
}

warm "alice:$pw_a" "before user disable"
hz user disable alice
after_change 6 "alice:$pw_a" account-disabled alice "user disable after cached logins"
hz user enable alice
http_req -u "alice:$pw_a" /admin/
expect_status 200 "alice enabled again -> 200"

warm "alice:$pw_a" "before user expire"
hz user expire alice now
after_change 6 "alice:$pw_a" account-expired alice "user expire now after cached logins"
hz user expire alice never
http_req -u "alice:$pw_a" /admin/
expect_status 200 "alice expiry cleared -> 200"

warm "alice:$pw_a" "before user passwd"
printf '%s\n' "$pw_new" | azs_htauthz user passwd alice --password-stdin \
    >/dev/null || _azs_die "htauthz user passwd alice failed"
after_change 6 "alice:$pw_a" bad-password alice "old password after user passwd"
http_req -u "alice:$pw_new" /admin/
expect_status 200 "new password after user passwd -> 200 on the next request"

warm "alice:$pw_new" "before user del"
hz user del alice
after_change 6 "alice:$pw_new" unknown-user alice "deleted user after cached logins"

http_req -u "gina:$pw_a" /admin/
expect_denied unknown-user gina "gina before user add"
azs_user_add gina "$pw_a"
http_req -u "gina:$pw_a" /admin/
expect_status 200 "user add -> 200 on the next request"

# ---- secrets -------------------------------------------------------------------

expect_no_secret "no password or Authorization value in the logs" \
    "$pw_a" "$pw_d" "$pw_e" "$pw_f" "$pw_new" "$bad" \
    "alice:$pw_a" "alice:$bad" "bob:$pw_a" "dave:$pw_d" "erin:$pw_e" \
    "frank:$pw_f" "alice:$pw_new" "gina:$pw_a"

azs_done

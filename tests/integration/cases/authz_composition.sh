#!/bin/bash
# Require role / permission inside <RequireAll>, <RequireAny>, <RequireNone>
# and "Require not", nested (README.md, "Directives"): a truth table of users
# who hold, lack and inherit roles against each location, asserting the
# exact status of every cell.  A 403 never challenges; a 200 where one
# alternative said no leaves no missing-* line; a 403 for lacking a role
# leaves exactly one line naming the user; a 403 for *holding* a role
# ("not") leaves no line claiming something was missing.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

authz_areas any all notc allnot nested none permall anyperm

# Roles: boss inherits admin; lead inherits boss and staff (lead > boss >
# admin).  admin grants adm:do, staff grants st:read.
azs_db_init
authz_roles admin staff boss lead contractor
for args in "role inherit boss admin" "role inherit lead boss staff" \
            "role grant admin adm:do" "role grant staff st:read"; do
    # shellcheck disable=SC2086
    azs_htauthz $args >/dev/null || _azs_die "htauthz $args"
done
authz_user_add alice admin              # direct
authz_user_add bob staff                # direct, other role
authz_user_add carol boss               # admin by inheritance
authz_user_add dave staff contractor    # staff, but a contractor
authz_user_add erin                     # known, no roles
authz_user_add frank admin staff        # both, directly
authz_user_add grace lead               # admin and staff by inheritance

azs_conf <<'EOF'
<Location "/">
    AuthType Basic
    AuthName "Composition"
    AuthBasicProvider authz_status
</Location>
<Location "/any">
    <RequireAny>
        Require role admin
        Require role staff
    </RequireAny>
</Location>
<Location "/all">
    <RequireAll>
        Require role admin
        Require role staff
    </RequireAll>
</Location>
<Location "/notc">
    <RequireAll>
        Require valid-user
        Require not role contractor
    </RequireAll>
</Location>
<Location "/allnot">
    <RequireAll>
        Require role admin
        Require not role boss
    </RequireAll>
</Location>
<Location "/nested">
    <RequireAny>
        <RequireAll>
            Require role staff
            Require not role contractor
        </RequireAll>
        Require role admin
    </RequireAny>
</Location>
<Location "/none">
    <RequireAll>
        Require valid-user
        <RequireNone>
            Require role contractor
            Require role boss
        </RequireNone>
    </RequireAll>
</Location>
<Location "/permall">
    <RequireAll>
        Require permission adm:do
        Require permission st:read
    </RequireAll>
</Location>
<Location "/anyperm">
    <RequireAny>
        Require permission adm:do
        <RequireAll>
            Require permission st:read
            Require not role contractor
        </RequireAll>
    </RequireAny>
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 403 missing-(role|permission): user "[a-z]+" for "/[a-z]+/"'

azs_start || azs_bail "httpd starts"

users="alice bob carol dave erin frank grace"
# One row per location: the expected status for each user, in $users order.
# Each 403 is marked "m" (the user lacks a required role or permission: a
# missing-* line naming them) or "n" (denied for holding a role: "not").
table=(
    #          alice bob   carol dave  erin  frank grace
    "any       200   200   200   200   403m  200   200"
    "all       403m  403m  403m  403m  403m  200   200"
    "notc      200   200   200   403n  200   200   200"
    "allnot    200   403m  403n  403m  403m  200   403n"
    "nested    200   200   200   403m  403m  200   200"
    "none      200   200   403n  403n  200   200   403n"
    "permall   403m  403m  403m  403m  403m  200   200"
    "anyperm   200   200   200   403m  403m  200   200"
)

# One pass: every cell, then each location without credentials, from one
# client process; the error log is read once, afterwards (each line names
# its user and URI, so it is matched to its cell).
mark=$(log_mark)
want_lines=0
reqs=
for row in "${table[@]}"; do
    read -r loc cells <<<"$row"
    for u in $users; do
        reqs+="$u /$loc/"$'\n'
    done
    reqs+="- /$loc/"$'\n'
    m=${cells//[^m]/}
    want_lines=$((want_lines + ${#m}))
done
authz_batch <<<"$reqs"
authz_log_lines "$mark" "$want_lines"
expect_true "one answer per request (${#B_STATUS[@]} of $(( ${#table[@]} * 8 )))" \
    test "${#B_STATUS[@]}" = $(( ${#table[@]} * 8 ))

k=0
for row in "${table[@]}"; do
    read -r loc cells <<<"$row"
    read -r -a want <<<"$cells"
    i=0
    for u in $users; do
        cell=${want[$i]} code=${want[$i]%[mn]}
        desc="/$loc/ as $u"
        key="$u|/$loc/"
        got="status ${B_STATUS[$k]:-none}, challenge ${B_CHAL[$k]:-?}, body ${B_BODY[$k]:-?}"
        if [ "${B_STATUS[$k]:-}" = "$code" ]; then
            _azs_ok "$desc -> $code"
        else
            _azs_not_ok "$desc -> $code" "got $got" \
                "module lines: ${LOG_TEXT[$key]:-none}"
        fi
        case $cell in
            403*)
                if [ "${B_CHAL[$k]:-}" = 0 ]; then
                    _azs_ok "$desc -> no challenge"
                else
                    _azs_not_ok "$desc -> no challenge" "got $got"
                fi ;;
        esac
        case $cell in
            403m)
                if [ "${LOG_AREA_N[$key]:-0}" = 1 ] && [[ ${LOG_TEXT[$key]:-} =~ AZS[0-9]{4}:\ 403\ missing-(role|permission):\ user\ \"$u\"\ for\ \"/$loc/\"\ \(requires\  ]]; then
                    _azs_ok "$desc -> exactly one line: 403 missing-*, naming $u and what was required"
                else
                    _azs_not_ok "$desc -> exactly one line: 403 missing-*, naming $u and what was required" \
                        "${LOG_AREA_N[$key]:-0} module line(s) for $key:" \
                        "${LOG_AREA_TEXT[$key]:-}"
                fi ;;
            403n)
                if [[ ${LOG_AREA_TEXT[$key]:-} != *missing-* ]]; then
                    _azs_ok "$desc (denied for holding a role) -> no missing-* line"
                else
                    _azs_not_ok "$desc (denied for holding a role) -> no missing-* line" \
                        "${LOG_AREA_TEXT[$key]}"
                fi ;;
            200)
                if [ "${LOG_AREA_N[$key]:-0}" = 0 ]; then
                    _azs_ok "$desc -> no module line (the alternative that said no was overruled)"
                else
                    _azs_not_ok "$desc -> no module line (the alternative that said no was overruled)" \
                        "${LOG_AREA_TEXT[$key]}"
                fi
                if [ "${B_BODY[$k]:-}" = "${loc}_area" ]; then
                    _azs_ok "$desc -> the page"
                else
                    _azs_not_ok "$desc -> the page" "got $got"
                fi ;;
        esac
        i=$((i + 1)) k=$((k + 1))
    done
    # Without credentials: a challenge.
    if [ "${B_STATUS[$k]:-}" = 401 ] && [ "${B_CHAL[$k]:-}" = 1 ]; then
        _azs_ok "/$loc/ without credentials -> 401 with a challenge"
    else
        _azs_not_ok "/$loc/ without credentials -> 401 with a challenge" \
            "got status ${B_STATUS[$k]:-none}, challenge ${B_CHAL[$k]:-?}"
    fi
    k=$((k + 1))
done

# The missing-* line of a RequireAll names the line that failed, not the
# one that granted.
expect_true "/all/ as alice -> requires role staff (admin was granted)" \
    test "${LOG_TEXT[alice|/all/]:-}" != "${LOG_TEXT[alice|/all/]/(requires role staff)/}"
expect_true "/all/ as alice -> role admin is not named as missing" \
    test "${LOG_TEXT[alice|/all/]:-}" = "${LOG_TEXT[alice|/all/]/requires role admin/}"
expect_true "/all/ as bob -> requires role admin" \
    test "${LOG_TEXT[bob|/all/]:-}" != "${LOG_TEXT[bob|/all/]/(requires role admin)/}"

# The same decisions again, in another order, on warm caches: no state
# leaks from one user's request to the next.
second=(
    "grace /nested/ 200" "dave /nested/ 403" "grace /allnot/ 403"
    "dave /allnot/ 403" "carol /allnot/ 403" "carol /any/ 200"
    "erin /any/ 403" "erin /notc/ 200" "dave /notc/ 403" "frank /all/ 200"
    "alice /all/ 403" "grace /none/ 403" "erin /none/ 200"
)
reqs=
for c in "${second[@]}"; do
    reqs+="${c% *}"$'\n'
done
authz_batch <<<"$reqs"
for k in "${!second[@]}"; do
    read -r u path code <<<"${second[$k]}"
    if [ "${B_STATUS[$k]:-}" = "$code" ]; then
        _azs_ok "second pass: $path as $u -> $code"
    else
        _azs_not_ok "second pass: $path as $u -> $code" \
            "got ${B_STATUS[$k]:-none}"
    fi
done

azs_done

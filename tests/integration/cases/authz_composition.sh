#!/bin/bash
# Require role / permission inside <RequireAll>, <RequireAny>, <RequireNone>
# and "Require not", nested (PRODUCT.md section 2): a truth table of users
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

locs="any all notc allnot nested none permall anyperm"
for d in $locs; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done

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

for row in "${table[@]}"; do
    read -r loc cells <<<"$row"
    read -r -a want <<<"$cells"
    i=0
    for u in $users; do
        cell=${want[$i]}
        code=${cell%[mn]}
        authz_expect_cell "$u" "/$loc/" "$code" "/$loc/ as $u"
        case $cell in
            403m)
                expect_log "AZS[0-9]{4}: 403 missing-(role|permission): user \"$u\" for \"/$loc/\" \\(requires " \
                    "/$loc/ as $u -> a missing-* line naming $u and what was required"
                expect_log_count 1 'AZS[0-9]{4}:' \
                    "/$loc/ as $u -> exactly one module line" ;;
            403n)
                expect_no_log 'AZS[0-9]{4}: [0-9]+ missing-(role|permission)' \
                    "/$loc/ as $u (denied by \"not\") -> no missing-* line" ;;
            200)
                expect_body "^$loc area\$" "/$loc/ as $u -> the page" ;;
        esac
        i=$((i + 1))
    done
    authz_req - "/$loc/"
    authz_expect_challenge Composition "/$loc/ without credentials"
done

# The missing-* line of a RequireAll names the line that failed, not the
# one that granted.
authz_req alice /all/
expect_log 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/all/" \(requires role staff\)' \
    "/all/ as alice -> requires role staff (admin was granted)"
expect_no_log 'requires role admin' "/all/ as alice -> admin is not named"
authz_req bob /all/
expect_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/all/" \(requires role admin\)' \
    "/all/ as bob -> requires role admin"

# The same decisions again, in another order, on warm caches: no state
# leaks from one user's request to the next.
for u in grace dave carol erin; do
    authz_req "$u" /nested/
    r1=$HTTP_STATUS
    authz_req "$u" /allnot/
    r2=$HTTP_STATUS
    authz_req "$u" /any/
    r3=$HTTP_STATUS
    case $u in
        grace) w="200 403 200" ;;
        dave)  w="403 403 200" ;;
        carol) w="200 403 200" ;;
        erin)  w="403 403 403" ;;
    esac
    expect_true "second pass, $u: /nested/ /allnot/ /any/ -> $w (got $r1 $r2 $r3)" \
        test "$r1 $r2 $r3" = "$w"
done

azs_done

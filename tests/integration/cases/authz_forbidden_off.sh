#!/bin/bash
# AuthzStatusForbiddenOnFailure (README.md, "Directives"): On, the default,
# answers 403 with no challenge to an authenticated user who fails
# Require role / Require permission; Off restores httpd's own answer, 401
# with a new Basic challenge, whether the directive comes before or after
# the Require line or in a nested location, and then looks exactly like a
# wrong password to the client.  Off set for an area also covers the
# Require role lines of the sections nested in it.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

authz_areas --sub on onexplicit offbefore offafter offperm offall offparent \
    offinherit

azs_db_init
authz_roles admin staff
azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant"
authz_user_add alice admin
authz_user_add bob staff

azs_conf <<'EOF'
<Location "/">
    AuthType Basic
    AuthName "Realm"
    AuthBasicProvider authz_status
</Location>
<Location "/on">
    Require role admin
</Location>
<Location "/onexplicit">
    AuthzStatusForbiddenOnFailure On
    Require role admin
</Location>
<Location "/offbefore">
    AuthzStatusForbiddenOnFailure Off
    Require role admin
</Location>
<Location "/offafter">
    Require role admin
    AuthzStatusForbiddenOnFailure Off
</Location>
<Location "/offperm">
    Require permission adm:do
    AuthzStatusForbiddenOnFailure Off
</Location>
<Location "/offall">
    AuthzStatusForbiddenOnFailure Off
    <RequireAll>
        Require valid-user
        Require role admin
    </RequireAll>
</Location>
<Location "/offparent">
    Require role admin
</Location>
<Location "/offparent/sub">
    AuthzStatusForbiddenOnFailure Off
</Location>
# Off for a whole area, the Require role line in a nested section: Off is
# a directory-context directive and merges into it like any other.
<Location "/offinherit">
    AuthzStatusForbiddenOnFailure Off
    Require valid-user
</Location>
<Location "/offinherit/sub">
    Require role admin
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: (401|403) missing-(role|permission): user "bob" for "/[a-z]+/'
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "bob" for "/offbefore/"'

azs_start || azs_bail "httpd starts"

# ---- On: 403, no challenge ----------------------------------------------------
for loc in on onexplicit offparent; do
    authz_req alice /$loc/
    expect_status 200 "/$loc/: alice holds the role -> 200"
    authz_req bob /$loc/
    authz_expect_forbidden "/$loc/ (On): bob lacks the role"
    expect_log "AZS[0-9]{4}: 403 missing-role: user \"bob\" for \"/$loc/\" \\(requires role admin\\)" \
        "/$loc/ (On): missing-role line"
    authz_req - /$loc/
    authz_expect_challenge Realm "/$loc/: no credentials"
done

# ---- Off: httpd's 401 and a new prompt -------------------------------------------
for loc in offbefore offafter offperm offall offparent/sub offinherit/sub; do
    authz_req alice /$loc/
    expect_status 200 "/$loc/ (Off): alice holds it -> 200"
    authz_req bob /$loc/
    authz_expect_challenge Realm "/$loc/ (Off): bob, authenticated, lacks it"
    expect_log "AZS[0-9]{4}: 401 missing-(role|permission): user \"bob\" for \"/$loc/\" \\(requires (role admin|permission adm:do)\\)" \
        "/$loc/ (Off): the line names the 401, the reason and what was required"
    expect_log_count 1 'AZS[0-9]{4}:' "/$loc/ (Off): exactly one module line"
    authz_req - /$loc/
    authz_expect_challenge Realm "/$loc/ (Off): no credentials"
done

# Off hides that the password was right: the same answer as a wrong one.
authz_req bob /offbefore/
lack_hdr=$HTTP_HDR lack_body=$HTTP_BODY
http_req -u "bob:not-${PW[bob]}" /offbefore/
expect_status 401 "/offbefore/: wrong password -> 401"
expect_same_headers "$lack_hdr" "$HTTP_HDR" \
    "Off: lacking the role and a wrong password get the same headers"
expect_same_body "$lack_body" "$HTTP_BODY" \
    "Off: lacking the role and a wrong password get the same body"

azs_done

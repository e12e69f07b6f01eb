#!/bin/bash
# The module's three reliances on httpd internals (include/mod_azs_compat.h),
# one section each, so that a new httpd that changes one fails here with
# the reliance named:
#  1. mod_auth_basic's per-directory configuration begins with its provider
#     list: the strict Basic check (400) applies where authz_status is
#     listed, and only there;
#  2. mod_authz_core's AuthzSendForbiddenOnFailure, set through its own
#     handler: an authenticated user who fails Require gets 403 with no
#     challenge, and an enclosing AuthzStatusForbiddenOnFailure Off brings
#     back httpd's 401;
#  3. mod_authz_core's negation: under "Require not" and <RequireNone> a
#     "no" from the provider is not a denial, and leaves no missing-role
#     line.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

for d in listed other forbid off off/inner notrole none mixed; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done
printf 'fileuser:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n' > "$AZS_ROOT/htpasswd"

azs_db_init
authz_roles admin banned
authz_user_add alice admin
authz_user_add bob
authz_user_add mallory banned

azs_conf <<EOF
<Location "/listed">
    AuthType Basic
    AuthName "Listed"
    AuthBasicProvider authz_status
    Require valid-user
</Location>
<Location "/other">
    AuthType Basic
    AuthName "Other"
    AuthBasicProvider file
    AuthUserFile "$AZS_ROOT/htpasswd"
    Require valid-user
</Location>
<Location "/forbid">
    AuthType Basic
    AuthName "Forbid"
    AuthBasicProvider authz_status
    Require role admin
</Location>
<Location "/off">
    AuthzStatusForbiddenOnFailure Off
</Location>
<Location "/off/inner">
    AuthType Basic
    AuthName "Off"
    AuthBasicProvider authz_status
    Require role admin
</Location>
<Location "/notrole">
    AuthType Basic
    AuthName "Not"
    AuthBasicProvider authz_status
    <RequireAll>
        Require valid-user
        Require not role banned
    </RequireAll>
</Location>
<Location "/mixed">
    AuthType Basic
    AuthName "Mixed"
    AuthBasicProvider authz_status
    <RequireAll>
        Require not role banned
        Require role admin
    </RequireAll>
</Location>
<Location "/none">
    AuthType Basic
    AuthName "None"
    AuthBasicProvider authz_status
    <RequireAll>
        Require valid-user
        <RequireNone>
            Require role banned
        </RequireNone>
    </RequireAll>
</Location>
EOF
azs_allow_log 'AZS0105: 400 malformed-credentials: for "/listed/"'
azs_allow_log 'AZS0301: (403|401) missing-role: user "bob" for "/(forbid|off/inner|mixed)/"'
azs_allow_log 'AH01618|AH01617|AH01614|AH01631|AH01630|AH01629'
azs_start || azs_bail "httpd starts"

# ---- 1. mod_auth_basic's provider list ---------------------------------------
bad='Authorization: Basic !!!notbase64\r\nConnection: close\r\n\r\n'
http_raw "GET /listed/ HTTP/1.1\r\nHost: 127.0.0.1\r\n$bad"
expect_status 400 "1: basic provider list read: authz_status listed -> strict 400"
http_raw "GET /other/ HTTP/1.1\r\nHost: 127.0.0.1\r\n$bad"
expect_status 401 "1: basic provider list read: not listed -> httpd's own 401"
authz_req alice /listed/
expect_status 200 "1: listed, good password -> 200"

# ---- 2. AuthzSendForbiddenOnFailure through mod_authz_core's handler --------
authz_req bob /forbid/
expect_status 403 "2: AuthzSendForbiddenOnFailure set at parse time -> 403"
expect_no_header WWW-Authenticate "2: the 403 does not challenge"
authz_req bob /off/inner/
expect_status 401 "2: Off in an enclosing section, set on the merged config -> 401"
expect_header WWW-Authenticate '^Basic realm="Off"' "2: the 401 challenges"
authz_req alice /off/inner/
expect_status 200 "2: the role holder -> 200"

# ---- 3. negation: "Require not" and <RequireNone> ---------------------------
for loc in notrole none; do
    authz_req bob "/$loc/"
    expect_status 200 "3: $loc: bob lacks the banned role -> 200"
    expect_no_log 'AZS0301' "3: $loc: the provider's \"no\" under negation is no denial"
    authz_req mallory "/$loc/"
    expect_status 403 "3: $loc: mallory holds the banned role -> 403"
    expect_no_log 'AZS0301' "3: $loc: holding a role is not logged as missing-role"
done

# A denial for another line names only what was really missing: the
# negated line's "no" is not added to it.
authz_req bob /mixed/
expect_status 403 "3: mixed: bob lacks admin -> 403"
expect_log 'AZS0301: 403 missing-role: user "bob" for "/mixed/" \(requires role admin\)$' \
    "3: mixed: the line names admin only, not the negated banned"

azs_done

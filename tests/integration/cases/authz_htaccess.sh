#!/bin/bash
# Require role / permission in .htaccess files under AllowOverride
# AuthConfig (README "Directives"): they work, with 403 and no challenge
# by default there too, with ap_expr arguments, inside <RequireAny>, for
# subdirectories, and AuthzStatusForbiddenOnFailure Off is honoured; a
# malformed expression in .htaccess is a 500, not a grant.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

for d in ht ht/sub htperm htoff htany htbad; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "${d//\//-}" > "$AZS_DOCROOT/$d/index.html"
done
printf 'document\n' > "$AZS_DOCROOT/htperm/doc.txt"

auth_head='AuthType Basic
AuthName "Htaccess"
AuthBasicProvider authz_status'
printf '%s\nRequire role admin\n' "$auth_head" > "$AZS_DOCROOT/ht/.htaccess"
printf '%s\nRequire permission docs:%%{REQUEST_METHOD}\n' "$auth_head" \
    > "$AZS_DOCROOT/htperm/.htaccess"
printf '%s\nRequire role admin\nAuthzStatusForbiddenOnFailure Off\n' \
    "$auth_head" > "$AZS_DOCROOT/htoff/.htaccess"
printf '%s\n<RequireAny>\n    Require role admin\n    Require role staff\n</RequireAny>\n' \
    "$auth_head" > "$AZS_DOCROOT/htany/.htaccess"
printf '%s\nRequire role %%{REQUEST_METHOD\n' "$auth_head" \
    > "$AZS_DOCROOT/htbad/.htaccess"

azs_db_init
authz_roles admin staff reader
azs_htauthz role grant reader docs:GET >/dev/null || _azs_die "role grant"
authz_user_add alice admin
authz_user_add bob
authz_user_add dave reader
authz_user_add sam staff

azs_conf <<EOF
<Directory "$AZS_DOCROOT">
    AllowOverride AuthConfig
</Directory>
EOF
azs_allow_log 'AZS[0-9]{4}: (401|403) missing-(role|permission): user "(bob|dave|sam)" for "/ht[a-z]*/'
azs_allow_log '\[core:alert\].*htbad/\.htaccess'

azs_start || azs_bail "httpd starts"

authz_req alice /ht/
expect_status 200 ".htaccess Require role: alice (admin) -> 200"
expect_body '^ht area$' ".htaccess: alice -> the page"
authz_req bob /ht/
authz_expect_forbidden ".htaccess Require role: bob (no role)"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/ht/" \(requires role admin\)' \
    ".htaccess: bob -> missing-role line"
expect_log_count 1 'AZS[0-9]{4}:' ".htaccess: bob -> exactly one module line"
authz_req - /ht/
authz_expect_challenge Htaccess ".htaccess: no credentials"
authz_req alice /ht/sub/
expect_status 200 ".htaccess applies below: alice on /ht/sub/ -> 200"
authz_req sam /ht/sub/
authz_expect_forbidden ".htaccess applies below: sam (staff) on /ht/sub/"

authz_req dave /htperm/doc.txt
expect_status 200 ".htaccess Require permission docs:%{REQUEST_METHOD}: dave GET -> 200"
authz_req dave /htperm/doc.txt -X POST --data x=1
authz_expect_forbidden ".htaccess ap_expr: dave POST (no docs:POST)"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "dave" for "/htperm/doc.txt" \(requires permission docs:POST\)' \
    ".htaccess ap_expr: the evaluated permission is named"

authz_req alice /htany/
expect_status 200 ".htaccess <RequireAny>: alice (admin) -> 200"
authz_req sam /htany/
expect_status 200 ".htaccess <RequireAny>: sam (staff) -> 200"
expect_no_log 'AZS[0-9]{4}: [0-9]+ missing-' \
    ".htaccess <RequireAny>: sam granted by the second line -> no missing-* line"
authz_req bob /htany/
authz_expect_forbidden ".htaccess <RequireAny>: bob (neither)"

authz_req alice /htoff/
expect_status 200 ".htaccess with Off: alice -> 200"
authz_req bob /htoff/
authz_expect_challenge Htaccess ".htaccess with AuthzStatusForbiddenOnFailure Off: bob"

authz_req alice /htbad/
expect_status 500 ".htaccess with a malformed expression: 500, even for alice"
expect_log 'htbad/\.htaccess' ".htaccess with a malformed expression: the error names the file"

azs_done

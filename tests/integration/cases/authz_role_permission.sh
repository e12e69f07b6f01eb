#!/bin/bash
# Require role / Require permission (README.md, "Directives"): granted
# directly and through role inheritance chains (a > b > c); 403 with no
# challenge to a known user who lacks them, with a missing-role /
# missing-permission line naming the user and what was required; ap_expr
# arguments evaluated per request; several names on one line (any of them);
# every htauthz change seen by the very next request, with no reload.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

for d in c b deep admperm multi multiperm; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done

azs_db_init
authz_roles admin ops a b c reader writer x
azs_htauthz role inherit a b >/dev/null || _azs_die "role inherit a b"
azs_htauthz role inherit b c >/dev/null || _azs_die "role inherit b c"
azs_htauthz role grant c chain:deep >/dev/null || _azs_die "role grant c"
azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant admin"
azs_htauthz role grant reader docs:GET >/dev/null || _azs_die "grant reader"
azs_htauthz role grant writer docs:POST >/dev/null || _azs_die "grant writer"
authz_user_add alice admin
authz_user_add bob
authz_user_add carol a
authz_user_add dave reader
authz_user_add erin writer
authz_user_add frank ops
authz_user_add gina

azs_conf <<'EOF'
<Location "/">
    AuthType Basic
    AuthName "Administration"
    AuthBasicProvider authz_status
</Location>
<Location "/admin">
    Require role admin
</Location>
<Location "/b">
    Require role b
</Location>
<Location "/c">
    Require role c
</Location>
<Location "/deep">
    Require permission chain:deep
</Location>
<Location "/admperm">
    Require permission adm:do
</Location>
<Location "/docs">
    Require permission docs:%{REQUEST_METHOD}
</Location>
<Location "/multi">
    Require role ops admin
</Location>
<Location "/multiperm">
    Require permission no:such adm:do
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 403 missing-(role|permission): user "[a-z]+" for "/[a-z]+/'
azs_allow_log 'AZS[0-9]{4}: 401 account-disabled: user "alice" for "/admin/"'
azs_allow_log 'AZS[0-9]{4}: 401 unknown-user: user "gina" for "/admin/"'

azs_start || azs_bail "httpd starts"

# ---- granted and denied, directly --------------------------------------------
authz_req alice /admin/
expect_status 200 "alice holds admin -> 200"
expect_body '^admin area$' "alice holds admin -> the page"
expect_no_log 'AZS[0-9]{4}:' "a grant logs nothing at LogLevel warn"

authz_req bob /admin/
authz_expect_forbidden "bob (known, no roles) on /admin/"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/admin/" \(requires role admin\)' \
    "bob -> missing-role line naming the user and the role"
expect_log_count 1 'AZS[0-9]{4}:' "bob -> exactly one module line"
expect_no_secret "bob's password is not logged" "${PW[bob]}" "bob:${PW[bob]}"

authz_req frank /admin/
authz_expect_forbidden "frank (ops, not admin) on /admin/"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "frank" for "/admin/" \(requires role admin\)' \
    "frank -> missing-role line"

authz_req - /admin/
authz_expect_challenge Administration "no credentials on /admin/"
authz_req bob /
expect_status 200 "a location without Require role -> 200 for bob"

# ---- permissions through roles -------------------------------------------------
authz_req alice /admperm/
expect_status 200 "alice holds adm:do through admin -> 200"
authz_req bob /admperm/
authz_expect_forbidden "bob lacks adm:do"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "bob" for "/admperm/" \(requires permission adm:do\)' \
    "bob -> missing-permission line naming the permission"
expect_log_count 1 'AZS[0-9]{4}:' "missing permission -> exactly one module line"

# ---- inheritance chain a > b > c ---------------------------------------------
authz_req carol /c/
expect_status 200 "carol holds a > b > c: Require role c -> 200"
authz_req carol /b/
expect_status 200 "carol holds a > b: Require role b -> 200"
authz_req carol /deep/
expect_status 200 "carol holds chain:deep through a > b > c -> 200"
authz_req alice /c/
authz_expect_forbidden "alice (admin, outside the chain) on Require role c"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/c/" \(requires role c\)' \
    "alice on /c/ -> missing-role line"
authz_req alice /deep/
authz_expect_forbidden "alice lacks chain:deep"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "alice" for "/deep/" \(requires permission chain:deep\)' \
    "alice on /deep/ -> missing-permission line"
# Inheritance goes one way: holding c does not give a or b.
authz_do "htauthz user grant gina c" user grant gina c
authz_req gina /c/
expect_status 200 "gina holds c -> 200 on Require role c"
authz_req gina /b/
authz_expect_forbidden "gina holds c only: Require role b (b inherits c, not the reverse)"
authz_do "htauthz user revoke gina c" user revoke gina c

# ---- ap_expr arguments ----------------------------------------------------------
authz_req dave /docs/a.txt
expect_status 200 "dave holds docs:GET: GET -> 200"
expect_body '^document a$' "dave GET -> the document"
authz_req dave /docs/a.txt -X POST --data x=1
authz_expect_forbidden "dave lacks docs:POST: POST"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "dave" for "/docs/a.txt" \(requires permission docs:POST\)' \
    "dave POST -> the evaluated permission (docs:POST) is named"
authz_req erin /docs/a.txt
authz_expect_forbidden "erin lacks docs:GET: GET"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "erin" for "/docs/a.txt" \(requires permission docs:GET\)' \
    "erin GET -> docs:GET named"
# Granted, a POST to a static file gets the handler's answer: the same as
# a POST to the unprotected /index.html.
http_req -X POST --data x=1 /index.html
open_post=$HTTP_STATUS
authz_req erin /docs/a.txt -X POST --data x=1
expect_status "$open_post" "erin holds docs:POST: POST -> the handler's answer ($open_post), as unprotected"
expect_true "the handler's answer to a POST is neither 401 nor 403 ($open_post)" \
    test "$open_post" != 401 -a "$open_post" != 403
expect_no_log 'AZS[0-9]{4}:' "erin POST -> no module line"

# ---- several names on one line: any of them ------------------------------------
authz_req frank /multi/
expect_status 200 "Require role ops admin: frank (ops) -> 200"
authz_req alice /multi/
expect_status 200 "Require role ops admin: alice (admin) -> 200"
authz_req carol /multi/
authz_expect_forbidden "Require role ops admin: carol (neither)"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "carol" for "/multi/" \(requires role [^)]*ops[^)]*admin[^)]*\)' \
    "carol on /multi/ -> the line names both roles"
expect_log_count 1 'AZS[0-9]{4}:' "several names -> still exactly one module line"
authz_req alice /multiperm/
expect_status 200 "Require permission no:such adm:do: alice (adm:do) -> 200"
authz_req bob /multiperm/
authz_expect_forbidden "Require permission no:such adm:do: bob (neither)"

# ---- every change is seen by the very next request (no reload) ---------------
authz_warm 3 gina /admin/
authz_req gina /admin/
authz_expect_forbidden "before any grant: gina on /admin/"

authz_do "htauthz user grant gina admin" user grant gina admin
authz_req gina /admin/
expect_status 200 "user grant -> the next request is 200"
authz_warm 3 gina /admin/
authz_do "htauthz user revoke gina admin" user revoke gina admin
authz_req gina /admin/
authz_expect_forbidden "user revoke -> the next request"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "gina" for "/admin/"' \
    "after revoke -> missing-role line"

# Through inheritance: gina holds x; x inherits admin, then no more.
authz_do "htauthz user grant gina x" user grant gina x
authz_warm 3 gina /admin/
authz_req gina /admin/
authz_expect_forbidden "gina holds x (inherits nothing)"
authz_do "htauthz role inherit x admin" role inherit x admin
authz_req gina /admin/
expect_status 200 "role inherit x admin -> the next request is 200"
authz_req gina /admperm/
expect_status 200 "role inherit x admin -> admin's permission adm:do too"
authz_warm 3 gina /admin/
authz_do "htauthz role disinherit x admin" role disinherit x admin
authz_req gina /admin/
authz_expect_forbidden "role disinherit x admin -> the next request"
authz_req gina /admperm/
authz_expect_forbidden "role disinherit -> adm:do gone too"

# Permission grant / revoke on a role the user holds.
authz_do "htauthz role grant x adm:do" role grant x adm:do
authz_req gina /admperm/
expect_status 200 "role grant x adm:do -> the next request is 200"
authz_warm 3 gina /admperm/
authz_do "htauthz role revoke x adm:do" role revoke x adm:do
authz_req gina /admperm/
authz_expect_forbidden "role revoke x adm:do -> the next request"

# A link in the middle of a chain.
authz_warm 3 carol /c/
authz_do "htauthz role disinherit b c" role disinherit b c
authz_req carol /c/
authz_expect_forbidden "chain cut (b no longer inherits c): carol on /c/"
authz_req carol /deep/
authz_expect_forbidden "chain cut: carol loses chain:deep"
authz_req carol /b/
expect_status 200 "chain cut below b: carol still holds b"
authz_do "htauthz role inherit b c" role inherit b c
authz_req carol /c/
expect_status 200 "chain restored -> the next request is 200"

# A disabled account is no longer authenticated: 401, challenge.
authz_warm 3 alice /admin/
authz_do "htauthz user disable alice" user disable alice
authz_req alice /admin/
authz_expect_challenge Administration "user disable -> the next request"
expect_log 'AZS[0-9]{4}: 401 account-disabled: user "alice" for "/admin/"' \
    "user disable -> account-disabled line"
authz_do "htauthz user enable alice" user enable alice
authz_req alice /admin/
expect_status 200 "user enable -> the next request is 200"

# A deleted role no longer grants; a deleted user is unknown.
authz_warm 3 frank /multi/
authz_do "htauthz role del ops" role del ops
authz_req frank /multi/
authz_expect_forbidden "role del ops -> frank on /multi/"
authz_do "htauthz user grant gina admin" user grant gina admin
authz_warm 3 gina /admin/
authz_do "htauthz user del gina" user del gina
authz_req gina /admin/
authz_expect_challenge Administration "user del -> the next request"

azs_done

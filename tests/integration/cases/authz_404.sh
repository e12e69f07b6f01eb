#!/bin/bash
# A missing file inside a protected area (doc/log-messages.md): without
# credentials 401 and a challenge (nothing is revealed); a user holding the
# role gets the handler's 404 with no challenge and no module line; a user
# lacking it gets 403, not 404.  In a <Location>, a <Directory>, with
# Require permission, and with an ErrorDocument for 404.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module

mkdir -p "$AZS_DOCROOT/vault" "$AZS_DOCROOT/errors" "$AZS_DOCROOT/perm"
printf 'vault area\n' > "$AZS_DOCROOT/vault/index.html"
printf 'perm area\n' > "$AZS_DOCROOT/perm/index.html"
printf 'custom not found\n' > "$AZS_DOCROOT/errors/404.html"

azs_db_init
authz_roles admin boss
azs_htauthz role inherit boss admin >/dev/null || _azs_die "role inherit"
azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant"
authz_user_add alice admin
authz_user_add carol boss
authz_user_add bob

azs_loc_admin | azs_conf
azs_conf <<EOF
<Directory "$AZS_DOCROOT/vault">
    AuthType Basic
    AuthName "Vault"
    AuthBasicProvider authz_status
    Require role admin
    ErrorDocument 404 /errors/404.html
</Directory>
EOF
azs_loc_basic /perm Perm 'permission adm:do' | azs_conf
azs_allow_log 'AZS[0-9]{4}: 403 missing-(role|permission): user "bob" for "/(admin|vault|perm)/'
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/nope\.html"'

azs_start || azs_bail "httpd starts"

# area realm missing-path (the area is for the reader)
for spec in "admin Administration /admin/nope.html" \
            "admin Administration /admin/no/such/dir/" \
            "vault Vault /vault/nope.html" \
            "perm Perm /perm/nope.html"; do
    read -r _ realm path <<<"$spec"

    authz_req - "$path"
    authz_expect_challenge "$realm" "$path without credentials"
    expect_true "$path without credentials: not a 404 page" \
        sh -c "! grep -q 'Not Found' '$HTTP_BODY'"

    for u in alice carol; do
        authz_req "$u" "$path"
        expect_status 404 "$path as $u (holds it) -> 404"
        expect_no_header WWW-Authenticate "$path as $u -> no challenge"
        expect_no_log 'AZS[0-9]{4}:' "$path as $u -> no module line"
    done

    authz_req bob "$path"
    authz_expect_forbidden "$path as bob (lacks it)"
    expect_log "AZS[0-9]{4}: 403 missing-(role|permission): user \"bob\" for \"${path//./\\.}\"" \
        "$path as bob -> missing-* line for the path"
    expect_log_count 1 'AZS[0-9]{4}:' "$path as bob -> exactly one module line"
done

# The ErrorDocument is served, to the authorized user only.
authz_req alice /vault/nope.html
expect_body '^custom not found$' "/vault/: alice's 404 is the ErrorDocument"
authz_req bob /vault/nope.html
expect_true "/vault/: bob's 403 is not the 404 ErrorDocument" \
    sh -c "! grep -q 'custom not found' '$HTTP_BODY'"

# A wrong password on a missing path is still 401, not 404.
http_req -u "alice:wrong-${PW[alice]}" /admin/nope.html
authz_expect_challenge Administration "/admin/nope.html with a wrong password"

# Existing files still answer 200 (the 404s above are not a broken area).
authz_req alice /admin/
expect_status 200 "/admin/ as alice -> 200"
authz_req alice /vault/
expect_status 200 "/vault/ as alice -> 200"
authz_req carol /perm/
expect_status 200 "/perm/ as carol (adm:do through boss > admin) -> 200"

azs_done

#!/bin/bash
# Require role / permission with users authenticated by another provider
# (README.md, "Directives"): roles come from the database, looked up by user
# name.  mod_authn_file alone: a file user who has roles in the database
# gets in, one without roles or not in the database at all is known and
# gets 403 (never 401 or 500).  "file authz_status" and "authz_status file"
# together: each user authenticates where it exists, and the module says
# nothing about users another provider authenticated.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
command -v htpasswd >/dev/null 2>&1 || { echo "# SKIP: no htpasswd"; exit 77; }

for d in file fileperm both both2; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
done

# The file: fay, gus, hal.  The database: fay (another password) and jon
# with role admin, gus and kim (not in the file) with no role; hal is not in
# it.
htpw=$AZS_CONF_DIR/htpasswd
fay_file='Fay-file-pw-zq7' gus_file='Gus-file-pw-zq7' hal_file='Hal-file-pw-zq7'
authz_htpasswd "$htpw" fay "$fay_file"
authz_htpasswd "$htpw" gus "$gus_file"
authz_htpasswd "$htpw" hal "$hal_file"

azs_db_init
authz_roles admin
azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant"
authz_user_add fay admin      # PW[fay] is the database password
authz_user_add gus
authz_user_add jon admin
authz_user_add kim            # database only, no role

{
    azs_loc_file /file File "$htpw" 'role admin'
    azs_loc_file /fileperm File "$htpw" 'permission adm:do'
} | azs_conf
azs_conf <<EOF
<Location "/both">
    AuthType Basic
    AuthName "Both"
    AuthBasicProvider file authz_status
    AuthUserFile "$htpw"
    Require role admin
</Location>
<Location "/both2">
    AuthType Basic
    AuthName "Both"
    AuthBasicProvider authz_status file
    AuthUserFile "$htpw"
    Require role admin
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 403 missing-(role|permission): user "(gus|hal|kim)" for "/(file|fileperm|both|both2)/"'
azs_allow_log 'AZS[0-9]{4}: 401 bad-password: user "jon" for "/both/"'

azs_start || azs_bail "httpd starts"

# ---- AuthBasicProvider file -------------------------------------------------
http_req -u "fay:$fay_file" /file/
expect_status 200 "file: fay (file password, role admin in the database) -> 200"
expect_body '^file area$' "file: fay -> the page"
expect_no_log 'AZS[0-9]{4}:' "file: fay's grant -> no module line"

http_req -u "gus:$gus_file" /file/
authz_expect_forbidden "file: gus (in the database, no role)"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "gus" for "/file/" \(requires role admin\)' \
    "file: gus -> missing-role line"

http_req -u "hal:$hal_file" /file/
authz_expect_forbidden "file: hal (in the file, not in the database: known, no roles)"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "hal" for "/file/" \(requires role admin\)' \
    "file: hal -> missing-role line naming hal"
expect_log_count 1 'AZS[0-9]{4}:' "file: hal -> exactly one module line (no unknown-user, no db-error)"

http_req -u "fay:${PW[fay]}" /file/
authz_expect_challenge File "file: fay with her database password (the file decides)"
http_req -u "jon:${PW[jon]}" /file/
authz_expect_challenge File "file: jon (database only) is unknown to the file"
expect_no_log 'AZS[0-9]{4}:' \
    "file: authentication by another provider failed -> no module line"
http_req /file/
authz_expect_challenge File "file: no credentials"

http_req -u "fay:$fay_file" /fileperm/
expect_status 200 "file + permission: fay holds adm:do through admin -> 200"
http_req -u "hal:$hal_file" /fileperm/
authz_expect_forbidden "file + permission: hal"
expect_log 'AZS[0-9]{4}: 403 missing-permission: user "hal" for "/fileperm/" \(requires permission adm:do\)' \
    "file + permission: hal -> missing-permission line"

# ---- AuthBasicProvider file authz_status ------------------------------------
http_req -u "fay:$fay_file" /both/
expect_status 200 "file authz_status: fay by the file -> 200"
http_req -u "jon:${PW[jon]}" /both/
expect_status 200 "file authz_status: jon, not in the file, by the database -> 200"
expect_no_log 'AZS[0-9]{4}:' "file authz_status: jon's grant -> no module line"
http_req -u "hal:$hal_file" /both/
authz_expect_forbidden "file authz_status: hal"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "hal" for "/both/"' \
    "file authz_status: hal -> missing-role line"
http_req -u "kim:${PW[kim]}" /both/
authz_expect_forbidden "file authz_status: kim by the database, no role"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "kim" for "/both/" \(requires role admin\)' \
    "file authz_status: kim -> missing-role line"
http_req -u "jon:not-${PW[jon]}" /both/
authz_expect_challenge Both "file authz_status: jon, wrong password"
expect_log 'AZS[0-9]{4}: 401 bad-password: user "jon" for "/both/"' \
    "file authz_status: jon's wrong password -> bad-password line"

# ---- AuthBasicProvider authz_status file ------------------------------------
http_req -u "jon:${PW[jon]}" /both2/
expect_status 200 "authz_status file: jon by the database -> 200"
http_req -u "hal:$hal_file" /both2/
authz_expect_forbidden "authz_status file: hal, not in the database, by the file"
expect_log 'AZS[0-9]{4}: 403 missing-role: user "hal" for "/both2/" \(requires role admin\)' \
    "authz_status file: hal -> missing-role line"
expect_no_log 'AZS[0-9]{4}: 401' \
    "authz_status file: hal, authenticated by the file -> no 401 line from the module"
expect_log_count 1 'AZS[0-9]{4}:' "authz_status file: hal -> exactly one module line"

azs_done

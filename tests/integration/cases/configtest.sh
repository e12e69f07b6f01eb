#!/bin/bash
# `httpd -t` with the module loaded (README.md, "Directives"): the documented
# configuration passes, with or without the database file; bad directive
# arguments and bad Require expressions fail the configuration test.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

# configtest_passes DESC - the configuration built so far passes httpd -t
configtest_passes() {
    if azs_configtest; then
        _azs_ok "$1"
    else
        _azs_not_ok "$1" "httpd -t failed:" "$AZS_CONFIGTEST_OUT" \
            "--- case configuration" "$(cat "$AZS_CASE_CONF")"
    fi
}

# configtest_fails DESC REGEX - httpd -t fails on a line of the case's
# snippet, and says REGEX
configtest_fails() {
    if azs_configtest; then
        _azs_not_ok "$1" "httpd -t passed; the configuration was:" \
            "$(cat "$AZS_CASE_CONF")"
    elif printf '%s\n' "$AZS_CONFIGTEST_OUT" \
            | grep -Eq -- "line [0-9]+ of $AZS_CASE_CONF" \
         && printf '%s\n' "$AZS_CONFIGTEST_OUT" | grep -Eq -- "$2"
    then
        _azs_ok "$1"
    else
        _azs_not_ok "$1" "httpd -t failed without saying: $2" \
            "$AZS_CONFIGTEST_OUT"
    fi
}

# A configuration with the module and no protected location.
configtest_passes "module loaded, database not created yet: Syntax OK"
expect_true "httpd -t does not create the database" test ! -e "$AZS_DB"

azs_db_init
configtest_passes "module loaded, database present: Syntax OK"

# The configuration of README.md's "Quick start".
azs_loc_admin | azs_conf
azs_conf <<'EOF'
<Location "/docs">
    AuthType Basic
    AuthName "Documentation"
    AuthBasicProvider authz_status
    AuthzStatusBlocklist On
    <RequireAny>
        <RequireAll>
            Require method GET HEAD
            Require permission docs:read
        </RequireAll>
        Require permission docs:write
    </RequireAny>
</Location>
EOF
azs_loc_api | azs_conf
configtest_passes "the documented configuration passes"

azs_conf_reset
azs_conf <<'EOF'
<Location "/admin">
    AuthType Basic
    AuthName "Administration"
    AuthFormProvider authz_status
    AuthBasicProvider file authz_status
    AuthUserFile /dev/null
    AuthzStatusForbiddenOnFailure Off
    AuthzStatusBlocklist Off
    Require role admin ops
    Require permission docs:%{REQUEST_METHOD}
</Location>
<Directory "/nonexistent">
    AuthzStatusDatabase /nonexistent/other.db
</Directory>
EOF
configtest_passes "providers, flags, expressions and per-directory database"

azs_conf_reset
azs_conf <<'EOF'
<Location "/docs">
    AuthzStatusBlocklist Maybe
</Location>
EOF
configtest_fails "AuthzStatusBlocklist Maybe fails" 'AuthzStatusBlocklist'

azs_conf_reset
azs_conf <<'EOF'
<Location "/docs">
    AuthzStatusForbiddenOnFailure sometimes
</Location>
EOF
configtest_fails "AuthzStatusForbiddenOnFailure sometimes fails" \
    'AuthzStatusForbiddenOnFailure'

azs_conf_reset
azs_conf <<'EOF'
AuthzStatusDatabase
EOF
configtest_fails "AuthzStatusDatabase without a file fails" \
    'AuthzStatusDatabase'

azs_conf_reset
azs_conf <<'EOF'
AuthzStatusDatabase /a.db /b.db
EOF
configtest_fails "AuthzStatusDatabase with two files fails" \
    'AuthzStatusDatabase'

azs_conf_reset
azs_loc_docs 'permission docs:%{REQUEST_METHOD' | azs_conf
configtest_fails "Require permission with a broken expression fails" \
    '[Ee]xpr|[Pp]arse'

azs_conf_reset
azs_loc_admin 'role %{' | azs_conf
configtest_fails "Require role with a broken expression fails" \
    '[Ee]xpr|[Pp]arse'

# The server-wide settings: in the main server only, with their values.
azs_conf_reset
azs_conf <<'EOF'
AuthzStatusCache 1024
AuthzStatusHashLimit 2
AuthzStatusHashPriority normal
EOF
configtest_passes "AuthzStatusCache, HashLimit and HashPriority: Syntax OK"
for bad in "AuthzStatusHashLimit 0" "AuthzStatusHashLimit many" \
           "AuthzStatusHashPriority high" "AuthzStatusCache -1"; do
    azs_conf_reset
    printf '%s\n' "$bad" | azs_conf
    configtest_fails "$bad fails" "${bad%% *}"
done
azs_conf_reset
azs_conf <<'EOF'
<Location "/x">
    AuthzStatusHashPriority idle
</Location>
EOF
configtest_fails "AuthzStatusHashPriority inside <Location> fails" \
    'not allowed'

azs_conf_reset
azs_conf <<'EOF'
AuthzStatusNoSuchDirective On
EOF
configtest_fails "an unknown directive fails" \
    "Invalid command 'AuthzStatusNoSuchDirective'"

azs_done

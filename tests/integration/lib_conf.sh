# shellcheck shell=bash
#
# lib_conf.sh - the <Location> blocks that the integration cases, the
# valgrind run (tests/reliability/valgrind.sh) and the demo
# (scripts/demo.sh) protect their areas with.  Each function prints one
# block; lib.sh sources this file, so a case appends them with azs_conf:
#
#     { azs_loc_admin; azs_loc_api; } | azs_conf
#     azs_loc_basic /docs Documentation 'permission docs:read' | azs_conf
#
# Sourcing it has no other effect (the demo is no test case).  The
# benchmark (bench/run.sh) and the demo start their httpd.conf with
# azs_conf_server.

# azs_conf_server ROOT PORT - the first lines of an httpd.conf for a
# ServerRoot of its own on 127.0.0.1:PORT, its pid file and error log in it
# (ROOT/httpd.pid, ROOT/logs/error.log), at LogLevel warn.
azs_conf_server() {
    cat <<EOF
ServerRoot "$1"
ServerName 127.0.0.1
Listen 127.0.0.1:$2
PidFile "$1/httpd.pid"
ErrorLog "$1/logs/error.log"
LogLevel warn
EOF
}

# azs_loc_basic PATH REALM [REQUIRE] - Basic authentication by this module
# on PATH, then "Require REQUIRE" (default: valid-user).
azs_loc_basic() {
    cat <<EOF
<Location "$1">
    AuthType Basic
    AuthName "$2"
    AuthBasicProvider authz_status
    Require ${3:-valid-user}
</Location>
EOF
}

# azs_loc_bearer PATH REALM [REQUIRE] - API tokens (AuthType Bearer) on
# PATH, then "Require REQUIRE" (default: permission api:call).
azs_loc_bearer() {
    cat <<EOF
<Location "$1">
    AuthType Bearer
    AuthName "$2"
    Require ${3:-permission api:call}
</Location>
EOF
}

# azs_loc_admin [REQUIRE] - /admin, realm "Administration", Require
# REQUIRE (default: role admin).
azs_loc_admin() {
    azs_loc_basic /admin Administration "${1:-role admin}"
}

# azs_loc_docs [REQUIRE] - /docs, realm "Documentation", Require REQUIRE
# (default: permission docs:read).
azs_loc_docs() {
    azs_loc_basic /docs Documentation "${1:-permission docs:read}"
}

# azs_loc_api [PATH] - PATH (default /api), realm "api", a token with
# api:call.
azs_loc_api() {
    azs_loc_bearer "${1:-/api}" api
}

# azs_loc_form_login PATH REALM - mod_auth_form's login handler on PATH,
# checking with this module, its session in a cookie "session".
azs_loc_form_login() {
    cat <<EOF
<Location "$1">
    SetHandler form-login-handler
    AuthType form
    AuthName "$2"
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/;httponly
</Location>
EOF
}

# azs_loc_file PATH REALM HTPASSWD [REQUIRE] - Basic authentication by
# httpd's mod_authn_file from HTPASSWD on PATH, then "Require REQUIRE"
# (default: valid-user): this module only authorizes, if at all.
azs_loc_file() {
    cat <<EOF
<Location "$1">
    AuthType Basic
    AuthName "$2"
    AuthBasicProvider file
    AuthUserFile "$3"
    Require ${4:-valid-user}
</Location>
EOF
}

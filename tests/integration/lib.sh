# shellcheck shell=bash
#
# lib.sh - integration test harness for mod_authz_status.
#
# Sourced by every tests/integration/cases/*.sh.  Sourcing it creates a
# private ServerRoot (mktemp -d) with a document root, a logs directory and
# a database directory; the case then adds its configuration, starts httpd
# on a free 127.0.0.1 port, sends requests and asserts on the answers and on
# the error log.  azs_done stops httpd, fails on unexpected error-log lines,
# prints a summary and exits.  A minimal case:
#
#     . "$(dirname "$0")/../lib.sh"
#     azs_need_module
#     azs_db_init; azs_user_add alice 'pw'
#     azs_loc_admin valid-user | azs_conf    # lib_conf.sh's <Location>
#     azs_start || azs_bail "httpd starts"
#     http_req -u alice:pw /admin/
#     expect_status 200 "alice gets in"
#     azs_done
#
# Environment (set by `make check`, or by hand):
#   APACHE2        the httpd binary (default: apache2 or httpd on PATH/sbin)
#   AP_LIBEXECDIR  where mod_mpm_*.so and friends live
#   AZS_MODULE     the built mod_authz_status.so
#   HTAUTHZ        the built htauthz
#   AZS_MPM        event | worker | prefork (default: event)
#   AZS_RESULTS    file every verdict is appended to (run.sh sets it)
#   AZS_SUITE_LOGS where the case leaves its logs and the secrets it used,
#                  for secrets_scan.sh (run.sh or the make check driver)
#   AZS_KEEP=1     keep the ServerRoot after the case (for debugging)
#   AZS_VERBOSE=1  print the error log after every case
#
# Regular expressions are POSIX extended (grep -E) throughout.

set -u
umask 022

AZS_IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib_tap.sh
. "$AZS_IT_DIR/../lib_tap.sh"
# shellcheck source=lib_conf.sh
. "$AZS_IT_DIR/lib_conf.sh"
AZS_CASE=$(basename "$0" .sh)
AZS_MPM=${AZS_MPM:-event}

: "${AZS_TOP_SRCDIR:=$(cd "$AZS_IT_DIR/../.." && pwd)}"
: "${AZS_TOP_BUILDDIR:=$AZS_TOP_SRCDIR}"
: "${AZS_MODULE:=$AZS_TOP_BUILDDIR/.libs/mod_authz_status.so}"
: "${HTAUTHZ:=$AZS_TOP_BUILDDIR/htauthz}"
if [ -z "${APACHE2:-}" ]; then
    APACHE2=$(PATH=$PATH:/usr/sbin:/usr/local/sbin command -v apache2 \
              || PATH=$PATH:/usr/sbin:/usr/local/sbin command -v httpd \
              || true)
fi
if [ -z "${AP_LIBEXECDIR:-}" ]; then
    AP_LIBEXECDIR=$( (apxs -q LIBEXECDIR || apxs2 -q LIBEXECDIR) 2>/dev/null \
                     || echo /usr/lib/apache2/modules)
fi
export AZS_TOP_SRCDIR AZS_TOP_BUILDDIR AZS_MODULE HTAUTHZ APACHE2 AP_LIBEXECDIR

# python3 for port picking and raw requests; the system one starts fastest.
if [ -x /usr/bin/python3 ]; then
    AZS_PYTHON=/usr/bin/python3
else
    AZS_PYTHON=$(command -v python3 || true)
fi

# Bounds: nothing in a case waits longer than these.
AZS_START_TIMEOUT=${AZS_START_TIMEOUT:-10}   # seconds for httpd to answer
AZS_STOP_TIMEOUT=${AZS_STOP_TIMEOUT:-10}     # seconds for httpd to exit
AZS_CURL_TIMEOUT=${AZS_CURL_TIMEOUT:-10}     # seconds per request
AZS_LOG_WAIT=${AZS_LOG_WAIT:-2}              # seconds expect_log waits

# ---- per-case state --------------------------------------------------------

AZS_ROOT=
AZS_PID=
AZS_PORT=
AZS_URL=
AZS_LOAD_MODULE=1          # 0: run httpd without mod_authz_status
AZS_EXTRA_MODULES=         # more modules to load, e.g. "cgid status"
AZS_LOG_ALLOW=()           # regexes of error-log lines the case expects
AZS_REQ_N=0
AZS_REQ_MARK=0             # error-log offset before the last request
AZS_T0=$SECONDS

# httpd's own routine authentication lines; every case accepts them.
AZS_LOG_ALLOW_DEFAULT=(
    'AH00558:'              # could not determine the server name
    'AH01614:'              # mod_auth_basic: another authentication scheme
    'AH01617:'              # mod_auth_basic: password mismatch
    'AH01618:'              # mod_auth_basic: user not found
    'AH01630:'              # mod_authz_core: client denied by configuration
    'AH01631:'              # mod_authz_core: authorization failure
)

_azs_die() {
    printf 'Bail out! %s: %s\n' "$AZS_CASE" "$*"
    exit 99
}

# Whether httpd runs its children as another user (only when we are root).
if [ "$(id -u)" = 0 ]; then
    if id www-data >/dev/null 2>&1; then
        AZS_RUN_USER=www-data
        AZS_RUN_GROUP=$(id -gn www-data)
    else
        AZS_RUN_USER=nobody
        AZS_RUN_GROUP=$(id -gn nobody 2>/dev/null || echo nogroup)
    fi
else
    AZS_RUN_USER=
    AZS_RUN_GROUP=
fi

# ---- the ServerRoot ----------------------------------------------------------

_azs_setup_root() {
    local base=${AZS_TMPDIR:-${TMPDIR:-/tmp}}
    # The children (www-data) must be able to walk into the ServerRoot; a
    # private TMPDIR would lock them out.
    [ -n "$AZS_RUN_USER" ] && base=${AZS_TMPDIR:-/tmp}
    AZS_ROOT=$(mktemp -d "$base/azs-it.${AZS_CASE}.${AZS_MPM}.${AZS_RUN_TAG:-x}.XXXXXX") \
        || _azs_die "mktemp failed"
    chmod 755 "$AZS_ROOT"
    AZS_CONF_DIR=$AZS_ROOT/conf
    AZS_DOCROOT=$AZS_ROOT/htdocs
    AZS_LOG_DIR=$AZS_ROOT/logs
    AZS_RUN_DIR=$AZS_ROOT/run
    AZS_DB_DIR=$AZS_ROOT/db
    AZS_RESP_DIR=$AZS_ROOT/resp
    AZS_DB=$AZS_DB_DIR/authz_status.db
    AZS_ERROR_LOG=$AZS_LOG_DIR/error.log
    AZS_ACCESS_LOG=$AZS_LOG_DIR/access.log
    AZS_CASE_CONF=$AZS_CONF_DIR/case.conf
    AZS_SERVER_DB=$AZS_DB  # AuthzStatusDatabase at server level; "" = none
    mkdir -p "$AZS_CONF_DIR" "$AZS_DOCROOT/admin" "$AZS_DOCROOT/docs" \
             "$AZS_DOCROOT/api" "$AZS_LOG_DIR" "$AZS_RUN_DIR" \
             "$AZS_DB_DIR" "$AZS_RESP_DIR"
    : > "$AZS_CASE_CONF"
    : > "$AZS_ERROR_LOG"
    printf 'hello\n' > "$AZS_DOCROOT/index.html"
    printf 'admin area\n' > "$AZS_DOCROOT/admin/index.html"
    printf 'document a\n' > "$AZS_DOCROOT/docs/a.txt"
    printf '{"x": 1}\n' > "$AZS_DOCROOT/api/x.json"
    cat > "$AZS_CONF_DIR/mime.types" <<'EOF'
text/html                 html htm
text/plain                txt
application/json          json
EOF
    if [ -n "$AZS_RUN_USER" ]; then
        chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$AZS_DB_DIR" "$AZS_RUN_DIR"
    fi
    if [ -n "${AZS_RESULTS:-}" ]; then
        touch "$AZS_RESULTS"
    else
        AZS_RESULTS=$AZS_ROOT/results
        : > "$AZS_RESULTS"
    fi
    # TAP numbers continue those of the cases run before this one.
    TAP_RECORD=$AZS_RESULTS
    TAP_N=$(wc -l < "$AZS_RESULTS")
    TAP_PREFIX="${AZS_CASE}[$AZS_MPM]: "
}

# Append configuration (read from stdin) to the case's snippet, which the
# generated httpd.conf includes last.  Use an unquoted heredoc to expand
# $AZS_DB, $AZS_DOCROOT, ...
azs_conf() {
    cat >> "$AZS_CASE_CONF"
}

# Replace the case's snippet (for cases that reconfigure and restart).
azs_conf_reset() {
    : > "$AZS_CASE_CONF"
}

# Accept error-log lines at level error or worse that match REGEX.
azs_allow_log() {
    AZS_LOG_ALLOW+=("$1")
}

# ---- ports and config ------------------------------------------------------

# Print a TCP port on 127.0.0.1 that nobody listens on right now.
azs_free_port() {
    local p
    if [ -n "$AZS_PYTHON" ]; then
        "$AZS_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
    fi
    for _ in $(seq 1 50); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

_azs_compiled_in=
_azs_module_line() {   # name -> LoadModule line, or nothing if unavailable
    local name=$1 so="$AP_LIBEXECDIR/mod_$1.so"
    if [ -z "$_azs_compiled_in" ]; then
        _azs_compiled_in=$("$APACHE2" -l 2>/dev/null | tr -d ' \t')
    fi
    case $'\n'"$_azs_compiled_in"$'\n' in
        *$'\n'"mod_$name.c"$'\n'*) return 0 ;;
    esac
    [ -f "$so" ] && printf 'LoadModule %s_module "%s"\n' "$name" "$so"
    return 0
}

# Write conf/httpd.conf for AZS_MPM and AZS_PORT.
azs_write_conf() {
    local m conf=$AZS_CONF_DIR/httpd.conf
    {
        cat <<EOF
# generated by tests/integration/lib.sh for case $AZS_CASE ($AZS_MPM)
ServerRoot "$AZS_ROOT"
ServerName 127.0.0.1
Listen 127.0.0.1:$AZS_PORT
PidFile "$AZS_RUN_DIR/httpd.pid"
DefaultRuntimeDir "$AZS_RUN_DIR"
ErrorLog "$AZS_ERROR_LOG"
LogLevel warn
Timeout 15
EOF
        printf 'LoadModule mpm_%s_module "%s/mod_mpm_%s.so"\n' \
            "$AZS_MPM" "$AP_LIBEXECDIR" "$AZS_MPM"
        for m in unixd log_config authn_core authz_core auth_basic authn_file \
                 authz_user authz_host authz_groupfile request session \
                 session_cookie auth_form remoteip headers alias mime dir \
                 ${AZS_SKIP_SHMCB:+no-}socache_shmcb \
                 $AZS_EXTRA_MODULES; do
            _azs_module_line "$m"
        done
        if [ "$AZS_LOAD_MODULE" = 1 ]; then
            printf 'LoadModule authz_status_module "%s"\n' "$AZS_MODULE"
            if [ -n "$AZS_SERVER_DB" ]; then
                printf 'AuthzStatusDatabase "%s"\n' "$AZS_SERVER_DB"
            fi
        fi
        if [ -n "$AZS_RUN_USER" ]; then
            printf 'User %s\nGroup %s\n' "$AZS_RUN_USER" "$AZS_RUN_GROUP"
        fi
        cat <<EOF
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog "$AZS_ACCESS_LOG" common
TypesConfig "$AZS_CONF_DIR/mime.types"
DirectoryIndex index.html
DocumentRoot "$AZS_DOCROOT"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$AZS_DOCROOT">
    Options None
    AllowOverride None
    Require all granted
</Directory>

# Small pools: start fast, stay light.
<IfModule mpm_prefork_module>
    StartServers 2
    MinSpareServers 1
    MaxSpareServers 4
    MaxRequestWorkers 16
</IfModule>
# Threaded children have Debian's 25 threads: a child keeps one thread that
# never waits for a password hash (README, "Password hashes under load"),
# so children smaller than a case's client count would shed new logins.
# ServerLimit leaves room beside the 4 children MaxRequestWorkers allows
# for children retiring after a burst (idle threads above MaxSpareThreads)
# while their last connections drain; without it httpd logs AH00288
# ("scoreboard is full") when the next burst wants a child.
<IfModule !mpm_prefork_module>
    StartServers 2
    ServerLimit 8
    ThreadsPerChild 25
    MinSpareThreads 25
    MaxSpareThreads 75
    MaxRequestWorkers 100
</IfModule>

# ---- case configuration ----
Include "$AZS_CASE_CONF"
EOF
    } > "$conf"
}

# Run `httpd -t` on the current configuration.  Output in AZS_CONFIGTEST_OUT;
# returns httpd's exit status.
# shellcheck disable=SC2034  # AZS_CONFIGTEST_OUT is for the case
azs_configtest() {
    [ -n "$AZS_PORT" ] || AZS_PORT=$(azs_free_port) || _azs_die "no free port"
    azs_write_conf
    AZS_CONFIGTEST_OUT=$("$APACHE2" -d "$AZS_ROOT" \
                         -f "$AZS_CONF_DIR/httpd.conf" -t 2>&1)
}

# ---- start / stop ------------------------------------------------------------

_azs_alive() {   # pid -> running (not a zombie)?
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# Start httpd in the foreground (our child, so we can reap it) and wait
# until it answers HTTP.  Returns 1 (after recording a failure) if it exits
# or stays silent; retries with another port if the port was taken.
azs_start() {
    local out=$AZS_LOG_DIR/httpd.out
    [ -z "$AZS_PID" ] || azs_stop
    for _ in 1 2 3; do
        [ -n "$AZS_PORT" ] || AZS_PORT=$(azs_free_port) \
            || _azs_die "no free port"
        AZS_URL=http://127.0.0.1:$AZS_PORT
        azs_write_conf
        # Its own session: prefork signals its whole process group on
        # shutdown, which must not include this shell.  setsid execs in
        # place here (a background job is no group leader), so $! is httpd.
        setsid "$APACHE2" -d "$AZS_ROOT" -f "$AZS_CONF_DIR/httpd.conf" \
            -DFOREGROUND >"$out" 2>&1 </dev/null &
        AZS_PID=$!
        for _ in $(seq 1 $((AZS_START_TIMEOUT * 20))); do
            if ! _azs_alive "$AZS_PID"; then
                break
            fi
            if curl -s -o /dev/null --max-time 1 "$AZS_URL/"; then
                return 0
            fi
            sleep 0.05
        done
        if _azs_alive "$AZS_PID"; then
            _azs_not_ok "httpd ($AZS_MPM) answers within ${AZS_START_TIMEOUT}s" \
                "$(tail -n 20 "$AZS_ERROR_LOG")"
            azs_stop
            return 1
        fi
        wait "$AZS_PID" 2>/dev/null
        AZS_PID=
        if grep -q 'AH00072\|Address already in use' "$out" "$AZS_ERROR_LOG"
        then
            AZS_PORT=   # lost a race for the port: pick another one
            continue
        fi
        break
    done
    _azs_not_ok "httpd ($AZS_MPM) starts" \
        "$(cat "$out"; tail -n 20 "$AZS_ERROR_LOG")"
    return 1
}

# SIGTERM, then wait (bounded) for httpd to exit; SIGKILL the parent and its
# children as a last resort, recording a failure.
azs_stop() {
    [ -n "$AZS_PID" ] || return 0
    kill -TERM "$AZS_PID" 2>/dev/null
    for _ in $(seq 1 $((AZS_STOP_TIMEOUT * 20))); do
        _azs_alive "$AZS_PID" || break
        sleep 0.05
    done
    if _azs_alive "$AZS_PID"; then
        kill -KILL -- "-$AZS_PID" 2>/dev/null   # its process group
        _azs_not_ok "httpd exits within ${AZS_STOP_TIMEOUT}s of SIGTERM"
    fi
    wait "$AZS_PID" 2>/dev/null
    AZS_PID=
}

# Reload the configuration (SIGUSR1, graceful) and wait until the new
# generation answers.
azs_graceful() {
    azs_write_conf
    kill -USR1 "$AZS_PID" || return 1
    for _ in $(seq 1 $((AZS_START_TIMEOUT * 20))); do
        sleep 0.05
        curl -s -o /dev/null --max-time 1 "$AZS_URL/" && return 0
    done
    return 1
}

# azs_wait_file FILE PID SECONDS - wait until FILE exists, PID (a helper
# the case started) has exited, or SECONDS have passed.
azs_wait_file() {
    for _ in $(seq 1 $(($3 * 20))); do
        [ -e "$1" ] && return 0
        _azs_alive "$2" || return 1
        sleep 0.05
    done
    return 1
}

_azs_cleanup() {
    [ -n "$AZS_PID" ] && azs_stop
    # secrets_scan.sh scans every case's logs for every recorded secret.
    if [ -n "${AZS_SUITE_LOGS:-}" ] && [ -n "$AZS_ROOT" ] \
       && [ -d "$AZS_LOG_DIR" ]; then
        local keep
        keep=$(mktemp -d "$AZS_SUITE_LOGS/logs/$AZS_CASE.$AZS_MPM.XXXXXX") \
            && cp -p "$AZS_LOG_DIR"/*log* "$keep"/ 2>/dev/null
    fi
    if [ -n "$AZS_ROOT" ] && [ -d "$AZS_ROOT" ]; then
        if [ "${AZS_KEEP:-0}" = 1 ]; then
            printf '# kept ServerRoot %s\n' "$AZS_ROOT"
        else
            rm -rf "$AZS_ROOT"
        fi
    fi
}

# ---- the database ------------------------------------------------------------

# Give the database directory and files to the user httpd's children run as:
# SQLite in WAL mode needs to create or write the -shm file even to read.
azs_db_fixperms() {
    [ -n "$AZS_RUN_USER" ] || return 0
    chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$AZS_DB_DIR"
    local f
    for f in "$AZS_DB" "$AZS_DB-wal" "$AZS_DB-shm" "$AZS_DB-journal"; do
        [ -e "$f" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$f"
    done
    return 0
}

# azs_secret STRING... - records passwords and tokens for the scan of every
# log after the whole suite (secrets_scan.sh); short ones (under 8 bytes)
# would match ordinary words and are left out.  Each one's base64 is
# scanned too.
azs_secret() {
    [ -n "${AZS_SUITE_LOGS:-}" ] || return 0
    local s
    for s in "$@"; do
        [ ${#s} -ge 8 ] && printf '%s\n' "$s" >> "$AZS_SUITE_LOGS/secrets"
    done
    return 0
}

# htauthz on the case's database; fixes ownership afterwards.  Output is
# htauthz's; returns its exit status.  An issued token is recorded as a
# secret.
azs_htauthz() {
    local rc out
    if [ "${1:-}" = token ] && [ "${2:-}" = issue ]; then
        out=$("$HTAUTHZ" -d "$AZS_DB" "$@")
        rc=$?
        azs_secret "$(printf '%s\n' "$out" | head -n 1)"
        [ -n "$out" ] && printf '%s\n' "$out"
    else
        "$HTAUTHZ" -d "$AZS_DB" "$@"
        rc=$?
    fi
    azs_db_fixperms
    # PostgreSQL: a node hears of a write within its propagation time
    # (milliseconds, pushed by the database; fleet_propagation.sh measures
    # it), not by the very next request as with SQLite: the cases about
    # the module's answers give it 50 ms, even on a loaded machine.
    [ "$AZS_BACKEND" != postgresql ] || sleep 0.05
    return "$rc"
}

# hz HTAUTHZ-ARGS... - azs_htauthz that must succeed; its output is
# dropped, and a failure ends the case.
hz() {
    azs_htauthz "$@" >/dev/null || _azs_die "htauthz $* failed"
}

azs_db_init() {
    [ -x "$HTAUTHZ" ] || _azs_die "htauthz not built: $HTAUTHZ"
    azs_htauthz init >/dev/null || _azs_die "htauthz init failed"
    if [ "$AZS_BACKEND" = postgresql ]; then
        pg_sql authz "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles
            WHERE rolname = 'httpd') THEN CREATE ROLE httpd LOGIN
            IN ROLE authz_status_reader; END IF; END \$\$" >/dev/null \
            || _azs_die "cannot create the role httpd"
    fi
}

# azs_db_admin_api - a new database with the roles azs_loc_admin and
# azs_loc_api ask for: admin, and api, which grants api:call.
azs_db_admin_api() {
    azs_db_init
    hz role add admin
    hz role add api
    hz role grant api api:call
}

# azs_user_add NAME PASSWORD [htauthz user add options...]
azs_user_add() {
    local name=$1 pw=$2
    shift 2
    azs_secret "$pw" "$name:$pw"
    printf '%s\n' "$pw" | azs_htauthz user add "$name" --password-stdin "$@" \
        >/dev/null || _azs_die "htauthz user add $name failed"
}

# ---- requests, the error log, results ------------------------------------------

# http_req, http_raw, log_mark, log_since, expect_*: see lib_http.sh.
# shellcheck source=lib_http.sh
. "$AZS_IT_DIR/lib_http.sh"

# ---- end of a case -------------------------------------------------------------

# Print the error-log lines nobody expected: level error or worse, lines
# not in httpd's format (raw stderr output of a child), and crashes,
# minus those the case allowed with azs_allow_log.
azs_unexpected_log() {
    local allow=$AZS_ROOT/log-allow re
    : > "$allow"
    for re in "${AZS_LOG_ALLOW_DEFAULT[@]}" "${AZS_LOG_ALLOW[@]}"; do
        printf '%s\n' "$re" >> "$allow"
    done
    grep -E -e '^\[[^]]*\] \[[^]:]*:(error|crit|alert|emerg)\]' \
            -e '^[^[]' \
            -e 'AH00052:|AH00060:|AH00061:|exit signal|seg fault' \
            "$AZS_ERROR_LOG" 2>/dev/null \
        | grep -E -v -f "$allow"
}

# Stop httpd, check the error log, print the case summary, exit.
azs_done() {
    local bad
    azs_stop
    bad=$(azs_unexpected_log)
    if [ -z "$bad" ]; then
        _azs_ok "no unexpected error-log lines"
    else
        _azs_not_ok "no unexpected error-log lines" "$bad"
    fi
    if [ "${AZS_VERBOSE:-0}" = 1 ] || [ "$TAP_FAIL" -gt 0 ]; then
        printf '# --- %s error log (last 30 lines)\n' "$AZS_CASE"
        tail -n 30 "$AZS_ERROR_LOG" | sed 's/^/#   /'
    fi
    printf '# %s[%s]: %d passed, %d failed, %ds\n' "$AZS_CASE" "$AZS_MPM" \
        "$TAP_PASS" "$TAP_FAIL" "$((SECONDS - AZS_T0))"
    [ "$TAP_FAIL" -eq 0 ] && exit 0
    exit 1
}

# Give up on the case (e.g. httpd did not start): record it, and finish.
azs_bail() {
    _azs_not_ok "case stopped early: $1"
    azs_done
}

# Fail the case early unless the module and htauthz are built.
azs_need_module() {
    [ -f "$AZS_MODULE" ] || _azs_die "module not built: $AZS_MODULE"
    [ -x "$HTAUTHZ" ] || _azs_die "htauthz not built: $HTAUTHZ"
}

# ---- on source -----------------------------------------------------------------

if [ -z "$APACHE2" ] || [ ! -x "$APACHE2" ]; then
    printf '# SKIP: no httpd binary (APACHE2=%s)\n' "$APACHE2"
    exit 77
fi
command -v curl >/dev/null 2>&1 || { printf '# SKIP: no curl\n'; exit 77; }
command -v setsid >/dev/null 2>&1 || _azs_die "setsid (util-linux) is needed"
[ -f "$AP_LIBEXECDIR/mod_mpm_$AZS_MPM.so" ] \
    || _azs_die "no MPM $AZS_MPM in $AP_LIBEXECDIR"

# azs_on_exit CMD - CMD (a case's own server or mount) is undone when the
# case exits, the last registered first, before the harness stops httpd and
# PostgreSQL by pid and removes the ServerRoot (which holds their pid
# files and data): nothing a case started outlives it.
AZS_ON_EXIT=()
azs_on_exit() {
    AZS_ON_EXIT=("$1" "${AZS_ON_EXIT[@]}")
}
_azs_exit() {
    local c
    # Forgiving from here on: an unset variable in one step (a case that
    # died before it set it) must not skip the steps after it.
    set +u
    for c in "${AZS_ON_EXIT[@]}"; do
        eval "$c"
    done
    azs_stop
    ! declare -F pg_stop >/dev/null || pg_stop
    _azs_cleanup
}

_azs_setup_root
trap _azs_exit EXIT
trap 'exit 130' INT TERM HUP PIPE

# ---- the backend: SQLite (default) or PostgreSQL ------------------------------
# AZS_BACKEND=postgresql runs the case against a real PostgreSQL server of
# its own (tests/lib_pg.sh, a unix socket under the ServerRoot): htauthz
# connects as the superuser (as an administrator's init would), httpd as
# "httpd", a member of authz_status_reader (SELECT only).
AZS_BACKEND=${AZS_BACKEND:-sqlite}
if [ "$AZS_BACKEND" = postgresql ]; then
    # shellcheck source=../lib_pg.sh
    . "$(dirname "${BASH_SOURCE[0]}")/../lib_pg.sh"
    pg_need || { printf '1..0 # SKIP PostgreSQL is not installed\n'; exit 77; }
    PG_NO_TRAP=1 pg_start "$AZS_ROOT/pg" >/dev/null \
        || _azs_die "PostgreSQL does not start"
    pg_sql postgres "CREATE DATABASE authz" >/dev/null \
        || _azs_die "cannot create the PostgreSQL database"
    AZS_DB=$(pg_url authz)
    AZS_SERVER_DB=$(pg_url authz httpd)
    TAP_PREFIX="${AZS_CASE}[$AZS_MPM,pg]: "
fi

# azs_need_sqlite - the case is about the SQLite file itself: skipped on
# another backend.
azs_need_sqlite() {
    if [ "$AZS_BACKEND" != sqlite ]; then
        printf '1..0 # SKIP the case is about the SQLite file\n'
        exit 77
    fi
}

# ---- one child ---------------------------------------------------------------

# azs_single_child [THREADS] - configure httpd with exactly one child
# process under every MPM (prefork: one process serving one connection at a
# time; worker and event: one process of THREADS threads, default 1), so
# that every request reaches the same process and, with one thread, the same
# thread-local state.  Call before azs_start.  httpd says it "reached
# MaxRequestWorkers" while a connection is open: those lines are allowed.
azs_single_child() {
    local threads=${1:-1}
    azs_conf <<EOF2
<IfModule mpm_prefork_module>
    StartServers 1
    MinSpareServers 1
    MaxSpareServers 1
    ServerLimit 1
    MaxRequestWorkers 1
</IfModule>
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    ThreadLimit $threads
    ThreadsPerChild $threads
    MinSpareThreads 1
    MaxSpareThreads $threads
    MaxRequestWorkers $threads
</IfModule>
EOF2
    azs_allow_log '(AH00161|AH00286|AH00484):'
}

# azs_threaded_child THREADS - under worker and event, one child process
# of THREADS threads (prefork keeps its small pool).  Call before
# azs_start.
azs_threaded_child() {
    azs_conf <<EOF2
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild $1
    MinSpareThreads 1
    MaxSpareThreads $1
    MaxRequestWorkers $1
</IfModule>
EOF2
}

# azs_child_pids - print the process ids of httpd's children, on one line,
# in increasing order (nothing when httpd is not running).
# azs_watcher_pids - the PostgreSQL watchers of the case's httpd.
azs_watcher_pids() {
    local f stat ppid pids=()
    [ -n "$AZS_PID" ] || return 0
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue
        case $stat in *"(azs-watch)"*) ;; *) continue ;; esac
        read -r _ ppid _ <<<"${stat##*) }"
        [ "$ppid" = "$AZS_PID" ] && pids+=("${f//[^0-9]/}")
    done
    [ ${#pids[@]} -gt 0 ] && printf '%s\n' "${pids[@]}" | sort -n | paste -sd ' '
    return 0
}

azs_child_pids() {
    local f stat state ppid pids=()
    [ -n "$AZS_PID" ] || return 0
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue
        read -r state ppid _ <<<"${stat##*) }"
        # The PostgreSQL watcher (azs-watch) is no child that serves.
        case $stat in *"(azs-watch)"*) continue ;; esac
        [ "$ppid" = "$AZS_PID" ] && [ "$state" != Z ] && pids+=("${f//[^0-9]/}")
    done
    [ ${#pids[@]} -gt 0 ] && printf '%s\n' "${pids[@]}" | sort -n | paste -sd ' '
    return 0
}

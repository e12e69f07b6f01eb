# bench/lib_servers.sh - sourced by bench/run.sh: the fixtures (build_fixture,
# FIXTURE_STEPS) and the servers (httpd.conf per configuration, start_server).
# Uses run.sh's settings and helpers (log, raw, now_ms, WORK, RUNDIR, ...).
# shellcheck shell=bash

# ---- fixtures ---------------------------------------------------------------

# Bump when the steps below (after fixtures.py) change: fixtures are
# reused while schema.sql, fixtures.py and this stay the same.
FIXTURE_STEPS=2

fixture_dir() { echo "$WORK/fx-u$1-r$ROLES-g$GRANTS-b$BLOCKS"; }

build_fixture() {
    local n=$1 d want t0 t1 tok detail
    d=$(fixture_dir "$n")
    want="$(sha1sum < "$SCHEMA") $(sha1sum < "$bench/fixtures.py") $FIXTURE_STEPS $HTAUTHZ"
    want=$(sha1sum <<< "$want")
    if [ "$FRESH" != 1 ] && [ -f "$d/.stamp" ] && [ "$(cat "$d/.stamp")" = "$want" ]; then
        # Users with credential version 0 (fixtures made before users.cred
        # was set at load) are never cached: never reuse those.
        if [ "$(sqlite3 "file:$d/azs_bcrypt.db?immutable=1" "SELECT count(*) FROM
                pragma_table_info('users') WHERE name = 'cred'" 2>/dev/null)" != 1 ] \
           || [ "$(sqlite3 "file:$d/azs_bcrypt.db?immutable=1" \
                   "SELECT count(*) FROM users WHERE cred = 0" 2>/dev/null)" = 0 ]; then
            log "fixtures for $n users: reusing $d"
            return 0
        fi
        log "fixtures for $n users: users with cred 0 in $d"
    fi
    rm -rf "$d"
    log "fixtures for $n users: generating in $d"
    t0=$(now_ms)
    detail=$(python3 "$bench/fixtures.py" --dir "$d" --users "$n" \
        --roles "$ROLES" --grants "$GRANTS" --blocks "$BLOCKS" \
        --schema "$SCHEMA")
    t1=$(now_ms)
    printf '%s\n' "$detail" >&2
    raw fixture "$n" "$(( t1 - t0 ))" "${detail#*users: }"
    # shellcheck disable=SC1091
    . "$d/fixture.env"
    # A copy whose blocklist covers the benchmark's own client, written by
    # htauthz as an administrator would.
    cp "$d/azs_bcrypt.db" "$d/azs_blocked.db"
    "$HTAUTHZ" -d "$d/azs_blocked.db" ip block 127.0.0.0/8 \
        --reason "bench: the load generator" >/dev/null
    tok=$("$HTAUTHZ" -d "$d/azs_bcrypt.db" token issue "$FX_VALID" --label bench)
    printf '%s\n' "${tok%%$'\n'*}" > "$d/token.valid"
    tok=$("$HTAUTHZ" -d "$d/azs_bcrypt.db" token issue "$FX_DENIED" --label bench)
    printf '%s\n' "${tok%%$'\n'*}" > "$d/token.denied"
    if [ -n "$RUN_USER" ]; then
        chown -R "$RUN_USER:$RUN_GROUP" "$d"
    fi
    chmod 755 "$d"
    echo "$want" > "$d/.stamp"
}

# ---- PostgreSQL (configuration azs-pg) ------------------------------------------
# One server for the run (tests/lib_pg.sh: a unix socket under RUNDIR), a
# database per fixture, filled from its azs_bcrypt.db by htauthz migrate;
# httpd connects as "httpd", a member of authz_status_reader.
pg_bench_db() { echo "azs_$(basename "$1" | tr -c 'a-z0-9\n' '_')"; }
pg_bench_url() { pg_url "$(pg_bench_db "$1")" httpd; }
pg_bench_prepare() {   # pg_bench_prepare FIXTURE_DIR [SQLITE_FILE]
    local fx=$1 file=${2:-azs_bcrypt.db} db t0
    if [ -z "${PG_DIR:-}" ]; then
        # shellcheck source=../tests/lib_pg.sh
        . "$top/tests/lib_pg.sh"
        pg_need || { log "PostgreSQL is not installed: azs-pg not measured"; return 1; }
        PG_NO_TRAP=1 pg_start "$RUNDIR/pg" >/dev/null || return 1
    fi
    db=$(pg_bench_db "$fx")
    pg_sql postgres "CREATE DATABASE $db" >/dev/null || return 1
    t0=$(now_ms)
    "$HTAUTHZ" migrate "$fx/$file" "$(pg_url "$db")" >&2 || return 1
    log "PostgreSQL: $db filled in $(( $(now_ms) - t0 )) ms"
    pg_sql "$db" "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles
        WHERE rolname = 'httpd') THEN CREATE ROLE httpd LOGIN
        IN ROLE authz_status_reader; END IF; END \$\$" >/dev/null
    pg_sql "$db" "ANALYZE" >/dev/null
}

# ---- servers ----------------------------------------------------------------

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# A LoadModule line, unless the module is compiled into httpd.
BUILTIN=$("$APACHE2" -l 2>/dev/null || true)
builtin_or_load() {
    case $BUILTIN in
    *"mod_$1.c"*) echo "# mod_$1 is compiled in" ;;
    *) echo "LoadModule $1_module $MODDIR/mod_$1.so" ;;
    esac
}

# conf_for NAME FIXTURE_DIR: the configuration-specific part of httpd.conf.
conf_for() {
    local name=$1 fx=$2
    case $name in
    ceiling)
        cat <<EOF
# (1) no authentication: the ceiling
EOF
        ;;
    floor)
        # Two users: the valid one, and the one refused (403).
        grep -E "^($FX_VALID|$FX_DENIED):" "$fx/htpasswd" > "$fx/htpasswd.two"
        chmod 644 "$fx/htpasswd.two"
        cat <<EOF
# (1b) the floor: authn_file with a two-line htpasswd, Require user: the
# least a Basic login costs in httpd itself
LoadModule authn_file_module $MODDIR/mod_authn_file.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
<Location "/p/">
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider file
    AuthUserFile "$fx/htpasswd.two"
    AuthzSendForbiddenOnFailure On
    Require user $FX_VALID
</Location>
EOF
        ;;
    file)
        cat <<EOF
# (2) authn_file + authz_groupfile, {SHA}
LoadModule authn_file_module $MODDIR/mod_authn_file.so
LoadModule authz_groupfile_module $MODDIR/mod_authz_groupfile.so
<Location "/p/">
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider file
    AuthUserFile "$fx/htpasswd"
    AuthGroupFile "$fx/htgroup"
    AuthzSendForbiddenOnFailure On
    Require group benchgrp
</Location>
EOF
        ;;
    dbd|socache)
        cat <<EOF
LoadModule dbd_module $MODDIR/mod_dbd.so
LoadModule authn_dbd_module $MODDIR/mod_authn_dbd.so
LoadModule authz_dbd_module $MODDIR/mod_authz_dbd.so
DBDriver sqlite3
DBDParams "$fx/dbd.db"
DBDMin 1
DBDKeep 25
DBDMax 25
EOF
        if [ "$name" = dbd ]; then
            cat <<EOF
# (3) authn_dbd + authz_dbd, sqlite3 driver, {SHA}
<Location "/p/">
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider dbd
EOF
        else
            cat <<EOF
# (4) authn_dbd + authz_dbd + authn_socache (shmcb), {SHA}
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule authn_socache_module $MODDIR/mod_authn_socache.so
AuthnCacheSOCache shmcb
<Location "/p/">
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider socache dbd
    AuthnCacheProvideFor dbd
EOF
        fi
        cat <<EOF
    AuthDBDUserPWQuery "SELECT hash FROM users WHERE name = %s"
    AuthzDBDQuery "SELECT grp FROM user_groups WHERE name = %s"
    AuthzSendForbiddenOnFailure On
    Require dbd-group benchgrp
</Location>
EOF
        ;;
    azs-bcrypt|azs-sha-nocache|azs-blocked|azs-crowd|azs-pg|azs-throttle|azs-throttled|azs-export)
        local db=$fx/azs_bcrypt.db label="(5) mod_authz_status, bcrypt cost 10, cache on"
        [ "$name" = azs-pg ] && db=$(pg_bench_url "$fx") \
            label="(9) (5) on PostgreSQL: the same data, copied by htauthz migrate"
        [ "$name" = azs-crowd ] && db=$fx/azs_crowd.db \
            label="(5) on a copy of its database, for the crowd and churn runs"
        [ "$name" = azs-sha-nocache ] && db=$fx/azs_sha.db \
            label="(6) mod_authz_status, {SHA}, AuthzStatusCache Off"
        [ "$name" = azs-blocked ] && db=$fx/azs_blocked.db \
            label="(8) mod_authz_status, client on the blocklist"
        local export=
        [ "$name" = azs-export ] && export="    AuthzStatusExport On" \
            label="(13) (5) with AuthzStatusExport On"
        # BENCH_T13_HEADERS=1: and the roles in a request header too
        [ "$name" = azs-export ] && [ "${BENCH_T13_HEADERS:-0}" = 1 ] \
            && export="$export
    RequestHeader unset X-Roles
    RequestHeader set X-Roles \"%{AUTHZ_STATUS_ROLES}e\" env=AUTHZ_STATUS_ROLES" \
            label="(13) (5) with AuthzStatusExport On and the roles in a request header"
        local throttle=
        [ "$name" = azs-throttle ] && throttle="AuthzStatusThrottle 20/1m 15m
$([ "${BENCH_T10_REMOTEIP:-1}" = 1 ] && printf '%s\n' "LoadModule remoteip_module $MODDIR/mod_remoteip.so" "RemoteIPHeader X-Forwarded-For" "RemoteIPInternalProxy 127.0.0.1")" \
            label="(10) (5) with AuthzStatusThrottle on, the client not throttled"
        [ "$name" = azs-throttled ] && throttle="AuthzStatusThrottle 1/1h 1h" \
            label="(11) (5) with the client throttled (one wrong password): every answer 429"
        cat <<EOF
# $label
LoadModule authz_status_module $MODULE
$([ "$name" = azs-sha-nocache ] && echo "AuthzStatusCache Off")
$([ -n "$throttle" ] && printf 'LoadModule socache_shmcb_module %s/mod_socache_shmcb.so\n%s\n' "$MODDIR" "$throttle")
$([ "${BENCH_T13_HEADERS:-0}" = 1 ] && [ -n "$export" ] && printf 'LoadModule headers_module %s/mod_headers.so\n' "$MODDIR")
<Location "/p/">
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider authz_status
    AuthzStatusDatabase "$db"
    AuthzStatusBlocklist On
    Require permission $FX_PERM
$export
</Location>
EOF
        ;;
    azs-bearer)
        cat <<EOF
# (7) mod_authz_status, AuthType Bearer
LoadModule authz_status_module $MODULE
<Location "/p/">
    AuthType Bearer
    AuthName "bench"
    AuthzStatusDatabase "$fx/azs_bcrypt.db"
    AuthzStatusBlocklist On
    Require permission $FX_PERM
</Location>
EOF
        ;;
    *) echo "unknown configuration $name" >&2; return 1 ;;
    esac
}

# start_server KEY NAME FIXTURE_DIR: a new httpd; sets PORT_<KEY>, ROOT_<KEY>.
start_server() {
    local key=$1 name=$2 fx=$3 root port i
    root=$RUNDIR/$key
    port=$(free_port)
    mkdir -p "$root/htdocs/p" "$root/logs"
    # The same 100-byte static file everywhere.
    printf '%099d\n' 0 > "$root/htdocs/p/file.txt"
    {
        azs_conf_server "$root" "$port"
        cat <<EOF
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
$(builtin_or_load unixd)
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
$([ -n "$RUN_USER" ] && printf 'User %s\nGroup %s\n' "$RUN_USER" "$RUN_GROUP")
DocumentRoot "$root/htdocs"
<Directory />
    AllowOverride None
</Directory>
StartServers 2
ServerLimit 16
ThreadsPerChild 25
MaxRequestWorkers 400
MinSpareThreads 25
MaxSpareThreads 75
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
Timeout 60
EOF
        conf_for "$name" "$fx"
    } > "$root/httpd.conf"
    PIDFILES+=("$root/httpd.pid")
    if ! "${SRV_PIN[@]}" "$APACHE2" -f "$root/httpd.conf" -k start; then
        echo "httpd $key did not start; its configuration: $root/httpd.conf" >&2
        tail -n 20 "$root/logs/error.log" >&2 || true
        return 1
    fi
    for i in $(seq 1 100); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    printf -v "PORT_$key" '%s' "$port"
    printf -v "ROOT_$key" '%s' "$root"
}

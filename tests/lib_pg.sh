# shellcheck shell=bash
#
# lib_pg.sh - a real PostgreSQL server for a test: made with initdb in a
# temporary directory, listening on a unix socket there only (no TCP),
# run as an unprivileged user (initdb and postgres refuse root), stopped
# by its pid when the test ends.
#
#   . tests/lib_pg.sh
#   pg_need || exit 77          # skip when PostgreSQL is not installed
#   pg_start "$tmpdir/pg"       # sets PG_DIR, PG_SOCK, PG_USER
#   pg_sql DB "SELECT 1"        # psql as the superuser, one value per line
#   pg_url DB [USER]            # a libpq URI for DB over the socket
#   pg_stop                     # also run from the EXIT trap
#
# Authentication is "trust" on the socket, whose directory only the
# server's user and root can enter: enough for a test, never for a site
# (the README's fleet section says what a site needs).

PG_BIN=${PG_BIN:-}
PG_DIR=
PG_SOCK=
PG_USER=${PG_USER:-}
PG_PORT=5432

# Finds the server binaries and an unprivileged user to run them; 1 when
# there is none (the caller skips).
pg_need() {
    local d
    if [ -z "$PG_BIN" ]; then
        for d in /usr/lib/postgresql/*/bin; do
            [ -x "$d/initdb" ] && PG_BIN=$d
        done
    fi
    [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || return 1
    command -v psql >/dev/null || return 1
    if [ -z "$PG_USER" ]; then
        if [ "$(id -u)" = 0 ]; then
            id postgres >/dev/null 2>&1 && PG_USER=postgres || return 1
        else
            PG_USER=$(id -un)
        fi
    fi
    return 0
}

# Runs a command as the server's user.
_pg_as() {
    if [ "$(id -u)" = 0 ] && [ "$PG_USER" != root ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    PG_DIR=$1
    PG_SOCK=$PG_DIR/sock
    mkdir -p "$PG_DIR/data" "$PG_SOCK"
    [ "$(id -u)" != 0 ] || chown -R "$PG_USER" "$PG_DIR"
    # httpd's children (www-data) reach the socket: the directory may be
    # walked through, the data directory stays the server's alone.
    chmod 711 "$PG_DIR"
    chmod 755 "$PG_SOCK"
    chmod 700 "$PG_DIR/data"
    _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
        -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || {
        cat "$PG_DIR/initdb.log" >&2
        return 1
    }
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -t 30 -o "-c listen_addresses='' -k $PG_SOCK -p $PG_PORT \
        -c fsync=off -c max_connections=${PG_MAX_CONN:-200}" start \
        >/dev/null || {
        cat "$PG_DIR/server.log" >&2
        return 1
    }
    [ -n "${PG_NO_TRAP:-}" ] || trap 'pg_stop' EXIT
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    pg_dir_stop "$PG_DIR/data"
}

# pg_dir_stop DATADIR - stops the server of DATADIR, if one runs: the pid in
# its postmaster.pid is signalled only while it is that server (a server
# killed earlier leaves its pid file behind, and the pid may be another
# process's by now).
pg_dir_stop() {
    local pid
    [ -f "$1/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$1/postmaster.pid")
    case $pid in ''|*[!0-9]*) return 0 ;; esac
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- " $1 " \
        || return 0
    _pg_as "$PG_BIN/pg_ctl" -D "$1" -m immediate -w -t 10 stop \
        >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null
}

# pg_sql DB SQL - the result, unaligned, one row per line, no header.
pg_sql() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
        -U postgres -d "$1" -c "$2"
}

# pg_url DB [USER] - a libpq URI reaching DB through the socket.
pg_url() {
    printf 'postgresql://%s@/%s?host=%s&port=%s\n' "${2:-postgres}" "$1" \
        "$PG_SOCK" "$PG_PORT"
}

# shellcheck shell=bash
#
# lib_authz.sh - helpers shared by the authorization cases (cases/authz_*.sh).
# Sourced after lib.sh:
#
#     . "$(dirname "$0")/../lib.sh"
#     . "$(dirname "$0")/../lib_authz.sh"
#
# Users get their password from the PW associative array (authz_user_add
# fills it), so a case can say `authz_req bob /admin/` and
# `authz_expect_cell bob /admin/ 403`.

declare -gA PW=()

# authz_user_add NAME [ROLE...] - a user with a generated password and the
# given roles (which must exist).
authz_user_add() {
    local name=$1
    shift
    PW[$name]="Pw-${name}-zq7"
    azs_user_add "$name" "${PW[$name]}"
    if [ $# -gt 0 ]; then
        azs_htauthz user grant "$name" "$@" >/dev/null \
            || _azs_die "htauthz user grant $name $* failed"
    fi
}

# authz_areas [--sub] NAME... - a directory per NAME in the document root
# whose index.html says "NAME area"; with --sub, a subdirectory NAME/sub
# too, whose index.html says "NAME sub".
authz_areas() {
    local sub='' d
    if [ "${1:-}" = --sub ]; then
        sub=1
        shift
    fi
    for d in "$@"; do
        mkdir -p "$AZS_DOCROOT/$d"
        printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
        if [ -n "$sub" ]; then
            mkdir -p "$AZS_DOCROOT/$d/sub"
            printf '%s sub\n' "$d" > "$AZS_DOCROOT/$d/sub/index.html"
        fi
    done
}

# authz_roles ROLE... - create roles.
authz_roles() {
    local r
    for r in "$@"; do
        azs_htauthz role add "$r" >/dev/null \
            || _azs_die "htauthz role add $r failed"
    done
}

# authz_do DESC HTAUTHZ-ARGS... - run htauthz on the case's database and
# record whether it succeeded (a change the next request must see).
authz_do() {
    local desc=$1 out rc
    shift
    out=$(azs_htauthz "$@" 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then
        _azs_ok "$desc"
    else
        _azs_not_ok "$desc" "htauthz $* exited $rc: $out"
    fi
}

# authz_req USER PATH [curl options...] - one request as USER (password
# from PW; "-" sends no credentials).
authz_req() {
    local user=$1 path=$2
    shift 2
    if [ "$user" = - ]; then
        http_req "$@" "$path"
    else
        http_req -u "$user:${PW[$user]:-no-such-password}" "$@" "$path"
    fi
}

# authz_expect_forbidden DESC - the last answer is 403 without a challenge.
authz_expect_forbidden() {
    expect_status 403 "$1 -> 403"
    expect_no_header WWW-Authenticate "$1 -> no WWW-Authenticate"
}

# authz_expect_challenge REALM DESC - the last answer is 401 with a Basic
# challenge for REALM.
authz_expect_challenge() {
    expect_status 401 "$2 -> 401"
    expect_header WWW-Authenticate "^Basic realm=\"$1\"\$" \
        "$2 -> Basic challenge"
}

# authz_expect_cell USER PATH CODE [DESC] - request PATH as USER and check
# the status; a 403 must carry no challenge, a 200 must leave no missing-*
# line (a Require that said no but was overruled is not a denial).
authz_expect_cell() {
    local user=$1 path=$2 code=$3 desc=${4:-"$1 on $2"}
    authz_req "$user" "$path"
    expect_status "$code" "$desc -> $code"
    case $code in
        403) expect_no_header WWW-Authenticate "$desc -> no challenge" ;;
        200) expect_no_log 'AZS[0-9]{4}: [0-9]+ missing-(role|permission)' \
                 "$desc -> no missing-* line" ;;
    esac
}

# authz_warm N USER PATH - N requests ("-": without credentials), a new
# connection each, so that several children and threads have the user's
# decision (and a database handle) warm before a change is made.
authz_warm() {
    local n=$1 user=$2 path=$3 cred=()
    [ "$user" = - ] || cred=(-u "$user:${PW[$user]:-no-such-password}")
    for _ in $(seq 1 "$n"); do
        curl -s -o /dev/null --max-time "$AZS_CURL_TIMEOUT" \
            "${cred[@]}" "$AZS_URL$path"
    done
}

# authz_htpasswd FILE USER PASSWORD - add USER to an htpasswd file (bcrypt),
# creating it; readable by httpd's children.
authz_htpasswd() {
    local f=$1
    if [ -e "$f" ]; then
        htpasswd -bB "$f" "$2" "$3" 2>/dev/null
    else
        htpasswd -cbB "$f" "$2" "$3" 2>/dev/null
    fi || _azs_die "htpasswd failed for $2"
    chmod 644 "$f"
}

# ---- many requests at once ------------------------------------------------------
#
# authz_batch - read "USER PATH" lines on stdin ("-": no credentials) and
# send them in order, each on a new connection, from one python3 process
# (cheaper than a curl per request when a case sends dozens).  Sets, by
# index: B_USER, B_PATH, B_STATUS (000 on a transport error), B_CHAL (1 if
# a WWW-Authenticate header came back) and B_BODY (the body's first line).
authz_batch() {
    local out i=0 u pwargs=()
    # shellcheck disable=SC2034  # results, read by the cases
    B_USER=() B_PATH=() B_STATUS=() B_CHAL=() B_BODY=()
    [ -n "$AZS_PYTHON" ] || _azs_die "authz_batch needs python3"
    for u in "${!PW[@]}"; do
        pwargs+=("$u=${PW[$u]}")
    done
    out=$("$AZS_PYTHON" -c '
import base64, http.client, sys
port, timeout = int(sys.argv[1]), float(sys.argv[2])
pw = dict(a.split("=", 1) for a in sys.argv[3:])
for line in sys.stdin:
    if not line.strip():
        continue
    user, path = line.split()[:2]
    h = {}
    if user != "-":
        cred = "%s:%s" % (user, pw.get(user, "no-such-password"))
        h["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path, headers=h)
        r = c.getresponse()
        body = r.read().decode("latin-1").split("\n")[0].strip()
        chal = 1 if r.getheader("WWW-Authenticate") else 0
        c.close()
        print(user, path, r.status, chal, body.replace(" ", "_") or "-")
    except Exception as e:
        print(user, path, "000", 0, "-")
    sys.stdout.flush()
' "$AZS_PORT" "$AZS_CURL_TIMEOUT" "${pwargs[@]}")
    while read -r "B_USER[i]" "B_PATH[i]" "B_STATUS[i]" "B_CHAL[i]" "B_BODY[i]"; do
        i=$((i + 1))
    done <<<"$out"
    [ -n "${B_USER[i]:-}" ] || unset "B_USER[i]" "B_PATH[i]" "B_STATUS[i]" \
        "B_CHAL[i]" "B_BODY[i]"
}

# authz_log_lines MARK N - wait (up to AZS_LOG_WAIT seconds) until at least
# N module lines (AZSnnnn) were logged since MARK, plus a short grace for
# lines that should not be there; then index them: LOG_N["user|uri"] is how
# many module lines name that user and URI ("-" when no user is named),
# LOG_TEXT["user|uri"] their text; LOG_AREA_N and LOG_AREA_TEXT the same by
# the URI's first segment ("user|/any/" also counts "/any/index.html", the
# URI after mod_dir's internal redirect).
authz_log_lines() {
    local mark=$1 want=$2 text line key area n re seg
    declare -gA LOG_N=() LOG_TEXT=() LOG_AREA_N=() LOG_AREA_TEXT=()
    for _ in $(seq 1 $((AZS_LOG_WAIT * 20))); do
        n=$(log_since "$mark" | grep -c 'AZS[0-9][0-9][0-9][0-9]:')
        [ "$n" -ge "$want" ] && break
        sleep 0.05
    done
    sleep 0.2
    text=$(log_since "$mark")
    re='AZS[0-9]{4}: [0-9]+ [a-z-]+: (user "([^"]*)" )?for "([^"]*)"'
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        key="${BASH_REMATCH[2]:--}|${BASH_REMATCH[3]}"
        seg=${BASH_REMATCH[3]#/}
        area="${BASH_REMATCH[2]:--}|/${seg%%/*}/"
        LOG_N[$key]=$(( ${LOG_N[$key]:-0} + 1 ))
        LOG_TEXT[$key]+="$line"$'\n'
        LOG_AREA_N[$area]=$(( ${LOG_AREA_N[$area]:-0} + 1 ))
        LOG_AREA_TEXT[$area]+="$line"$'\n'
    done <<<"$text"
}

# ---- database-fault fixture (authz_db_fault.sh, authz_db_inplace.sh) --------
#
# authz_fault_setup writes the database (alice: admin, holding adm:do; bob:
# no role; both also in an htpasswd file), the configuration and a
# consistent copy of the database in $AUTHZ_GOOD:
#   /fileauth  AuthBasicProvider file + Require role admin
#   /fileperm  AuthBasicProvider file + Require permission adm:do
#              (only the Require provider reads the database)
#   /admin     AuthBasicProvider authz_status + Require role admin
#   /open      AuthzStatusBlocklist On, no authentication

authz_fault_setup() {
    local d
    command -v htpasswd >/dev/null 2>&1 \
        || { echo "# SKIP: no htpasswd"; exit 77; }
    [ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"
    for d in fileauth fileperm open; do
        mkdir -p "$AZS_DOCROOT/$d"
        printf '%s area\n' "$d" > "$AZS_DOCROOT/$d/index.html"
    done
    azs_db_init
    authz_roles admin
    azs_htauthz role grant admin adm:do >/dev/null || _azs_die "role grant"
    authz_user_add alice admin
    authz_user_add bob
    AUTHZ_HTPASSWD=$AZS_CONF_DIR/htpasswd
    authz_htpasswd "$AUTHZ_HTPASSWD" alice "${PW[alice]}"
    authz_htpasswd "$AUTHZ_HTPASSWD" bob "${PW[bob]}"
    {
        azs_loc_file /fileauth File "$AUTHZ_HTPASSWD" 'role admin'
        azs_loc_file /fileperm File "$AUTHZ_HTPASSWD" 'permission adm:do'
        azs_loc_admin
    } | azs_conf
    azs_conf <<CONF
<Location "/open">
    AuthzStatusBlocklist On
    Require all granted
</Location>
CONF
    azs_allow_log 'AZS[0-9]{4}: 500 db-error'
    azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "bob" for "/fileauth/"'
    AUTHZ_GOOD=$AZS_ROOT/good.db
    authz_db_copy "$AZS_DB" "$AUTHZ_GOOD"
}

# authz_db_copy SRC DST - a consistent, self-contained copy (SQLite backup).
authz_db_copy() {
    "$AZS_PYTHON" - "$1" "$2" <<'PY' || _azs_die "cannot copy $1"
import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.close(); src.close()
PY
    chmod 644 "$2"
}

# authz_db_install FILE [OWNER] - put FILE in place of the database by
# rename (a new inode), as an administrator restoring a backup would; stale
# -wal/-shm files go first.
authz_db_install() {
    local tmp=$AZS_DB_DIR/.new.db
    cp "$1" "$tmp"
    chmod 644 "$tmp"
    [ -n "$AZS_RUN_USER" ] && chown "${2:-$AZS_RUN_USER:$AZS_RUN_GROUP}" "$tmp"
    rm -f "$AZS_DB-wal" "$AZS_DB-shm"
    mv -f "$tmp" "$AZS_DB"
}

# authz_db_checkpoint - move the WAL's pages into the main file, so that
# damage done to the main file in place is not papered over by the WAL.
authz_db_checkpoint() {
    "$AZS_PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()' \
        "$1"
    azs_db_fixperms
}

# authz_fault_healthy DESC - every path answers as usual.
authz_fault_healthy() {
    authz_req alice /fileauth/
    expect_status 200 "$1: alice on /fileauth/ -> 200"
    authz_req alice /fileperm/
    expect_status 200 "$1: alice on /fileperm/ -> 200"
    authz_req alice /admin/
    expect_status 200 "$1: alice on /admin/ -> 200"
    authz_req bob /fileauth/
    authz_expect_forbidden "$1: bob on /fileauth/"
    authz_req - /open/
    expect_status 200 "$1: /open/ -> 200"
}

# authz_fault_warm [N] - requests on new connections (N to /fileauth/, 8 by
# default, fewer elsewhere), so that threads of every child hold an open
# handle (and SQLite's page cache) on the database before it is damaged.
authz_fault_warm() {
    local n=${1:-8}
    authz_warm "$n" alice /fileauth/
    authz_warm $(( (n + 1) / 2 )) bob /fileauth/
    authz_warm $(( (n + 1) / 2 )) alice /fileperm/
    authz_warm $(( (n + 1) / 2 )) alice /admin/
    authz_warm $(( (n + 1) / 2 )) - /open/
}

# authz_expect_fault DESC USER PASSWORD PATH - one request that must fail
# closed: exactly 500, no challenge, a db-error line naming the user and the
# path.  Paced: the module rate-limits db-error lines to a few a second per
# process.  USER "-": no credentials.
authz_expect_fault() {
    local desc=$1 user=$2 pw=$3 path=$4 who=''
    sleep 0.2
    if [ "$user" = - ]; then
        http_req "$path"
    else
        http_req -u "$user:$pw" "$path"
        who="user \"$user\" "
    fi
    expect_status 500 "$desc: $user on $path -> 500"
    expect_no_header WWW-Authenticate "$desc: $user on $path -> no challenge"
    if [ "$HTTP_STATUS" = 500 ]; then
        expect_log "AZS[0-9]{4}: 500 db-error: ${who}for \"$path\"" \
            "$desc: $user on $path -> db-error line"
    else   # already failed; do not wait for a line that cannot come
        _azs_not_ok "$desc: $user on $path -> db-error line" \
            "not looked for: the answer was $HTTP_STATUS"
    fi
}

# authz_expect_faults DESC - the whole set: the Require provider (role and
# permission, a user with and without the role), authentication (right and
# wrong password) and the blocklist.
authz_expect_faults() {
    authz_expect_fault "$1" alice "${PW[alice]}" /fileauth/
    authz_expect_fault "$1" bob "${PW[bob]}" /fileauth/
    authz_expect_fault "$1" alice "${PW[alice]}" /fileperm/
    authz_expect_fault "$1" alice "${PW[alice]}" /admin/
    authz_expect_fault "$1" alice "wrong-${PW[alice]}" /admin/
    authz_expect_fault "$1" - - /open/
}

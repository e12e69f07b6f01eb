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
# connection each, so that several
# children/threads have the user's decision (and database handle) warm
# before a change is made.
authz_warm() {
    local n=$1 user=$2 path=$3 i cred=()
    [ "$user" = - ] || cred=(-u "$user:${PW[$user]:-no-such-password}")
    for i in $(seq 1 "$n"); do
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

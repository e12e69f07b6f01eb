# shellcheck shell=bash
#
# lib_http.sh - the requests, error-log and assertion helpers of the
# integration harness: http_req, http_raw, log_mark, log_since and the
# expect_* checks.  lib.sh sources this file (it needs lib.sh's per-case
# state: AZS_URL, AZS_PORT, AZS_RESP_DIR, AZS_ERROR_LOG, AZS_PYTHON, ...,
# and lib_tap.sh); cases never source it themselves.

# ---- requests ----------------------------------------------------------------

# http_req [curl options...] PATH
# Sends one request to this case's httpd.  Sets HTTP_STATUS (000 when curl
# failed), HTTP_TIME (seconds), HTTP_HDR and HTTP_BODY (files), HTTP_DESC,
# and AZS_REQ_MARK (the error-log offset before the request, used by
# expect_log by default).
# PATH is appended to the server's URL unless it starts with http.
http_req() {
    local n=$# path=${!#} url
    local args=("${@:1:n-1}")
    AZS_REQ_N=$((AZS_REQ_N + 1))
    HTTP_HDR=$AZS_RESP_DIR/$AZS_REQ_N.hdr
    HTTP_BODY=$AZS_RESP_DIR/$AZS_REQ_N.body
    case $path in
        http*) url=$path ;;
        *) url=$AZS_URL$path ;;
    esac
    HTTP_DESC="curl ${args[*]} $url"
    AZS_REQ_MARK=$(_azs_settled_mark)
    local out
    out=$(curl -s -S -g --path-as-is --max-time "$AZS_CURL_TIMEOUT" \
          -o "$HTTP_BODY" -D "$HTTP_HDR" -w '%{http_code} %{time_total}' \
          "${args[@]}" "$url" 2>"$AZS_RESP_DIR/$AZS_REQ_N.err")
    HTTP_CURL_RC=$?
    HTTP_STATUS=${out%% *}
    HTTP_TIME=${out##* }
    [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
    [ -e "$HTTP_HDR" ] || : > "$HTTP_HDR"
    [ -e "$HTTP_BODY" ] || : > "$HTTP_BODY"
    return 0
}

# http_raw REQUEST
# Sends REQUEST (printf %b escapes: \r \n \t \0 \xHH) as raw bytes over one
# connection and reads the answer; for what curl will not send (control
# characters, NUL, duplicate or malformed headers).  End the request with
# "Connection: close\r\n\r\n".  Sets the same variables as http_req.
http_raw() {
    local req
    AZS_REQ_N=$((AZS_REQ_N + 1))
    HTTP_HDR=$AZS_RESP_DIR/$AZS_REQ_N.hdr
    HTTP_BODY=$AZS_RESP_DIR/$AZS_REQ_N.body
    req=$AZS_RESP_DIR/$AZS_REQ_N.req
    printf '%b' "$1" > "$req"
    HTTP_TIME=
    HTTP_DESC="raw request: $(head -n 1 "$req" | tr -d '\r')"
    AZS_REQ_MARK=$(_azs_settled_mark)
    [ -n "$AZS_PYTHON" ] || _azs_die "http_raw needs python3"
    HTTP_STATUS=$("$AZS_PYTHON" - "$AZS_PORT" "$req" "$HTTP_HDR" "$HTTP_BODY" \
                  "$AZS_CURL_TIMEOUT" <<'EOF'
import socket, sys
port, req, hdr, body, timeout = sys.argv[1:6]
data = b""
try:
    s = socket.create_connection(("127.0.0.1", int(port)), float(timeout))
    s.settimeout(float(timeout))
    s.sendall(open(req, "rb").read())
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
head, _, rest = data.partition(b"\r\n\r\n")
open(hdr, "wb").write(head + b"\r\n" if head else b"")
open(body, "wb").write(rest)
parts = head.split(b" ", 2)
code = parts[1].decode("ascii", "replace") if len(parts) > 1 else "000"
print(code if code.isdigit() else "000")
EOF
)
    HTTP_CURL_RC=$?
    [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
    return 0
}

# ---- the error log -------------------------------------------------------------

# Print the current size of the error log (a mark for log_since/expect_log).
log_mark() {
    stat -c %s "$AZS_ERROR_LOG" 2>/dev/null || echo 0
}

# The mark before a request.  A decision line is written when its request
# ends (log_transaction), which under event can be just after the client
# has its answer: after an error answer, wait (up to 1 s) until the log
# has not grown for 30 ms, so the last request's line lands before the
# mark, not after it.
_azs_settled_mark() {
    local m n i
    m=$(log_mark)
    case ${HTTP_STATUS:-200} in
        [45]??)
            for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
                     21 22 23 24 25 26 27 28 29 30 31 32 33; do
                sleep 0.03
                n=$(log_mark)
                [ "$n" = "$m" ] && break
                m=$n
            done
            ;;
    esac
    echo "$m"
}

# Print the error log from MARK (default: before the last request) on.
log_since() {
    tail -c +"$(( ${1:-$AZS_REQ_MARK} + 1 ))" "$AZS_ERROR_LOG" 2>/dev/null
}

# ---- results -------------------------------------------------------------------

# Every result goes through lib_tap.sh, numbered on from the cases run
# before (AZS_RESULTS) and prefixed with CASE[MPM].
_azs_ok()     { tap_ok "$@"; }          # DESC
_azs_not_ok() { tap_not_ok "$@"; }      # DESC DETAIL...

_azs_req_details() {
    printf 'request: %s\n' "$HTTP_DESC"
    printf 'status: %s after %ss' "$HTTP_STATUS" "${HTTP_TIME:-?}"
    [ "${HTTP_CURL_RC:-0}" = 0 ] || printf ' (client error %s: %s)' \
        "$HTTP_CURL_RC" "$(cat "$AZS_RESP_DIR/$AZS_REQ_N.err" 2>/dev/null)"
    printf '\n--- response headers\n'
    tr -d '\r' < "$HTTP_HDR"
    printf -- '--- body (first lines)\n'
    head -c 400 "$HTTP_BODY" | head -n 6
    printf -- '--- error log since the request\n'
    log_since | tail -n 10
}

# Pass or fail on any command: expect_true DESC CMD [ARGS...]
expect_true() { tap_check "$@"; }

# expect_status CODE DESC - status of the last request
expect_status() {
    if [ "$HTTP_STATUS" = "$1" ]; then
        _azs_ok "$2"
    else
        _azs_not_ok "$2" "expected status $1, got $HTTP_STATUS" \
            "$(_azs_req_details)"
    fi
}

_azs_header_values() {   # name [hdrfile] -> the values, one a line
    tr -d '\r' < "${2:-$HTTP_HDR}" | grep -i "^$1:" \
        | sed 's/^[^:]*:[[:space:]]*//'
}

# expect_header NAME REGEX DESC - some NAME header of the last response
# matches REGEX
expect_header() {
    if _azs_header_values "$1" | grep -Eq -- "$2"; then
        _azs_ok "$3"
    else
        _azs_not_ok "$3" "expected a header $1 matching: $2" \
            "$(_azs_req_details)"
    fi
}

# expect_no_header NAME DESC
expect_no_header() {
    if tr -d '\r' < "$HTTP_HDR" | grep -qi "^$1:"; then
        _azs_not_ok "$2" "unexpected header $1" "$(_azs_req_details)"
    else
        _azs_ok "$2"
    fi
}

# expect_body REGEX DESC - the body of the last response matches
expect_body() {
    if grep -Eq -- "$1" "$HTTP_BODY"; then
        _azs_ok "$2"
    else
        _azs_not_ok "$2" "expected the body to match: $1" \
            "$(_azs_req_details)"
    fi
}

# expect_same_body FILE1 FILE2 DESC - two responses' bodies are identical
expect_same_body() {
    if cmp -s "$1" "$2"; then
        _azs_ok "$3"
    else
        _azs_not_ok "$3" "bodies differ: $1 $2" \
            "$(diff <(cat -v "$1") <(cat -v "$2") | head -n 20)"
    fi
}

# expect_same_headers HDR1 HDR2 DESC - same status line and headers, Date
# aside
expect_same_headers() {
    local a b
    a=$(tr -d '\r' < "$1" | grep -vi '^date:')
    b=$(tr -d '\r' < "$2" | grep -vi '^date:')
    if [ "$a" = "$b" ]; then
        _azs_ok "$3"
    else
        _azs_not_ok "$3" "headers differ:" \
            "$(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b"))"
    fi
}

# expect_log REGEX DESC [MARK] - a line since MARK (default: before the last
# request) matches; waits up to AZS_LOG_WAIT seconds for it.
expect_log() {
    local mark=${3:-$AZS_REQ_MARK}
    for _ in $(seq 1 $((AZS_LOG_WAIT * 20))); do
        if log_since "$mark" | grep -Eq -- "$1"; then
            _azs_ok "$2"
            return 0
        fi
        sleep 0.05
    done
    _azs_not_ok "$2" "no error-log line matches: $1" \
        "--- error log since the mark" "$(log_since "$mark" | tail -n 15)"
}

# expect_no_log REGEX DESC [MARK] - no line since MARK matches (MARK 0: the
# whole log)
expect_no_log() {
    local mark=${3:-$AZS_REQ_MARK} hits
    hits=$(log_since "$mark" | grep -E -- "$1")
    if [ -z "$hits" ]; then
        _azs_ok "$2"
    else
        _azs_not_ok "$2" "unexpected error-log lines matching: $1" "$hits"
    fi
}

# expect_log_count N REGEX DESC [MARK] - exactly N lines since MARK match
expect_log_count() {
    local mark=${4:-$AZS_REQ_MARK} got
    for _ in $(seq 1 $((AZS_LOG_WAIT * 20))); do
        got=$(log_since "$mark" | grep -Ec -- "$2")
        [ "$got" -ge "$1" ] && break
        sleep 0.05
    done
    if [ "$got" = "$1" ]; then
        _azs_ok "$3"
    else
        _azs_not_ok "$3" "expected $1 error-log line(s) matching: $2; got $got" \
            "$(log_since "$mark" | tail -n 15)"
    fi
}

# expect_no_secret DESC STRING... - none of the strings (fixed text) is in
# the error log or the access log, whole.  Also tries each one's base64.
expect_no_secret() {
    local desc=$1 s pats=()
    shift
    azs_secret "$@"
    for s in "$@"; do
        pats+=(-e "$s" -e "$(printf '%s' "$s" | base64 -w 0)")
    done
    local hits
    hits=$(grep -F -h "${pats[@]}" "$AZS_ERROR_LOG" "$AZS_ACCESS_LOG" \
           2>/dev/null)
    if [ -z "$hits" ]; then
        _azs_ok "$desc"
    else
        _azs_not_ok "$desc" "secret found in the logs:" "$hits"
    fi
}

#!/bin/bash
# Keep-alive (doc/log-messages.md): one TCP connection whose requests
# switch credentials - alice 200, bob 403, a wrong password 401, alice 200
# again, and more - each answered for its own credentials, with nothing
# carried over from the previous request on the connection (user, roles,
# decision).  Once with requests sent one after the other, once pipelined
# (all written before any answer is read).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"

mkdir -p "$AZS_DOCROOT/staff"
printf 'staff area\n' > "$AZS_DOCROOT/staff/index.html"

azs_db_init
authz_roles admin staff boss
azs_htauthz role inherit boss admin >/dev/null || _azs_die "role inherit"
authz_user_add alice admin
authz_user_add bob staff
authz_user_add carol boss

azs_conf <<'EOF'
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 10
EOF
{ azs_loc_admin; azs_loc_basic /staff Staff 'role staff'; } | azs_conf
azs_allow_log 'AZS[0-9]{4}: 403 missing-role: user "(alice|bob|carol)" for "/(admin|staff)/"'
azs_allow_log 'AZS[0-9]{4}: 401 (bad-password|unknown-user): user "(alice|bob|mallory)" for "/admin/"'

azs_start || azs_bail "httpd starts"

# The steps: user password path expected-status.  "-" = no credentials.
steps=(
    "alice ${PW[alice]} /admin/ 200"
    "bob ${PW[bob]} /admin/ 403"
    "alice wrong-${PW[alice]} /admin/ 401"
    "alice ${PW[alice]} /admin/ 200"
    "- - /admin/ 401"
    "bob ${PW[bob]} /admin/ 403"
    "mallory ${PW[bob]} /admin/ 401"
    "carol ${PW[carol]} /admin/ 200"
    "bob ${PW[bob]} /staff/ 200"
    "alice ${PW[alice]} /staff/ 403"
    "bob ${PW[bob]} /admin/ 403"
    "alice ${PW[alice]} /admin/ 200"
)
stepfile=$AZS_ROOT/steps
printf '%s\n' "${steps[@]}" > "$stepfile"

# Prints one line per answer: "status local-port challenge(0/1) user-page",
# then "connections N" (how many TCP connections were used).
keepalive_client() {   # mode: sequential | pipelined
    "$AZS_PYTHON" - "$1" "$AZS_PORT" "$stepfile" "$AZS_CURL_TIMEOUT" <<'PY'
import base64, http.client, socket, sys
mode, port, stepfile, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
steps = [l.split() for l in open(stepfile) if l.strip()]

def auth(user, pw):
    if user == "-":
        return {}
    tok = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    return {"Authorization": "Basic " + tok}

if mode == "sequential":
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    ports = set()
    for user, pw, path, _ in steps:
        conn.request("GET", path, headers=auth(user, pw))
        if conn.sock is None:
            print("error no socket"); sys.exit(1)
        lport = conn.sock.getsockname()[1]
        ports.add(lport)
        r = conn.getresponse()
        body = r.read()
        chal = 1 if r.getheader("WWW-Authenticate") else 0
        page = body.decode("latin-1").strip().replace(" ", "_")[:20] if r.status == 200 else "-"
        print(r.status, lport, chal, page)
    print("connections", len(ports))
else:
    s = socket.create_connection(("127.0.0.1", port), timeout)
    lport = s.getsockname()[1]
    req = b""
    for i, (user, pw, path, _) in enumerate(steps):
        h = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
        for k, v in auth(user, pw).items():
            h += "%s: %s\r\n" % (k, v)
        if i == len(steps) - 1:
            h += "Connection: close\r\n"
        req += (h + "\r\n").encode()
    s.sendall(req)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    n = 0
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            ln = int(hdrs["content-length"])
            body, data = rest[:ln], rest[ln:]
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    _, _, rest = rest.partition(b"\r\n")
                    break
                body += rest[:size]
                rest = rest[size + 2:]
            data = rest
        else:
            body, data = rest, b""
        chal = 1 if "www-authenticate" in hdrs else 0
        page = body.decode("latin-1").strip().replace(" ", "_")[:20] if status == 200 else "-"
        print(status, lport, chal, page)
        n += 1
    print("connections", 1)
PY
}

for mode in sequential pipelined; do
    mark=$(log_mark)
    out=$(keepalive_client "$mode" 2>&1)
    mapfile -t got <<<"$out"
    expect_true "$mode: ${#steps[@]} answers on the connection (got $((${#got[@]} - 1)))" \
        test "${#got[@]}" = "$(( ${#steps[@]} + 1 ))"
    expect_true "$mode: every request went over one TCP connection (${got[-1]})" \
        test "${got[-1]}" = "connections 1"
    first_port=
    for i in "${!steps[@]}"; do
        read -r user _ path want <<<"${steps[$i]}"
        read -r status lport chal page <<<"${got[$i]:-}"
        [ -n "$first_port" ] || first_port=$lport
        desc="$mode #$((i + 1)): $user on $path"
        if [ "$status" = "$want" ]; then
            _azs_ok "$desc -> $want"
        else
            _azs_not_ok "$desc -> $want" "got: ${got[$i]:-nothing}" \
                "all answers:" "$out"
        fi
        expect_true "$desc: same connection (port $lport)" \
            test "$lport" = "$first_port"
        case $want in
            401) expect_true "$desc: 401 carries a challenge" test "$chal" = 1 ;;
            403) expect_true "$desc: 403 carries no challenge" test "$chal" = 0 ;;
            200) expect_true "$desc: the page of $path ($page)" \
                     test "$page" = "${path//\//}_area" ;;
        esac
    done
    # The log tells the requests apart too: one line per denial, each
    # naming the right user.
    expect_log_count 4 'AZS[0-9]{4}: 403 missing-role: user "(bob|alice)"' \
        "$mode: four missing-role lines (bob x3, alice on /staff/)" "$mark"
    expect_log_count 1 'AZS[0-9]{4}: 403 missing-role: user "alice" for "/staff/" \(requires role staff\)' \
        "$mode: alice's 403 on /staff/ is logged as alice's" "$mark"
    expect_log_count 1 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"' \
        "$mode: the wrong password is logged once, as alice's" "$mark"
    expect_log_count 1 'AZS[0-9]{4}: 401 unknown-user: user "mallory" for "/admin/"' \
        "$mode: the unknown user is logged once" "$mark"
    expect_no_log 'missing-role: user "(carol|mallory)"|missing-role: user "alice" for "/admin/"' \
        "$mode: no denial charged to a user who was granted" "$mark"
done

azs_done

#!/bin/bash
# Reliability: propagation of changes (tests/reliability/README.md).  For a
# user disable (revocation), a password change, a token revocation and a grant,
# the login is first served (and cached) on a keep-alive connection and on
# new connections; then htauthz makes the change, and the very first request
# after htauthz exits -- on the same warm keep-alive connection -- must see
# it, and so must the next 10 (new connections and the warm one).  Figure:
# milliseconds from the CLI's exit to that first answer.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

azs_db_admin_api
for u in alice bob carol dan; do
    azs_user_add "$u" "Prop-$u-pw-zq7"
done
hz user grant alice admin
hz user grant bob admin
hz user grant dan api
out=$(azs_htauthz token issue dan --label prop) || _azs_die "token issue failed"
tok=$(printf '%s\n' "$out" | sed -n 1p)
tok_id=$(printf '%s\n' "$out" | sed -n 2p)
[ -n "$tok" ] && [ -n "$tok_id" ] || _azs_die "token issue printed no token"

{ azs_loc_admin; azs_loc_api; } | azs_conf
azs_allow_log 'AZS0103: 401 account-disabled: user "alice" for "/admin/"'
azs_allow_log 'AZS0102: 401 bad-password: user "bob" for "/admin/"'
azs_allow_log 'AZS0203: 401 token-revoked: .*for "/api/x.json"'
azs_allow_log 'AZS0301: 403 missing-role: user "carol" for "/admin/"'
azs_start || azs_bail "httpd starts"

drv=$AZS_ROOT/propagate.py
cat > "$drv" <<'EOF'
import base64, http.client, json, subprocess, sys, time
port, htauthz, db, tok, tok_id = sys.argv[1:6]
port = int(port)

def basic(u, p):
    return "Basic " + base64.b64encode(("%s:%s" % (u, p)).encode()).decode()

warm = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def req(auth, path, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers={"Authorization": auth})
    r = c.getresponse()
    r.read()
    if conn is None:
        c.close()
    return r.status

def scenario(name, auth, path, pre, cmd, post, stdin=None, also=None):
    global warm
    warm.close()
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    pre_bad = 0
    for i in range(8):
        if req(auth, path, warm if i % 2 == 0 else None) != pre:
            pre_bad += 1
    p = subprocess.run([htauthz, "-d", db] + cmd, input=stdin,
                       capture_output=True, text=True)
    t_exit = time.monotonic()
    first = req(auth, path, warm)
    ms = (time.monotonic() - t_exit) * 1000.0
    follow_bad = 0
    for i in range(10):
        if req(auth, path, warm if i % 2 == 0 else None) != post:
            follow_bad += 1
    res = {"name": name, "cli_rc": p.returncode, "cli_err": p.stderr.strip(),
           "pre_bad": pre_bad, "first": first, "expected": post,
           "ms": round(ms, 2), "follow_bad": follow_bad}
    if also:
        a_auth, a_post = also
        res["also"] = req(a_auth, path)
        res["also_expected"] = a_post
    print(json.dumps(res), flush=True)

scenario("user disable", basic("alice", "Prop-alice-pw-zq7"), "/admin/",
         200, ["user", "disable", "alice"], 401)
scenario("password change", basic("bob", "Prop-bob-pw-zq7"), "/admin/",
         200, ["user", "passwd", "bob", "--password-stdin"], 401,
         stdin="Prop-bob-new-zq7\n",
         also=(basic("bob", "Prop-bob-new-zq7"), 200))
scenario("token revocation", "Bearer " + tok, "/api/x.json",
         200, ["token", "revoke", tok_id], 401)
scenario("role grant", basic("carol", "Prop-carol-pw-zq7"), "/admin/",
         403, ["user", "grant", "carol", "admin"], 200)
EOF
results=$AZS_ROOT/propagation.jsonl
timeout 60 "$AZS_PYTHON" "$drv" "$AZS_PORT" "$HTAUTHZ" "$AZS_DB" "$tok" \
    "$tok_id" > "$results" 2> "$AZS_ROOT/propagate.err"
expect_true "the driver ran all 4 scenarios" \
    test "$(wc -l < "$results")" = 4
# shellcheck disable=SC2154  # r_* are set by the eval
while IFS= read -r line; do
    eval "$("$AZS_PYTHON" -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for k, v in d.items():
    print("r_%s=%s" % (k.replace(" ", "_"), shlex.quote(str(v))))
' "$line")"
    printf '# propagation[%s]: %s: first request after the CLI exit -> %s (expected %s) %s ms after the exit\n' \
        "$AZS_MPM" "$r_name" "$r_first" "$r_expected" "$r_ms"
    expect_true "$r_name: htauthz succeeded ($r_cli_err)" test "$r_cli_rc" = 0
    expect_true "$r_name: 8 requests before the change all $([ "$r_name" = "role grant" ] && echo 403 || echo 200) ($r_pre_bad not)" \
        test "$r_pre_bad" = 0
    expect_true "$r_name: the very next request sees it ($r_first, ${r_ms} ms after the CLI exit)" \
        test "$r_first" = "$r_expected"
    expect_true "$r_name: the 10 requests after it too ($r_follow_bad not)" \
        test "$r_follow_bad" = 0
    if [ -n "${r_also:-}" ]; then
        expect_true "$r_name: the new password -> $r_also_expected (got $r_also)" \
            test "$r_also" = "$r_also_expected"
    fi
    unset r_also r_also_expected
done < "$results"
[ -s "$AZS_ROOT/propagate.err" ] && sed 's/^/# driver: /' "$AZS_ROOT/propagate.err"
azs_done

#!/bin/bash
# The failure floor under a full hash limit: while every place under
# AuthzStatusHashLimit is taken, a wrong password for a {SHA} user is
# answered as an unknown user is (it waits for a place, or gets 503), not
# at once with 401, which would tell the name exists; the right {SHA}
# password needs no place and gets 200 at once.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || { printf '# SKIP: no python3\n'; exit 77; }
if [ "$AZS_MPM" = prefork ]; then
    printf '# SKIP: needs threads to fill the hash limit from one child\n'
    exit 77
fi

pw='Fl00r-gate-right-pw'
bad='Fl00r-gate-wr0ng-pw'
azs_db_init
htp=$AZS_CONF_DIR/htpasswd
htpasswd -c -b -s "$htp" shauser "$pw" 2>/dev/null \
    || _azs_die "htpasswd failed"
azs_secret "$pw"
azs_htauthz import htpasswd "$htp" >/dev/null \
    || _azs_die "htauthz import htpasswd failed"

azs_conf <<'EOF'
AuthzStatusHashLimit 1
EOF
azs_threaded_child 4
azs_loc_admin valid-user | azs_conf
azs_allow_log 'AZS[0-9]{4}: (401 (unknown-user|bad-password)|503 busy): user "(shauser|flood[0-9_]*|ghost[0-9]*)"'
azs_allow_log '(AH00484|AH00286): server reached MaxRequestWorkers'
azs_start || azs_bail "httpd starts"

out=$AZS_ROOT/gate.txt
"$AZS_PYTHON" - "$AZS_PORT" "$pw" "$bad" > "$out" <<'EOF'
import base64, http.client, sys, threading, time
port, pw, bad = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop = False

def req(user, password):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    c.request("GET", "/admin/", headers={"Authorization": h})
    r = c.getresponse(); r.read(); c.close()
    return r.status

def flood(n):
    i = 0
    while not stop:
        req("flood%d_%d" % (n, i), bad); i += 1

th = [threading.Thread(target=flood, args=(n,)) for n in range(10)]
for t in th: t.start()
time.sleep(0.5)
res = {"unknown": [], "sha_bad": [], "sha_ok": []}
for i in range(15):
    res["unknown"].append(req("ghost%d" % i, bad))
    res["sha_bad"].append(req("shauser", bad))
    res["sha_ok"].append(req("shauser", pw))
stop = True
for t in th: t.join()
for k, v in res.items():
    print(k, sum(1 for s in v if s == 503), sum(1 for s in v if s == 401),
          sum(1 for s in v if s == 200), len(v))
EOF
expect_true "the sampler ran" test -s "$out"
read -r _ u503 u401 _ n < <(grep '^unknown ' "$out")
read -r _ b503 b401 _ _ < <(grep '^sha_bad ' "$out")
read -r _ _ _ o200 _ < <(grep '^sha_ok ' "$out")
printf '# unknown: %s x 503, %s x 401; {SHA} wrong: %s x 503, %s x 401; {SHA} right: %s x 200 (of %s)\n' \
    "$u503" "$u401" "$b503" "$b401" "$o200" "$n"
expect_true "the flood fills the limit: unknown users get 503 ($u503 of $n)" \
    test "${u503:-0}" -ge 5
expect_true "a wrong {SHA} password gets 503 as often, within 5 ($b503 vs $u503)" \
    awk -v a="${b503:-0}" -v b="${u503:-0}" 'BEGIN { d = a - b; d = d < 0 ? -d : d; exit !(d <= 5) }'
expect_true "the right {SHA} password needs no place: always 200 ($o200 of $n)" \
    test "${o200:-0}" = "$n"
azs_done

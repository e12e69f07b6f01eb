#!/bin/bash
# A database touched before every request is opened again by every request
# (its mtime and ctime moved: azs_store_stale).  Each reopen must give back
# all it took: before 2e8625e was fixed, a dropped handle's memory stayed
# with the thread, and a child grew by about 4 KB a reopen (4.3 MB to
# 31 MB over 6,200).  One child, one keep-alive connection, 2,000 reopens
# after 300 to warm up: the child's resident memory may not grow by more
# than 2 MB.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

mkdir -p "$AZS_DOCROOT/app"
printf 'app\n' > "$AZS_DOCROOT/app/index.html"
azs_db_init
azs_user_add alice 'alice-reopen-pw'
azs_single_child
azs_conf <<EOF
KeepAliveTimeout 30
MaxKeepAliveRequests 0
EOF
azs_loc_basic /app App | azs_conf
azs_allow_log 'AZS0602'
azs_start || azs_bail "httpd starts"

child=$(azs_child_pids | head -n 1)
[ -n "$child" ] || azs_bail "no child"

out=$("$AZS_PYTHON" - "$AZS_PORT" "$AZS_DB" "$child" <<'PY'
import base64, http.client, os, sys
port, db, child = int(sys.argv[1]), sys.argv[2], sys.argv[3]
auth = "Basic " + base64.b64encode(b"alice:alice-reopen-pw").decode()
def rss():
    for line in open("/proc/%s/status" % child):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
bad = 0
def get():
    # httpd may close an idle keep-alive connection (event, one thread):
    # one new connection and one retry, the child being the same (checked
    # after the run).
    global conn
    for attempt in (1, 2):
        try:
            conn.request("GET", "/app/", headers={"Authorization": auth})
            r = conn.getresponse(); r.read()
            return r
        except (http.client.HTTPException, ConnectionError):
            if attempt == 2:
                raise
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
def run(n):
    global bad
    for _ in range(n):
        os.utime(db)                     # a new mtime and ctime: reopen
        r = get()
        bad += r.status != 200
run(300)
before = rss()
run(2000)
after = rss()
print(before, after, bad)
PY
) || azs_bail "the driver failed"
read -r before after bad <<<"$out"
printf '# child %s: VmRSS %s KB after 300 reopens, %s KB after 2,300\n' \
    "$child" "$before" "$after"
expect_true "every request during the reopens -> 200 ($bad not)" \
    [ "$bad" = 0 ]
if [ -n "${AZS_SANITIZER:-}" ]; then
    # AddressSanitizer keeps freed memory in quarantine (256 MB): resident
    # size says nothing there; its use-after-free checks are what count.
    printf '# memory bound not checked under the sanitizer\n'
else
    expect_true "2,000 reopens grow the child by less than 2 MB ($((after - before)) KB)" \
        [ $((after - before)) -lt 2048 ]
fi
expect_true "the same child served every request" \
    [ "$(azs_child_pids | head -n 1)" = "$child" ]
azs_done

#!/bin/bash
# httpd in one process (apache2 -X) under valgrind memcheck with the
# module, a few dozen mixed requests (200, 401 wrong password / unknown
# user / disabled, 403, 400 malformed, Bearer 200/401/400/403, database
# missing 500 and back), then a clean stop.  Figure: memcheck errors whose
# stack has a frame in the module (mod_authz_status.so) -- must be 0 -- and
# all errors (httpd's and libraries' own, reported, not failed on).  Leaks
# are not counted (--errors-for-leak-kinds=none): httpd frees its pools at
# exit, not each allocation.
#
#   AZS_MPMS=event tests/integration/run.sh tests/reliability/valgrind.sh

# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
azs_need_module
command -v valgrind >/dev/null || { echo "# SKIP: no valgrind"; exit 77; }
vlog=$AZS_ROOT/valgrind.%p.log
real=$APACHE2
APACHE2=$AZS_ROOT/apache2-valgrind
cat > "$APACHE2" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=9 --errors-for-leak-kinds=none \\
    --leak-check=no --num-callers=30 --track-origins=yes \\
    --log-file="$vlog" "$real" "\$@" -X
EOF
chmod 755 "$APACHE2"
# shellcheck disable=SC2034  # read by lib.sh's azs_start/azs_stop/http_req
AZS_START_TIMEOUT=120 AZS_STOP_TIMEOUT=60 AZS_CURL_TIMEOUT=60

azs_db_admin_api
azs_user_add boss 'Vg-boss-pw-zq7'
azs_user_add pleb 'Vg-pleb-pw-zq7'
azs_user_add off 'Vg-off-pw-zq7' --disabled
hz user grant boss admin api
tok=$(azs_htauthz token issue boss | sed -n 1p)
tok2=$(azs_htauthz token issue pleb | sed -n 1p)
{ azs_loc_admin; azs_loc_api; } | azs_conf
azs_allow_log 'AZS0[0-9]{3}: (400|401|403|500) '
azs_start || azs_bail "httpd starts under valgrind"
n=0 bad=0
r() {   # EXPECTED curl-args... PATH
    local want=$1
    shift
    http_req "$@"
    n=$((n + 1))
    [ "$HTTP_STATUS" = "$want" ] || { bad=$((bad + 1)); printf '# unexpected %s (wanted %s): %s\n' "$HTTP_STATUS" "$want" "$HTTP_DESC"; }
}
for _ in 1 2 3; do
    r 200 -u boss:Vg-boss-pw-zq7 /admin/
    r 403 -u pleb:Vg-pleb-pw-zq7 /admin/
    r 401 -u boss:wrong /admin/
    r 401 -u nobody:x /admin/
    r 401 -u off:Vg-off-pw-zq7 /admin/
    r 401 /admin/
    r 400 -H 'Authorization: Basic !!!' /admin/
    r 400 -H "Authorization: Basic $(printf 'a\001b:c' | base64 -w 0)" /admin/
    r 200 -H "Authorization: Bearer $tok" /api/x.json
    r 403 -H "Authorization: Bearer $tok2" /api/x.json
    r 401 -H "Authorization: Bearer nosuchtoken0123456789abcdef" /api/x.json
    r 400 -H "Authorization: Bearer a b" /api/x.json
    r 200 /
done
mv "$AZS_DB" "$AZS_ROOT/away.db"
r 500 -u boss:Vg-boss-pw-zq7 /admin/
mv "$AZS_ROOT/away.db" "$AZS_DB"
r 200 -u boss:Vg-boss-pw-zq7 /admin/
hz user disable boss
r 401 -u boss:Vg-boss-pw-zq7 /admin/
expect_true "$n requests, all answered as expected ($bad not)" test "$bad" = 0
azs_stop
# Count the error blocks, and those with a module frame.
read -r all mine < <("$AZS_PYTHON" - "$AZS_ROOT" <<'EOF'
import glob, re, sys
all_e = mine = 0
for f in glob.glob(sys.argv[1] + "/valgrind.*.log"):
    blocks, cur = [], []
    for line in open(f, errors="replace"):
        body = re.sub(r"^==\d+== ?", "", line.rstrip("\n"))
        if body == "":
            if cur: blocks.append(cur); cur = []
        else:
            cur.append(body)
    if cur: blocks.append(cur)
    for b in blocks:
        if any(re.match(r"\s*(at|by) 0x", l) for l in b) and not b[0].startswith(("HEAP", "LEAK", "Memcheck", "Copyright", "Using", "Command")):
            all_e += 1
            if any("mod_authz_status" in l or re.search(r"\bazs_", l) for l in b):
                mine += 1
                sys.stderr.write("\n".join(b[:25]) + "\n\n")
print(all_e, mine)
EOF
)
summ=$(grep -h 'ERROR SUMMARY' "$AZS_ROOT"/valgrind.*.log | head -n 1 | sed 's/^==[0-9]*== //')
printf '# valgrind[%s]: %d requests under memcheck: %s error contexts in all, %s with a module frame (%s)\n' \
    "$AZS_MPM" "$n" "$all" "$mine" "$summ"
expect_true "valgrind ran and wrote its summary" test -n "$summ"
expect_true "0 memcheck errors in the module's frames ($mine)" test "$mine" = 0
azs_done

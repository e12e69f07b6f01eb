#!/bin/bash
# Empty lists as JSON, and a 100,000-line import.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

# ---- every stderr line is one line, JSON lists are valid when empty -------

expect 0 "init an empty database" -d "$T/empty.db" init
for what in user role ip token; do
    json_ok "$what list --json on an empty database" -d "$T/empty.db" \
        "$what" list --json
done

# ---- 100,000-line import -------------------------------------------------

h=$(htpasswd -nbB -C 4 u pw | cut -d: -f2)
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("user%06d:%s\n" % (i, sys.argv[2]))' "$T/big" "$h"
expect 0 "init the big database" -d "$T/big.db" init
start=$(date +%s.%N)
run -d "$T/big.db" import htpasswd "$T/big"
end=$(date +%s.%N)
secs=$(python3 -c "print('%.2f' % ($end - $start))")
echo "# import of 100,000 htpasswd lines: $secs s"
check "100,000-line import exit 0" test "$rc" = 0
out_has "100,000 imported" "imported 100000, refused 0"
check "100,000-line import under 10 s ($secs s)" \
    python3 -c "import sys; sys.exit(0 if $secs < 10 else 1)"
check "100,000 users stored" test "$(sqlite3 "$T/big.db" \
    'SELECT count(*) FROM users')" = 100000

tap_finish

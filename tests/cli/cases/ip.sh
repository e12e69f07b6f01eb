#!/bin/bash
# htauthz ip: block, list, unblock.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_must init

# ---- ip --------------------------------------------------------------------

expect 0 "ip block v4 range" ip block 192.0.2.0/24 --reason "scanner" \
    --expires 30d
expect 0 "ip block v4 address" ip block 198.51.100.7
expect 0 "ip block v6 range" ip block 2001:db8::/32 --reason "v6 range"
unchanged "ip block: duplicate" 1 ip block 192.0.2.0/24
err_has "duplicate block message" "already blocked"
unchanged "ip block: host bits set" 2 ip block 192.0.2.7/24
unchanged "ip block: garbage" 2 ip block 300.1.2.3
unchanged "ip block: reason with control" 1 ip block 203.0.113.0/24 \
    --reason "$(printf 'a\033b')"
json_ok "ip list --json" ip list --json
check "ip list has three entries" test "$(json_get 'len(d)' <"$T/out")" = 3
check "ip list reason" test "$(json_get \
    '[b["reason"] for b in d if b["address"] == "192.0.2.0/24"][0]' \
    <"$T/out")" = scanner
expect 0 "ip list" ip list
out_has "ip list text" "2001:db8::/32"
expect 0 "ip unblock" ip unblock 198.51.100.7
unchanged "ip unblock: not blocked" 1 ip unblock 198.51.100.7
unchanged "ip unblock: bad address" 2 ip unblock nonsense

tap_finish

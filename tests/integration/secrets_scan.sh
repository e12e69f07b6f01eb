#!/bin/bash
#
# secrets_scan.sh - no password or token, nor its base64, in any log of any
# integration case.
#
#   tests/integration/secrets_scan.sh [DIR]
#
# DIR holds, at any depth, the "secrets" files and logs/ directories the
# cases leave behind (lib.sh: azs_secret, _azs_cleanup).  Default:
# $AZS_SUITE_LOGS, else $AZS_TOP_BUILDDIR/tests/integration/suite-logs,
# where make check's cases leave them (tests/sh_driver.sh): make check runs
# this scan last, once every case is done; run.sh runs it after its cases.
# A secret is first planted in a log of the scan's own, which it must find.
# Exit status: 0 when no log holds a secret, 1 when one does, 77 when no
# case recorded a secret (nothing to scan), 99 when the scan cannot work.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib_tap.sh
. "$here/../lib_tap.sh"

dir=${1:-${AZS_SUITE_LOGS:-${AZS_TOP_BUILDDIR:-.}/tests/integration/suite-logs}}
# Numbered on from run.sh's cases.
# shellcheck disable=SC2034  # lib_tap.sh's state
if [ -n "${AZS_RESULTS:-}" ]; then
    TAP_RECORD=$AZS_RESULTS
    TAP_N=$(wc -l < "$AZS_RESULTS")
fi

# scan_logs PATTERNS FILE... - the files holding any pattern
scan_logs() {
    local pats=$1
    shift
    [ $# -gt 0 ] && grep -F -l -f "$pats" -- "$@"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/azs-it-scan.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
logs=()
if [ -d "$dir" ]; then
    find "$dir" -type f -name secrets -exec cat {} + | sort -u | grep . \
        > "$work/secrets"
    mapfile -t logs < <(find "$dir" -type f -path '*/logs/*' | sort)
fi
touch "$work/secrets"
nsec=$(grep -c . "$work/secrets")
nlog=${#logs[@]}

echo "# --- secrets scan (all cases)"
pats=$work/patterns
while IFS= read -r s; do
    printf '%s\n' "$s"
    printf '%s' "$s" | base64 -w 0
    echo
done < "$work/secrets" > "$pats"
# The scan must find a secret planted in a log of its own first.
plant=$work/access.log
printf 'GET /%s HTTP/1.1\n' "$(sed -n 2p "$pats")" > "$plant"
if [ "$nsec" -eq 0 ]; then
    echo "# secrets scan: the cases run recorded no secret (nothing to scan)"
    exit 77
elif [ "$nlog" -eq 0 ] || [ -z "$(scan_logs "$pats" "$plant")" ]; then
    tap_not_ok "secrets scan: cannot scan ($nlog logs, or a planted secret not found)"
    exit 99
fi
hits=$(scan_logs "$pats" "${logs[@]}")
if [ -z "$hits" ]; then
    tap_ok "secrets scan: $nsec passwords and tokens (and their base64), none in $nlog logs of the whole suite"
    exit 0
fi
tap_not_ok "secrets scan: a password or token is in: $hits"
exit 1

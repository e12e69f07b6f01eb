#!/bin/bash
#
# sh_driver.sh TEST - how make check runs a test whose name ends in .sh
# (SH_LOG_COMPILER in Makefile.am).
#
#   tests/integration/cases/NAME.sh   the case under every MPM in $AZS_MPMS,
#       through tests/integration/run.sh; its logs and the secrets it used
#       go to $AZS_TOP_BUILDDIR/tests/integration/suite-logs/NAME (emptied
#       first), which tests/integration/secrets_scan.sh, the last test,
#       scans as a whole.  A case with a line "# azs: alone" (one that
#       measures times) runs while no other case does, under make -j too:
#       it takes suite-logs/.lock exclusively, every other case shared.
#   anything else                     run as it is

set -u
case $1 in
    */integration/cases/*.sh)
        name=$(basename "$1" .sh)
        suite=${AZS_TOP_BUILDDIR:-.}/tests/integration/suite-logs
        AZS_SUITE_LOGS=$suite/$name
        rm -rf "$AZS_SUITE_LOGS"
        mkdir -p "$AZS_SUITE_LOGS" || exit 99
        export AZS_SUITE_LOGS
        lock=()
        if command -v flock >/dev/null 2>&1; then
            lock=(flock -s "$suite/.lock")
            grep -qx '# azs: alone' "$1" && lock=(flock -x "$suite/.lock")
        fi
        exec "${lock[@]}" bash "$(dirname "$1")/../run.sh" "$1"
        ;;
    *)
        exec "$1"
        ;;
esac

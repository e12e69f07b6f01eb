# shellcheck shell=bash
#
# lib_tap.sh - TAP results, shared by the CLI cases (tests/cli/lib_cli.sh)
# and the integration harness (tests/integration/lib.sh).
#
#   tap_ok DESC                   prints "ok N - DESC"
#   tap_not_ok DESC [DETAIL...]   prints "not ok N - DESC", then each
#                                 DETAIL as "#   " comment lines
#   tap_check DESC CMD [ARGS...]  ok when CMD succeeds
#   tap_finish                    prints the plan and a summary, exits 0
#                                 when nothing failed, else 1
#
# State, which the sourcing file may preset:
#   TAP_N        number of the last result printed (default 0: a file run
#                after others continues their numbering by setting it)
#   TAP_PASS, TAP_FAIL   results of this process
#   TAP_PREFIX   put before every description, e.g. "case[event]: "
#   TAP_RECORD   a file every verdict is appended to ("ok" or "not ok", one
#                a line), for a runner that counts several processes

TAP_N=${TAP_N:-0}
TAP_PASS=0
TAP_FAIL=0
TAP_PREFIX=${TAP_PREFIX:-}
TAP_RECORD=${TAP_RECORD:-}

# tap_result VERDICT DESC [DETAIL...] - VERDICT is "ok" or "not ok".
tap_result() {
    local verdict=$1 desc=$2 d
    shift 2
    [ -n "$TAP_RECORD" ] && printf '%s\n' "$verdict" >> "$TAP_RECORD"
    TAP_N=$((TAP_N + 1))
    printf '%s %d - %s%s\n' "$verdict" "$TAP_N" "$TAP_PREFIX" "$desc"
    if [ "$verdict" = ok ]; then
        TAP_PASS=$((TAP_PASS + 1))
    else
        TAP_FAIL=$((TAP_FAIL + 1))
        for d in "$@"; do
            [ -n "$d" ] && printf '%s\n' "$d" | sed 's/^/#   /'
        done
    fi
    return 0
}
tap_ok()     { tap_result ok "$@"; }
tap_not_ok() { tap_result "not ok" "$@"; }

tap_check() {
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_not_ok "$desc" "failed: $*"; fi
}

tap_finish() {
    echo "1..$TAP_N"
    if [ "$TAP_FAIL" -ne 0 ]; then
        echo "# $TAP_FAIL of $TAP_N checks failed"
        exit 1
    fi
    echo "# all $TAP_N checks passed"
    exit 0
}

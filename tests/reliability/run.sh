#!/bin/bash
#
# run.sh - the long reliability runs, on demand (not part of `make check`;
# the short versions are tests/integration/cases/rel_*.sh).
#
#   tests/reliability/run.sh [churn] [graceful] [memory] [valgrind] [asan] [short]
#
# With no argument: churn graceful memory valgrind (asan and short only
# when named, or with REL_ALL=1).  Every part prints its figures; the end is
# a summary table.  Exit 0 when every part passed.
#
#   churn     rel_churn with REL_LONG_CHANGES (3000) htauthz changes and 8
#             load clients, for minutes (at most REL_LONG_CHURN_SECONDS)
#   graceful  rel_graceful: 20 graceful restarts under heavier load
#             (REL_LONG_CLIENTS, 24 clients, no pacing)
#   memory    mem.sh: REL_MEM_REQUESTS (200000) mixed requests on one
#             child; VmRSS/fd slope after warm-up
#   valgrind  valgrind.sh: apache2 -X under memcheck, mixed requests
#   asan      scripts/sanitize.sh on the rel_* cases (ASan+UBSan build in
#             REL_ASAN_BUILD, default /tmp/azs-rel-asan)
#   short     every rel_* case under every MPM (what make check runs)
#
# Environment as for tests/integration/run.sh: AZS_MODULE, HTAUTHZ,
# APACHE2, AP_LIBEXECDIR (defaults: the in-tree build, apache2 on PATH).
# REL_MPMS picks the MPMs of the long runs (default: event for churn,
# graceful and valgrind; prefork and event for memory).

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
it=$top/tests/integration/run.sh
: "${AP_LIBEXECDIR:=$( (apxs -q LIBEXECDIR || apxs2 -q LIBEXECDIR) 2>/dev/null || echo /usr/lib/apache2/modules)}"
export AP_LIBEXECDIR

parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
    parts=(churn graceful memory valgrind)
    [ "${REL_ALL:-0}" = 1 ] && parts+=(asan short)
fi
logdir=$(mktemp -d "${TMPDIR:-/tmp}/azs-rel.XXXXXX") || exit 99
echo "# logs in $logdir"
declare -A verdict=()
order=()

run_part() {   # NAME MPMS TIMEOUT [env...] -- CASE...
    local name=$1 mpms=$2 to=$3 rc
    shift 3
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    echo "# ==== $name (MPMs: $mpms)"
    env "${envs[@]}" AZS_MPMS="$mpms" AZS_CASE_TIMEOUT="$to" \
        bash "$it" "$@" 2>&1 | tee "$logdir/$name.log" \
        | grep -E '^(not ok|# [a-z]+\[|# .*passed|Bail)'
    rc=${PIPESTATUS[0]}
    order+=("$name")
    case $rc in 0) verdict[$name]=pass ;; 77) verdict[$name]=skip ;; *) verdict[$name]="FAIL ($rc)" ;; esac
}

for p in "${parts[@]}"; do
    case $p in
        churn)
            run_part churn "${REL_MPMS:-event}" 3600 \
                REL_CHURN_CHANGES="${REL_LONG_CHANGES:-3000}" REL_MAX_SECONDS=3300 \
                REL_CHURN_MAX_SECONDS="${REL_LONG_CHURN_SECONDS:-3000}" \
                REL_PACE="${REL_LONG_PACE:-0.02}" -- rel_churn ;;
        graceful)
            run_part graceful "${REL_MPMS:-event}" 900 \
                REL_GRACEFUL_N="${REL_LONG_GRACEFUL:-20}" \
                REL_CLIENTS="${REL_LONG_CLIENTS:-24}" REL_PACE=0 \
                REL_GRACEFUL_GAP=1 -- rel_graceful ;;
        memory)
            run_part memory "${REL_MPMS:-prefork event}" 3600 \
                REL_MEM_REQUESTS="${REL_MEM_REQUESTS:-200000}" -- "$here/mem.sh" ;;
        valgrind)
            run_part valgrind "${REL_MPMS:-event}" 900 -- "$here/valgrind.sh" ;;
        short)
            run_part short "${REL_MPMS:-event worker prefork}" 120 -- \
                rel_churn rel_propagation rel_identity rel_graceful \
                rel_hostile rel_secrets rel_writers rel_diskfull ;;
        asan)
            echo "# ==== asan (scripts/sanitize.sh, rel_* cases)"
            AZS_ASAN_BUILD=${REL_ASAN_BUILD:-/tmp/azs-rel-asan} \
            AZS_MPMS=${REL_MPMS:-event worker prefork} \
                bash "$top/scripts/sanitize.sh" \
                rel_propagation rel_identity rel_hostile rel_secrets rel_writers \
                2>&1 | tee "$logdir/asan.log" \
                | grep -E '^(not ok|==|# .*passed|FAIL)'
            rc=${PIPESTATUS[0]}
            order+=(asan)
            [ "$rc" = 0 ] && verdict[asan]=pass || verdict[asan]="FAIL ($rc)" ;;
        *) echo "unknown part: $p" >&2; exit 2 ;;
    esac
done

echo
echo "# ==== summary"
printf '%-10s %-10s %s\n' PART RESULT FIGURES
fail=0
for name in "${order[@]}"; do
    first=1
    while IFS= read -r fig; do
        if [ "$first" = 1 ]; then
            printf '%-10s %-10s %s\n' "$name" "${verdict[$name]}" "$fig"
            first=0
        else
            printf '%-10s %-10s %s\n' "" "" "$fig"
        fi
    done < <(grep -hE '^# (churn|graceful|memory|valgrind|identity|propagation|hostile|secrets|writers|diskfull)\[' "$logdir/$name.log" \
             | grep -v -e 'memory\[.*\]: [0-9]* requests, VmRSS' -e ' passed, [0-9]* failed, ' \
             | sed 's/^# //'
             [ "$name" = asan ] && grep -hE '^== sanitizer reports' "$logdir/asan.log")
    [ "$first" = 1 ] && printf '%-10s %-10s %s\n' "$name" "${verdict[$name]}" "(no figures)"
    case ${verdict[$name]} in pass|skip) ;; *) fail=1 ;; esac
done
exit $fail

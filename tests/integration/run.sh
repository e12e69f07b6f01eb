#!/bin/bash
#
# run.sh - run the integration cases against a real httpd on 127.0.0.1.
#
#   tests/integration/run.sh [CASE...]
#
# Runs every cases/*.sh (or the named ones: "basic_login", a path, ...)
# under each MPM in ${AZS_MPMS:-event worker prefork}.  Each case is a
# separate bash process with its own ServerRoot and httpd; see lib.sh.
# Then secrets_scan.sh looks for every password and token the cases used
# in every log they left.  Output is TAP-like; the exit status is 0 when
# everything passed, 1 on any failure, 77 (skip) when httpd or curl is not
# installed or every case skipped itself.
#
# With AZS_SUITE_LOGS set, the cases leave their logs and secrets there and
# the scan is the caller's: make check runs each case through
# tests/sh_driver.sh, then secrets_scan.sh once over all of them.
#
# By hand:
#   AZS_MODULE=build/.libs/mod_authz_status.so HTAUTHZ=build/htauthz \
#   APACHE2=/usr/sbin/apache2 AP_LIBEXECDIR=/usr/lib/apache2/modules \
#   tests/integration/run.sh basic_login

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mpms=${AZS_MPMS:-event worker prefork}
case_timeout=${AZS_CASE_TIMEOUT:-90}   # seconds per case and MPM

if [ -z "${APACHE2:-}" ]; then
    APACHE2=$(PATH=$PATH:/usr/sbin:/usr/local/sbin command -v apache2 \
              || PATH=$PATH:/usr/sbin:/usr/local/sbin command -v httpd \
              || true)
fi
if [ -z "$APACHE2" ] || [ ! -x "$APACHE2" ]; then
    echo "# SKIP: httpd is not installed (APACHE2='${APACHE2}')"
    exit 77
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "# SKIP: curl is not installed"
    exit 77
fi
export APACHE2

cases=()
if [ $# -eq 0 ]; then
    for c in "$here"/cases/*.sh; do
        [ -e "$c" ] && cases+=("$c")
    done
else
    for c in "$@"; do
        if [ -f "$c" ]; then
            cases+=("$(cd "$(dirname "$c")" && pwd)/$(basename "$c")")
        elif [ -f "$here/cases/${c%.sh}.sh" ]; then
            cases+=("$here/cases/${c%.sh}.sh")
        else
            echo "Bail out! no such case: $c"
            exit 99
        fi
    done
fi
[ ${#cases[@]} -gt 0 ] || { echo "Bail out! no cases"; exit 99; }

results=$(mktemp "${TMPDIR:-/tmp}/azs-it-results.XXXXXX") || exit 99
# Every case leaves its logs and the secrets it used here, for one scan of
# all the logs against all the secrets once the suite is done.
own_logs=
if [ -z "${AZS_SUITE_LOGS:-}" ]; then
    AZS_SUITE_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/azs-it-logs.XXXXXX") || exit 99
    own_logs=1
fi
mkdir -p "$AZS_SUITE_LOGS/logs" && touch "$AZS_SUITE_LOGS/secrets" || exit 99
chmod -R a+rwX "$AZS_SUITE_LOGS"
trap 'rm -f "$results"; [ -z "$own_logs" ] || rm -rf "$AZS_SUITE_LOGS"' EXIT
export AZS_RESULTS=$results AZS_SUITE_LOGS

# A failure the case could not record itself.
fail_line() {
    echo "not ok" >> "$results"
    echo "not ok $(wc -l < "$results") - $1"
}

# This run's tag, in each case's ServerRoot (azs-it.CASE.MPM.TAG.*): the
# same case run by another suite at the same time is not this run's.
export AZS_RUN_TAG=r$$

# run_procs [SIGNAL] - the processes of the current case ($name under
# $mpm, this run) still running: "PID COMMAND" lines of every process whose
# command line or working directory is in its ServerRoot (redis-server
# rewrites its command line, but works in its --dir); with SIGNAL, they
# get it.
run_procs() {
    local pat="/azs-it.${name}.${mpm}.${AZS_RUN_TAG}." pid cmd cwd
    for pid in $({ grep -l -a -F -- "$pat" /proc/[0-9]*/cmdline
                   find /proc/[0-9]*/cwd -maxdepth 0 -lname "*$pat*"
                 } 2>/dev/null | cut -d/ -f3 | sort -u); do
        # Checked again: the grep itself matched its own command line.
        cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
        cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null)
        case "$cwd $cmd" in
            *"$pat"*) ;;
            *) continue ;;
        esac
        if [ -n "${1:-}" ]; then
            kill -s "$1" "$pid" 2>/dev/null
        else
            printf '%s %s\n' "$pid" "$cmd"
        fi
    done
}

failed=()
nrun=0 nskip=0
t_all=$SECONDS
for mpm in $mpms; do
    t_mpm=$SECONDS
    for c in "${cases[@]}"; do
        name=$(basename "$c" .sh)
        # The reliability and fleet cases (load, restarts, churn, several
        # servers) are the heaviest: under the first MPM only, unless
        # asked for all.
        if { [ "${name#rel_}" != "$name" ] || [ "${name#fleet_}" != "$name" ]; } \
           && [ "$mpm" != "${mpms%% *}" ] \
           && [ -z "${AZS_REL_ALL_MPMS:-}" ]; then
            continue
        fi
        echo "# --- $name ($mpm)"
        before=$(grep -c '^not ok' "$results")
        # A case may ask for more time: a line "# azs: timeout SECONDS".
        t_case=$(sed -n 's/^# azs: timeout \([0-9]*\)$/\1/p' "$c" | head -n 1)
        AZS_MPM=$mpm timeout -k 5 "${t_case:-$case_timeout}" bash "$c"
        rc=$?
        nrun=$((nrun + 1))
        case $rc in
            0) ;;
            77) echo "# ${name}[$mpm]: skipped"; nskip=$((nskip + 1)) ;;
            124|137)
                fail_line "${name}[$mpm]: timed out after ${t_case:-$case_timeout}s"
                failed+=("${name}[$mpm]")
                # A case killed in the middle cannot stop its httpd: stop
                # it here (TERM: its parent removes its semaphore).
                run_procs TERM && sleep 2
                run_procs KILL || true ;;
            1)
                # A case that died before recording its failure (set -u,
                # a helper's exit) still counts as one.
                [ "$(grep -c '^not ok' "$results")" -gt "$before" ] \
                    || fail_line "${name}[$mpm]: aborted (exit 1)"
                failed+=("${name}[$mpm]") ;;
            *)
                fail_line "${name}[$mpm]: exited with status $rc"
                failed+=("${name}[$mpm]") ;;
        esac
        # Every server a case starts (httpd, PostgreSQL, redis, a backend)
        # lives under its ServerRoot and is stopped by pid before the case
        # ends: anything still running there (2 s of grace for one being
        # reaped) is a leak, and is stopped here.
        for _ in $(seq 1 20); do
            [ -n "$(run_procs)" ] || break
            sleep 0.1
        done
        if left=$(run_procs) && [ -n "$left" ]; then
            fail_line "${name}[$mpm]: servers left running after the case: $(printf '%s' "$left" | tr '\n' ';' | cut -c1-300)"
            failed+=("${name}[$mpm]")
            run_procs KILL
        fi
    done
    echo "# MPM $mpm: $((SECONDS - t_mpm))s"
done

# No password or token, nor its base64, in any log of any case.
if [ -n "$own_logs" ]; then
    bash "$here/secrets_scan.sh" "$AZS_SUITE_LOGS"
    case $? in
        0|77) ;;
        *) failed+=("secrets-scan") ;;
    esac
fi

total=$(wc -l < "$results")
nfail=$(grep -c '^not ok' "$results")
echo "1..$total"
echo "# $((total - nfail)) passed, $nfail failed, ${#cases[@]} case(s) x" \
     "MPMs ($mpms), $((SECONDS - t_all))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "# FAILED: ${failed[*]}"
    exit 1
fi
[ "$nrun" -gt 0 ] && [ "$nskip" = "$nrun" ] && exit 77
exit 0

#!/bin/bash
# Model-based random test: long seeded sequences of requests on keep-alive
# connections to one child (one thread), with htauthz writes between them,
# every answer (status, and WWW-Authenticate exactly, or its absence)
# compared with what a python model of the database predicts
# (../model_db.py has the model and the universe of users, roles, tokens
# and locations; ../model_random.py the servers, clients and the mix).  What is under test is the state the module
# keeps between requests: the cache of verified logins and the per-thread
# memo of users, tokens and blocklist verdicts (32 entries), which the
# sequences fill, overflow and invalidate over and over.
#
# The seed is printed; AZS_MODEL_SEED=N replays a run, AZS_MODEL_STEPS=N
# sets its length (default 2500 requests), AZS_MODEL_FAILS=N the number of
# password checks that may fail (default 140: each costs a hash, and its
# answer may be padded in time).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"
command -v htpasswd >/dev/null 2>&1 || { echo "# SKIP: no htpasswd"; exit 77; }

driver=$AZS_IT_DIR/model_random.py
azs_db_init
azs_single_child 1
{
    cat <<'EOF'
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 20
EOF
    "$AZS_PYTHON" "$driver" conf "$AZS_DOCROOT" || _azs_die "model_random.py conf"
} | azs_conf
# Every denial the mix makes is logged at error level; none is a surprise.
azs_allow_log 'AZS[0-9]{4}: (400|401|403) '

azs_start || azs_bail "httpd starts"
children=$(azs_child_pids)
expect_true "one child ($children)" test "$(wc -w <<<"$children")" = 1

# PostgreSQL: every node hears of a write within milliseconds (pushed
# by the database), not by the very next request: the model waits 50 ms
# after each write.
settle=0
[ "$AZS_BACKEND" = postgresql ] && settle=50
out=$(AZS_MODEL_SETTLE_MS=$settle AZS_RUN_USER=$AZS_RUN_USER AZS_MPM=$AZS_MPM "$AZS_PYTHON" "$driver" run \
      "$AZS_PORT" "$AZS_DB" "$HTAUTHZ" "$AZS_PID" 2>&1)
rc=$?
expect_true "the driver ran (exit $rc)" test "$rc" = 0
seed_line=$(printf "%s\n" "$out" | grep -m1 "seed [0-9]" | cut -f2)
verdicts=0
while IFS=$'\t' read -r verdict desc detail; do
    case $verdict in
        ok) _azs_ok "$desc"; verdicts=$((verdicts + 1)) ;;
        "not ok") _azs_not_ok "$desc" "$seed_line" "$detail"; verdicts=$((verdicts + 1)) ;;
        info) printf '# %s\n' "$desc" ;;
        *) [ -n "$verdict$desc$detail" ] && printf '#   %s %s %s\n' "$verdict" "$desc" "$detail" ;;
    esac
done <<<"$out"
expect_true "the driver gave its verdicts ($verdicts)" test "$verdicts" -ge 4
expect_true "still the same child ($children -> $(azs_child_pids))" \
    test "$(azs_child_pids)" = "$children"

azs_done

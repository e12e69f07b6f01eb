#!/bin/bash
# Writers wait for each other; a password prompt (waiting, suspended,
# interrupted) holds no lock.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

cli_must init
cli_must user add bob --password-stdin <<<"bob-new"

# ---- concurrency: writers wait for each other ----------------------------

pids=""
for i in 1 2 3 4 5 6; do
    "$HTAUTHZ" role add "par$i" 2>"$T/par$i.err" &
    pids="$pids $!"
done
pfail=0
for p in $pids; do
    wait "$p" || pfail=1
done
check "six concurrent writers all succeed" test "$pfail" = 0

# ---- a password prompt holds no lock -------------------------------------

# An admin at user add's prompt (or away from it) must not hold up other
# writes, a revocation least of all: the lock is taken once the password
# is typed.
expect 0 "token to revoke while a prompt waits" token issue bob
tid3=$(sed -n 2p "$T/out")
python3 "$PTYJOB" "$T/tty" "expect:New password: " \
    "sh:'$HTAUTHZ' role add during-prompt" \
    "sh:'$HTAUTHZ' token revoke $tid3" \
    "type:wait-pw-1\n" "expect:Re-type new password: " "type:wait-pw-1\n" \
    -- "$HTAUTHZ" user add waiter >"$T/job" 2>&1
# "sh: exit N in S s": both exit 0, before the 5 s a writer waits for
# another would have run out.
if awk '/^sh: /{n++; if ($3 != 0 || $5 >= 4) bad=1}
        END {exit !(n == 2 && !bad)}' "$T/job"; then
    ok "role add and token revoke during a prompt: done at once"
else
    notok "writes during a prompt: $(tr '\n' ' ' <"$T/job")"
fi
check "user added after the other writes" grep -qx "exit 0" "$T/job"
echo "waiter:$(hash_of waiter)" >"$T/verify"
check "the waiting user's password verifies" verify waiter wait-pw-1

# The same with --password-stdin from a pipe that takes its time.
mkfifo "$T/pwfifo"
"$HTAUTHZ" user add stdin-waiter --password-stdin <"$T/pwfifo" \
    >"$T/fifo.out" 2>&1 &
fpid=$!
exec 7>"$T/pwfifo"
sleep 1
start=$(date +%s.%N)
run role add during-stdin
end=$(date +%s.%N)
secs=$(python3 -c "print('%.2f' % ($end - $start))")
check "role add while --password-stdin waits: exit 0 in $secs s" \
    python3 -c "import sys; sys.exit(0 if $rc == 0 and $secs < 4 else 1)"
echo "stdin-pw" >&7
exec 7>&-
wait "$fpid"
check "--password-stdin user added after the other write" test "$?" = 0

# ---- suspended at the prompt ---------------------------------------------

# Ctrl-Z at the prompt gives the terminal its echo back while the job is
# stopped; once continued, echo is off again and the prompt comes again.
# The terminal drops the unfinished line at Ctrl-Z, so what counts is
# what was typed after it.
python3 "$PTYJOB" "$T/tty" "expect:New password: " "type:Zq7-part" stop \
    cont "expect:New password: " "type:Xw4-rest\n" \
    "expect:Re-type new password: " "type:Xw4-rest\n" \
    -- "$HTAUTHZ" user add suspended >"$T/job" 2>&1
check "Ctrl-Z at the prompt stops the job" grep -qx stopped "$T/job"
check "the prompt is shown again when it continues" \
    test "$(grep -c '^timeout' "$T/job")" = 0
check "no password echoed after the stop" \
    test "$(grep -c -e Zq7 -e Xw4 "$T/tty")" = 0
check "terminal left with echo on" grep -qF "[echo on]" "$T/tty"
check "suspended user added" grep -qx "exit 0" "$T/job"
echo "suspended:$(hash_of suspended)" >"$T/verify"
check "the password typed after the stop verifies" \
    verify suspended Xw4-rest

before=$(dump)
python3 "$PTYJOB" "$T/tty" "expect:New password: " "type:Int-part" \
    "signal:INT" \
    -- "$HTAUTHZ" user add interrupted >"$T/job" 2>&1
check "SIGINT at the prompt ends htauthz" grep -qx "exit 130" "$T/job"
check "SIGINT at the prompt: terminal left with echo on" \
    grep -qF "[echo on]" "$T/tty"
check "SIGINT at the prompt: nothing changed" test "$before" = "$(dump)"

tap_finish

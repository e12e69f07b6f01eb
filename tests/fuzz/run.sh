#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for $FUZZ_SECONDS
# seconds (default 10), starting from tests/fuzz/corpus/<target>.
#
#   tests/fuzz/run.sh [basic bearer cidr when escape import]
#
# Fails on the first crash, sanitizer report or broken invariant; the work
# directory (build, grown corpus, crash input) is then kept and named.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-10}
cc=${FUZZ_CC:-clang}
targets=${*:-basic bearer cidr when escape import}

command -v "$cc" >/dev/null || { echo "run.sh: $cc not found" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/azs-fuzz.XXXXXX")
cflags="-g -O1 -fno-omit-frame-pointer -Wall -Wextra
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -I$top/include $(apr-1-config --cppflags --includes)
        $(apu-1-config --includes)"
libs="$(apu-1-config --link-ld) $(apr-1-config --link-ld)"

# Only the core files a target reaches: the rest of the core needs SQLite
# and is not under test here.
sources() {
    case $1 in
        basic|bearer) echo "$top/src/azs_cred.c" ;;
        cidr) echo "$top/src/azs_addr.c" ;;
        when) echo "$top/src/azs_time.c" ;;
        escape) echo "$top/src/azs_escape.c" ;;
        import) echo "$top/src/azs_import.c $top/src/azs_name.c" \
                     "$top/src/azs_hash.c" ;;
        *) echo "run.sh: unknown target $1" >&2; return 1 ;;
    esac
}

# Long enough for an 8 KB user name in base64.
max_len() {
    case $1 in
        basic) echo 12288 ;;
        *) echo 4096 ;;
    esac
}

for t in $targets; do
    src=$(sources "$t")
    # shellcheck disable=SC2086
    "$cc" $cflags -o "$work/fuzz_$t" "$here/fuzz_$t.c" $src $libs
done

failed=
for t in $targets; do
    mkdir -p "$work/corpus/$t"
    log="$work/$t.log"
    if "$work/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" \
            -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$work/$t-" \
            "$work/corpus/$t" "$here/corpus/$t" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz_$t: ok, $execs runs in $secs s"
    else
        echo "fuzz_$t: FAILED, see $log" >&2
        tail -n 40 "$log" >&2
        failed=1
    fi
done

if [ -n "$failed" ]; then
    echo "run.sh: work directory kept: $work" >&2
    exit 1
fi
rm -rf "$work"

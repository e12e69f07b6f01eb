#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer in
# _build-asan and runs the unit tests and the whole integration suite with
# the instrumented module loaded into Debian's apache2 (the sanitizer
# runtime preloaded).  Any sanitizer report fails the run.  The module is
# built with --enable-memo-poison: each thread remembers 4 entries instead
# of 32, and a memo set that is let go of is overwritten, then freed (its
# pool has an allocator of its own, so the sanitizer sees the free): a
# request still pointing into it fails an assertion or a sanitizer check.
#
#   bash scripts/sanitize.sh [integration case...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AZS_ASAN_BUILD:-$top/_build-asan}
bash "$top/scripts/deps.sh"
# configure takes CFLAGS and LDFLAGS from the environment.
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
LDFLAGS="-fsanitize=address,undefined" AZS_BUILD=$build \
AZS_CONFIGURE_FLAGS="--enable-memo-poison ${AZS_CONFIGURE_FLAGS:-}" \
    bash "$top/scripts/build.sh"
make -s -C "$build" -j"$(nproc)" check TESTS= >/dev/null   # builds the tests

reports=$(mktemp -d /tmp/azs-asan.XXXXXX)
chmod 1777 "$reports"
# httpd frees its pools at exit, not every malloc: leak reports would be
# noise.  Everything else (overflows, use after free, UB) is fatal.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
# Cases that bound memory skip that check (the quarantine holds freed
# memory on purpose).
export AZS_SANITIZER=asan

echo "== unit tests (sanitized)"
fail=0
for t in "$build"/tests/unit/test_*; do
    case $t in *.o|*.log|*.trs) continue ;; esac
    [ -x "$t" ] || continue
    "$t" >/dev/null 2>&1 || { echo "FAIL: $t"; fail=1; }
done

echo "== integration suite, module sanitized, runtime preloaded into apache2"
wrapper=$reports/apache2
cat > "$wrapper" <<WRAP
#!/bin/sh
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    exec /usr/sbin/apache2 "\$@"
WRAP
chmod 755 "$wrapper"
AZS_MODULE=$build/.libs/mod_authz_status.so HTAUTHZ=$build/htauthz \
APACHE2=$wrapper AP_LIBEXECDIR=$(apxs -q LIBEXECDIR) \
AZS_TOP_SRCDIR=$top AZS_TOP_BUILDDIR=$build \
    bash "$top/tests/integration/run.sh" "$@" || fail=1

if ls "$reports"/asan* "$reports"/ubsan* >/dev/null 2>&1; then
    echo "== sanitizer reports:"
    cat "$reports"/asan* "$reports"/ubsan* 2>/dev/null | head -n 100
    fail=1
else
    echo "== sanitizer reports: 0"
fi
exit $fail

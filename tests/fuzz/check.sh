#!/bin/sh
# make check's short fuzzing pass: every target for $FUZZ_SECONDS (3 s)
# each.  Skipped (77) only when clang is not installed.
command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 || exit 77
FUZZ_SECONDS=${FUZZ_SECONDS:-3} exec sh "$(dirname "$0")/run.sh"

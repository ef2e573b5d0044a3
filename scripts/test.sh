#!/usr/bin/env bash
# test.sh — everything a fresh Debian 12 machine needs to run the whole suite:
# install missing packages, build, run the tests (each integration test gets
# its own throwaway PostgreSQL with wal2json), then build again with
# AddressSanitizer + UndefinedBehaviorSanitizer and run the suite once more.
#
#   scripts/test.sh            both configurations
#   scripts/test.sh --quick    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j2)

if [ "${1:-}" != "--quick" ]; then
    scripts/build.sh --sanitize
    # the fuzz test already runs under ASan/UBSan; valgrind does not mix with ASan
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2 -E '^(fuzz|valgrind)\.')
fi

#!/usr/bin/env bash
# test.sh — everything a fresh Debian 12 machine needs to run the whole suite:
# install missing packages (and the roots PostgreSQL 17 and 18 run in),
# build, run the tests (each integration, fault and Kafka test gets its own
# throwaway PostgreSQL with wal2json, once per version: 15, 17 and 18 unless
# PGTRAIL_TEST_PG says otherwise), then build again with AddressSanitizer +
# UndefinedBehaviorSanitizer and run the suite once more, on the first of
# those versions (the code under the sanitizers is the same on every one).
#
#   scripts/test.sh            both configurations
#   scripts/test.sh --quick    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j2)

if [ "${1:-}" != "--quick" ]; then
    # the sanitizer build registers its PostgreSQL tests for the first version only
    first=$(echo "${PGTRAIL_TEST_PG:-15,17,18}" | cut -d, -f1)
    PGTRAIL_TEST_PG=$first scripts/build.sh --sanitize
    # the fuzz test already runs under ASan/UBSan; valgrind does not mix with ASan;
    # the fault suite runs once (through wal2json): its pgoutput twins add time,
    # not code (pgoutput's decoder runs under the sanitizers in the integration tests)
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2 -E '^(fuzz|valgrind)\.|_pgoutput\.')
fi

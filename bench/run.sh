#!/usr/bin/env bash
# run.sh — run the benchmarks against a throwaway PostgreSQL (not a test).
#
#   bench/run.sh [EVENTS]      default 1,000,000
#
# Needs a build (scripts/build.sh). Starts a cluster (tests/harness), then
# bench/workload.sh records real wal2json lines from a workload of mixed
# types and runs bench_parser on them, then bench_writer. Each benchmark
# prints its ratio against the limit measured in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/tests/harness/with_pg.sh" "$root/bench/workload.sh" "$root/build/bin" "${1:-1000000}"

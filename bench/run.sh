#!/usr/bin/env bash
# run.sh — run the benchmarks against a throwaway PostgreSQL (not a test).
#
#   bench/run.sh [EVENTS [CHANGES [SECONDS [REPLAY_EVENTS [NAIVE_EVENTS [VERIFY_EVENTS [KAFKA_CHANGES [METRICS_CHANGES [TRUST_CHANGES]]]]]]]]]
#       defaults 1,000,000, 1,000,000, 60, 1,000,000, 100,000, 1,000,000, 1,000,000, 500,000, 600,000
#
# Needs a build (scripts/build.sh). Each part runs on a cluster of its own
# (tests/harness): bench/workload.sh records real wal2json lines and runs
# bench_parser on them, then bench_writer (against plain COPY);
# bench/capture_workload.sh measures pgtrail-capture against pg_recvlogical
# and the two ways of keeping capture's own writes out of decoding;
# bench/replay_workload.sh measures pgtrail-replay (on one connection and with --jobs 3) against the naive
# one-statement-per-change client, COPY of the final rows and reading the
# log, on a mixed and an update-heavy log; bench/replay_follow.sh measures how
# far a replay --follow falls behind capture under pgbench;
# bench/verify_workload.sh measures pgtrail-verify --full against COPY of the
# same events to /dev/null; bench/kafka_workload.sh measures pgtrail-capture
# publishing to Kafka (pt_mock_kafka) against the same capture without
# Kafka, on one backlog read by two slots; bench/metrics_workload.sh measures
# capture with --metrics scraped every 100 ms against capture without it;
# bench/replay_trust.sh measures replay checking signed checkpoints and the
# anchor file (--public-key, --anchor) against replay without them;
# bench/versions.sh repeats the capture benchmark on PostgreSQL 17 and 18;
# bench/decoders.sh measures capture through wal2json and through pgoutput,
# each against pg_recvlogical with the same decoder, and a big transaction's
# peak RSS with each.
# Each prints its ratio against the limit measured in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tests/harness/with_pg.sh" "$root/bench/workload.sh" "$root/build/bin" "${1:-1000000}"
"$root/tests/harness/with_pg.sh" "$root/bench/capture_workload.sh" "$root/build/bin" "${2:-1000000}"
"$root/tests/harness/with_pg.sh" "$root/bench/pgbench_follow.sh" "$root/build/bin" "${3:-60}"
"$root/tests/harness/with_pg.sh" "$root/bench/replay_workload.sh" "$root/build/bin" "${4:-1000000}" "${5:-100000}" mixed
"$root/tests/harness/with_pg.sh" "$root/bench/replay_workload.sh" "$root/build/bin" "${4:-1000000}" "${5:-100000}" updates
"$root/tests/harness/with_pg.sh" "$root/bench/replay_follow.sh" "$root/build/bin" "${3:-60}"
"$root/tests/harness/with_pg.sh" "$root/bench/verify_workload.sh" "$root/build/bin" "${6:-1000000}"
"$root/tests/harness/with_pg.sh" "$root/bench/kafka_workload.sh" "$root/build/bin" "${7:-1000000}"
"$root/tests/harness/with_pg.sh" "$root/bench/metrics_workload.sh" "$root/build/bin" "${8:-500000}"
"$root/tests/harness/with_pg.sh" "$root/bench/replay_trust.sh" "$root/build/bin" "${9:-600000}"
PGTRAIL_TEST_PG=17,18 "$root/bench/versions.sh" "${2:-1000000}"
"$root/tests/harness/with_pg.sh" "$root/bench/decoders.sh" "$root/build/bin" "${2:-1000000}" 1000000

#!/usr/bin/env bash
# kafka_workload.sh BIN_DIR [CHANGES] — capture throughput with Kafka
# enabled, as a ratio to the same capture without Kafka (inside with_pg.sh).
#
# One backlog of CHANGES (default 1,000,000) row changes in transactions of
# 10 rows across three tables (inserts, then updates of the same rows, as in
# capture_workload.sh), read by two slots created before it: slot A is
# drained by pgtrail-capture --endpos into store schema A without Kafka,
# slot B into store schema B with --kafka-brokers to pt_mock_kafka (native
# format, the default topic per table, idempotent, acks=all; capture's
# --endpos run ends only when Kafka acknowledged every message). Both runs
# decode the same WAL range. The mock cluster runs on the same machine and
# takes its share of the CPU: the ratio is a floor for a real broker
# elsewhere (the CPU seconds of each run and of the mock are printed too).
# KAFKA_FORMAT=debezium measures the debezium format instead (Debezium's
# records with their Connect schemas, its defaults): typed values, each
# message carrying its table's schema.
# With PERF_OUT=FILE set, the Kafka run is recorded by
# perf record -g into FILE.
set -euo pipefail
bin=$1 rows=${2:-1000000}
format=${KAFKA_FORMAT:-native}
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/kafka.log
. "$here/../tests/harness/testlib.sh"
. "$here/../tests/kafka/lib.sh"
. "$here/backlog.sh"
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
# CPU seconds (user + system) of the mock so far, and of a capture run (from time -f '%U %S')
mock_cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$kafka_pid/stat"; }
run_cpu() { awk '{ print $1 + $2 }' "$1"; }

kafka_start --brokers "${KAFKA_BROKERS:-1}" --topic pgtrail.public.orders --topic pgtrail.public.items --topic pgtrail.public.payments >/dev/null
backlog_tables
# both slots (and their stores) before the workload
for s in a b; do
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot "bench_$s" --schema "store_$s" \
        --snapshot never --endpos 0/1 --log-level warning
done
backlog_write "$rows"
rows=$backlog_rows
end=$(q "SELECT pg_current_wal_lsn()")

common=(--source "$PGTRAIL_TEST_DSN" --endpos "$end" --batch-size 10000 --log-level info)
t0=$(date +%s.%N)
/usr/bin/time -o "$PGTRAIL_TEST_DIR/cpu_a" -f '%U %S' \
    "$bin/pgtrail-capture" "${common[@]}" --slot bench_a --schema store_a >"$PGTRAIL_TEST_DIR/cap_a.log" 2>&1 ||
    fail "capture without Kafka failed: $(tail -n 5 "$PGTRAIL_TEST_DIR/cap_a.log")"
t_a=$(secs "$t0")
perf=()
if [ -n "${PERF_OUT:-}" ]; then perf=(perf record -g -o "$PERF_OUT" --); fi
mock_cpu0=$(mock_cpu)
t0=$(date +%s.%N)
/usr/bin/time -o "$PGTRAIL_TEST_DIR/cpu_b" -f '%U %S' "${perf[@]}" "$bin/pgtrail-capture" "${common[@]}" --slot bench_b --schema store_b --kafka-brokers "$KAFKA_BOOTSTRAP" --kafka-format "$format" \
    >"$PGTRAIL_TEST_DIR/cap_b.log" 2>&1 || fail "capture with Kafka failed: $(tail -n 5 "$PGTRAIL_TEST_DIR/cap_b.log")"
t_b=$(secs "$t0")
mock_cpu1=$(mock_cpu)

# (slot A also sees the two rows store B's set-up wrote after A's slot was made)
for s in a b; do
    n=$(q "SELECT count(*) FROM store_$s.events WHERE schema_name = 'public' AND op <> 'schema'")
    [ "$n" = "$rows" ] || fail "store_$s: expected $rows events, got $n"
done
delivered=$(sed -n 's/.*kafka: \([0-9]*\) messages delivered.*/\1/p' "$PGTRAIL_TEST_DIR/cap_b.log" | tail -n 1)
[ "$delivered" = "$rows" ] || fail "capture with Kafka reported ${delivered:-no} deliveries for $rows events"
peak() { sed -n 's/.*peak memory: \(.*\)/\1/p' "$1" | tail -n 1; }
printf 'capture:         %d events in %.2f s = %.0f events/s (no Kafka)\n' "$rows" "$t_a" "$(div "$rows" "$t_a")"
printf 'capture+kafka:   %d events in %.2f s = %.0f events/s (every one acknowledged by pt_mock_kafka)\n' \
    "$rows" "$t_b" "$(div "$rows" "$t_b")"
printf 'ratio capture+kafka/capture: %.2f (format %s; target >= 0.80)\n' "$(div "$t_a" "$t_b")" "$format"
echo "peak memory: capture $(peak "$PGTRAIL_TEST_DIR/cap_a.log"), capture+kafka $(peak "$PGTRAIL_TEST_DIR/cap_b.log")"
printf 'cpu seconds: capture %.1f; capture+kafka %.1f, pt_mock_kafka %.1f (machine: %d cores)\n' \
    "$(run_cpu "$PGTRAIL_TEST_DIR/cpu_a")" "$(run_cpu "$PGTRAIL_TEST_DIR/cpu_b")" \
    "$(awk -v a="$mock_cpu0" -v b="$mock_cpu1" 'BEGIN { print b - a }')" "$(nproc)"

#!/usr/bin/env bash
# test_kafka_stop.sh BIN_DIR — SIGTERM while every Kafka broker is down
# (run inside tests/harness/with_pg.sh, on the mock cluster).
#
# With [capture] stop_timeout_s = 3, a stop must end within 3 s plus a
# margin (here: exit 0 within 12 s of the signal), and leave the slot where
# Kafka's acknowledgements had put it. Twice: while streaming (events in the
# table, not acknowledged by Kafka), and at the next start, still with the
# brokers down, while capture sends those events again (that wait had no
# end before). Then, brokers up, a run to --endpos delivers everything:
# every event of the table is in Kafka (kcat), nothing lost, and the table
# has each change exactly once, chain valid, pgtrail-verify 0.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$here/../harness/testlib.sh"
. "$here/../kafka/lib.sh"

topic=pgtrail.public.t
kafka_start --brokers 1 --topic "$topic" --partitions 4
bound=12    # stop_timeout_s (3) + connection close, stream stop, process exit

q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
slot_lsn() { q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'"; }
insert() { # insert FROM TO, in transactions of 100
    for i in $(seq "$1" 100 "$2"); do
        echo "INSERT INTO t SELECT g, 0 FROM generate_series($i, $((i + 99))) g;"
    done | psql -qX -v ON_ERROR_STOP=1 >/dev/null
}
# wait_for WHAT SQL: until SQL prints t (60 s at most), capture still running
wait_for() {
    for _ in $(seq 1 600); do
        [ "$(q "$2")" = t ] && return 0
        kill -0 "$capture" 2>/dev/null || fail "capture exited while waiting for $1"
        sleep 0.1
    done
    fail "timed out after 60 s waiting for $1"
}
# --status-interval-ms 200: capture reports its confirmed position to the
# source every 200 ms instead of every 10 s, so the slot shows Kafka's
# acknowledgements (and any position wrongly confirmed) at once rather than
# up to 10 s later
start_capture() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --kafka-brokers "$KAFKA_BOOTSTRAP" --stop-timeout-s 3 \
        --status-interval-ms 200 --log-level info "$@" >>"$log" 2>&1 &
    capture=$!
}
# stop_within WHAT: SIGTERM, then capture must exit 0 within $bound s
stop_within() {
    local t0 rc=0
    t0=$(date +%s%N)
    kill -TERM "$capture"
    for _ in $(seq 1 $((bound * 10))); do
        kill -0 "$capture" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$capture" 2>/dev/null; then
        kill -9 "$capture"
        fail "$1: capture still running $bound s after SIGTERM (stop_timeout_s = 3)"
    fi
    wait "$capture" || rc=$?
    capture=""
    [ "$rc" = 0 ] || fail "$1: capture exited $rc on SIGTERM"
    echo "ok: $1: stopped $(( ($(date +%s%N) - t0) / 1000000 )) ms after SIGTERM, exit 0"
}

start_capture
insert 1 1000
end=$(q "SELECT pg_current_wal_lsn()")
wait_for "Kafka to acknowledge the first 1,000 changes" \
    "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 'pgtrail'"
kafka_down
insert 1001 3000
wait_for "3,000 changes in the table" "SELECT count(*) = 3000 FROM pgtrail.events WHERE op <> 'schema'"
held=$(slot_lsn)
stop_within "streaming, brokers down"
eq "the slot stayed where Kafka's acknowledgements put it" "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'" "$held"
grep -q 'kafka: stopping with [0-9]* messages not acknowledged' "$log" || fail "capture did not say what it left unacknowledged"

# the next start, brokers still down, sends the unacknowledged events again: stop it meanwhile
before=$(grep -c 'sending events .* again' "$log" || true)
start_capture
for _ in $(seq 1 600); do
    [ "$(grep -c 'sending events .* again' "$log")" -gt "$before" ] && break
    kill -0 "$capture" 2>/dev/null || fail "capture exited at start"
    sleep 0.1
done
[ "$(grep -c 'sending events .* again' "$log")" -gt "$before" ] || fail "capture did not start sending events again"
stop_within "sending again at start, brokers down"
eq "the slot still stayed where it was" "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'" "$held"

# brokers up: everything reaches Kafka
kafka_up
insert 3001 3500
end=$(q "SELECT pg_current_wal_lsn()")
rc=0
timeout 120 "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --kafka-brokers "$KAFKA_BOOTSTRAP" --endpos "$end" \
    --log-level info >>"$log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "the run to --endpos with the brokers up exited $rc"
kafka_consume "$topic" "$PGTRAIL_TEST_DIR/kafka.json"
psql -qX -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, encode(hash, 'hex') FROM pgtrail.events WHERE op <> 'schema' ORDER BY id) TO '$PGTRAIL_TEST_DIR/events.csv' CSV"
python3 - "$PGTRAIL_TEST_DIR/events.csv" "$PGTRAIL_TEST_DIR/kafka.json" <<'PY' || fail "Kafka does not hold every event"
import csv, json, sys
events = {int(r[0]): r[1] for r in csv.reader(open(sys.argv[1]))}
seen = {}
for line in open(sys.argv[2]):
    m = json.loads(line)
    h = m["headers"] or []
    hd = dict(zip(h[0::2], h[1::2]))
    i = int(hd["pgtrail.event_id"])
    assert i in events, f"event {i} in Kafka is not in the event table"
    assert hd["pgtrail.hash"].lower() == events[i], f"event {i}: hash differs from the table"
    seen[i] = seen.get(i, 0) + 1
missing = sorted(set(events) - set(seen))
assert not missing, f"{len(missing)} events never reached Kafka, first {missing[:5]}"
print(f"ok: all {len(events)} events in Kafka ({sum(seen.values()) - len(seen)} repeats)")
PY
eq "every change exactly once, ids gapless" \
    "SELECT count(*) || ' ' || count(DISTINCT key::text) || ' ' || max(id) FROM pgtrail.events" "3501 3500 3501"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --log-level error >"$PGTRAIL_TEST_DIR/verify.out" ||
    fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: pgtrail-verify passes"
echo "PASS"

#!/usr/bin/env bash
# test_kafka_kill9.sh BIN_DIR — kill -9 of pgtrail-capture at 6 random
# moments during a 30,000-change workload (1,500 transactions of 20 rows)
# with Kafka enabled (mock cluster), restarted each time, the last run to
# --endpos (run inside tests/harness/with_pg.sh). In the end: every event of
# the table is in Kafka at least once, with headers and payload matching
# the table; a repeat carries the same event id, key, payload, headers and
# partition as the first copy; a consumer keeping the first copy of each id
# sees each key's changes in order; the event table has each change exactly
# once, ids gapless, and the independent checker accepts the chain.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$here/../harness/testlib.sh"
. "$here/../kafka/lib.sh"

topic=pgtrail.public.t
# 8 partitions: the mock keeps only the newest ~5 MB of each partition
# (librdkafka 2.0's mock cluster prunes older messages), about 7,500 of
# these events; the offsets are checked below to start at 0, gapless
kafka_start --brokers 3 --topic "$topic" --partitions 8
dir=$KAFKA_DIR

q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning

# 750 transactions of 20 inserts, then 750 of 20 updates, ~12 s while the
# kills go on (~10 s); once the file $unpaced exists (after the last kill)
# the rest runs without the pauses (pg_stat_file: the server looks for it,
# missing_ok)
unpaced=$PGTRAIL_TEST_DIR/unpaced
pause="SELECT pg_sleep(0.008) WHERE (pg_stat_file('$unpaced', true)).size IS NULL;"
{
    for i in $(seq 0 749); do
        echo "INSERT INTO t SELECT g, 0 FROM generate_series($((i * 20 + 1)), $((i * 20 + 20))) g;"
        echo "$pause"
    done
    for i in $(seq 0 749); do
        echo "UPDATE t SET v = v + 1 WHERE id BETWEEN $((i * 20 + 1)) AND $((i * 20 + 20));"
        echo "$pause"
    done
} >"$dir/workload.sql"
psql -qX -v ON_ERROR_STOP=1 -f "$dir/workload.sql" >/dev/null &
writer=$!

kafka_opts=(--kafka-brokers "$KAFKA_BOOTSTRAP")
start_capture() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" "${kafka_opts[@]}" --batch-size 250 \
        --log-level info >>"$log" 2>&1 &
    capture=$!
}
start_capture
for kill in $(seq 1 6); do
    sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
    sleep 0.3
    kill -9 "$capture" 2>/dev/null || fail "capture died by itself before kill $kill"
    wait "$capture" 2>/dev/null || true
    echo "kill -9 number $kill at event $(q 'SELECT coalesce(max(id), 0) FROM pgtrail.events'), slot at $(q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'")"
    start_capture
done
echo "kills done with $(q "SELECT count(*) || ' rows inserted, ' || count(*) FILTER (WHERE v = 1) || ' updated' FROM t") of 15000 each"
touch "$unpaced"
wait "$writer" || fail "workload failed"
writer=""
end=$(q "SELECT pg_current_wal_lsn()")
kill -9 "$capture" 2>/dev/null || true
wait "$capture" 2>/dev/null || true
capture=""
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" "${kafka_opts[@]}" --endpos "$end" --log-level info >>"$log" 2>&1 ||
    fail "final capture run failed"
resent=$(grep -c "kafka: sending events .* again" "$log" || true)
echo "ok: final run to $end done; $resent starts sent unconfirmed events again"

got=$(q "SELECT count(*) FILTER (WHERE op = 'insert') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'insert') || ' ' ||
             count(*) FILTER (WHERE op = 'update') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'update') || ' ' ||
             count(*) || ' ' || max(id) FROM pgtrail.events")
[ "$got" = "15000 15000 15000 15000 30001 30001" ] ||
    fail "expected 15000 inserts and 15000 updates, each once, and the table's schema event, ids 1..30001; got [$got]"
[ "$(q "SELECT count(*) FROM t WHERE v <> 1")" = 0 ] || fail "workload did not finish"
echo "ok: 30000 changes in the event table, each exactly once, ids gapless"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
echo "ok: chain valid after 6 kill -9"

kafka_consume "$topic" "$dir/final.json"
psql -qX -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, commit_lsn, encode(hash, 'hex'), key::text FROM pgtrail.events WHERE op <> 'schema' ORDER BY id) TO '$dir/events.csv' CSV"
python3 - "$dir/events.csv" "$dir/final.json" <<'PY' || fail "Kafka's messages do not match the event table"
import csv, json, sys
def lsn(t):
    hi, lo = t.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
events = {int(r[0]): (lsn(r[1]), r[2], r[3]) for r in csv.reader(open(sys.argv[1]))}
seen = {}
order = {}      # (partition, key) -> event ids, first copies only, in offset order
msgs = [json.loads(line) for line in open(sys.argv[2])]
offsets = {}
for m in msgs:
    offsets.setdefault(m["partition"], []).append(m["offset"])
for part, offs in offsets.items():
    assert sorted(offs) == list(range(len(offs))), \
        f"partition {part}: offsets {min(offs)}..{max(offs)} for {len(offs)} messages (the mock pruned its log?)"
for m in sorted(msgs, key=lambda m: (m["partition"], m["offset"])):
    h = m["headers"] or []
    hd = dict(zip(h[0::2], h[1::2]))
    i = int(hd["pgtrail.event_id"])
    assert i in events, f"event {i} in Kafka is not in the event table"
    c, hsh, key = events[i]
    assert hd["pgtrail.hash"].lower() == hsh, f"event {i}: hash header {hd['pgtrail.hash']} != table {hsh}"
    p = json.loads(m["payload"])
    assert lsn(p["commit_lsn"]) == c, f"event {i}: commit_lsn differs from the table"
    assert p["id"] == i and p["hash"].lower() == hsh, f"event {i}: payload id/hash differ from the table"
    assert json.loads(m["key"]) == json.loads(key), f"event {i}: message key {m['key']} != table key {key}"
    copy = (m["key"], m["payload"], m["headers"], m["partition"])
    if i in seen:
        assert seen[i][0] == copy, f"event {i} repeated with different content:\n{seen[i][0]}\n{copy}"
        seen[i][1] += 1
    else:
        seen[i] = [copy, 1]
        order.setdefault((m["partition"], m["key"]), []).append(i)
missing = sorted(set(events) - set(seen))
assert not missing, f"{len(missing)} events never reached Kafka, first {missing[:5]}"
for (part, key), ids in order.items():
    assert ids == sorted(ids), f"key {key} (partition {part}): first copies out of order: {ids}"
repeats = sum(n - 1 for _, n in seen.values())
again = sum(1 for _, n in seen.values() if n > 1)
print(f"ok: all {len(events)} events in Kafka ({len(msgs)} messages), headers, key and payload as in the table; "
      f"{again} events sent more than once ({repeats} repeats), every repeat identical to the first copy; "
      f"first copies in per-key order")
PY
echo "PASS"

#!/usr/bin/env bash
# test_kafka_outage.sh BIN_DIR — every Kafka broker down for ~8 s in the
# middle of a 20,000-change workload (2,000 transactions of 10 rows over
# ~15 s), with pgtrail-capture publishing to the mock cluster (run inside
# tests/harness/with_pg.sh).
#
# While the brokers are down, the slot's confirmed_flush_lsn is sampled
# every 200 ms: after a 1 s grace (acknowledgements already on their way
# when the brokers went down) it must not move, while capture goes on
# writing the event table. Just before the brokers come back, capture is
# frozen (SIGSTOP) so that, with the brokers up, kcat can read exactly what
# Kafka held when the outage ended; every event whose commit_lsn is below
# the highest confirmed position sampled during the outage must be in that
# snapshot (the slot never passed what Kafka had acknowledged). Then
# capture catches up by itself: in the end every event of the table is in
# Kafka (ids 1..20000, headers and payload matching the table, a repeat
# identical to the first copy), and the event table has each change
# exactly once, chain valid.
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
slot_lsn() { q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'"; }
created=$(slot_lsn)

# wait_for WHAT SECONDS SQL: until SQL prints t
wait_for() {
    local deadline=$((SECONDS + $2))
    until [ "$(q "$3")" = t ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $2 s waiting for $1"
        kill -0 "$capture" 2>/dev/null || fail "capture exited while waiting for $1"
        sleep 0.05
    done
}

# 1,000 transactions of 10 inserts, then 1,000 of 10 updates, ~15 s in all;
# once the file $unpaced exists (after the outage and its checks) the rest
# runs without the pauses (pg_stat_file: the server looks for it, missing_ok)
unpaced=$PGTRAIL_TEST_DIR/unpaced
pause="SELECT pg_sleep(0.0075) WHERE (pg_stat_file('$unpaced', true)).size IS NULL;"
{
    for i in $(seq 0 999); do
        echo "INSERT INTO t SELECT g, 0 FROM generate_series($((i * 10 + 1)), $((i * 10 + 10))) g;"
        echo "$pause"
    done
    for i in $(seq 0 999); do
        echo "UPDATE t SET v = v + 1 WHERE id BETWEEN $((i * 10 + 1)) AND $((i * 10 + 10));"
        echo "$pause"
    done
} >"$dir/workload.sql"

# --status-interval-ms 200: the slot shows what capture confirms within
# 200 ms (not up to 10 s later): the samples below see any move at once, and
# the catch-up after the outage is seen when it happens. librdkafka's
# reconnect backoff capped at 1 s (default 10 s): after the outage the
# producer finds the brokers again within a second, not up to 10 s later
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --kafka-brokers "$KAFKA_BOOTSTRAP" --batch-size 250 \
    --status-interval-ms 200 -X reconnect.backoff.max.ms=1000 --log-level info >>"$log" 2>&1 &
capture=$!
t0=$SECONDS
psql -qX -v ON_ERROR_STOP=1 -f "$dir/workload.sql" >/dev/null &
writer=$!

# a quarter in, and Kafka has acknowledged some of it (the slot moved)
wait_for "4,000 events and a first acknowledgement" 60 \
    "SELECT (SELECT coalesce(max(id), 0) >= 4000 FROM pgtrail.events) AND
            confirmed_flush_lsn > '$created' FROM pg_replication_slots WHERE slot_name = 'pgtrail'"

kafka_down
down_at=$(date +%s.%N)
echo "ok: brokers down at event $(q 'SELECT max(id) FROM pgtrail.events'), slot at $(slot_lsn)"
# seconds since down, confirmed_flush_lsn, highest event id, highest commit_lsn in the table
samples=$dir/samples.txt
since_down() { awk -v a="$down_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
sample_sql="SELECT round((extract(epoch FROM clock_timestamp()) - $down_at)::numeric, 3), confirmed_flush_lsn, e.id, e.commit_lsn
  FROM pg_replication_slots, LATERAL (SELECT id, commit_lsn FROM pgtrail.events ORDER BY id DESC LIMIT 1) e
  WHERE slot_name = 'pgtrail';"
# every 200 ms for 8 s, from one session (a psql per sample is too slow on a busy machine)
for n in $(seq 1 40); do
    echo "$sample_sql"
    echo "SELECT pg_sleep_until(to_timestamp($down_at + $n * 0.2)) \\g /dev/null"
done | psql -qXAt -v ON_ERROR_STOP=1 >"$samples" || fail "sampling the slot failed"
kill -0 "$capture" 2>/dev/null || fail "capture exited during the outage"

# Freeze capture, bring the brokers back and read what Kafka held when the
# outage ended (capture cannot add to it while stopped), then let it go on.
kill -STOP "$capture"
q "$sample_sql" >>"$samples"
kafka_up
kafka_consume "$topic" "$dir/at_up.json" || { kill -CONT "$capture"; fail "kcat could not read $topic after kafka_up"; }
kill -CONT "$capture"
echo "ok: brokers up after $(since_down) s; $(wc -l <"$dir/at_up.json") messages in Kafka then"

# hold: after the grace, the slot stayed where it was, while the event table went on
python3 - "$samples" <<'PY' || fail "the slot's confirmed position moved while Kafka was down (samples: $(tr '\n' ' ' <"$samples"))"
import sys
def lsn(t):
    hi, lo = t.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
rows = []
for line in open(sys.argv[1]):
    t, slot, maxid, maxcommit = line.strip().split("|")
    rows.append((float(t), lsn(slot), int(maxid), lsn(maxcommit)))
late = [r for r in rows if r[0] >= 1.0]
assert len(late) >= 25, f"only {len(late)} samples after the grace"
held = late[0][1]
moved = [r for r in late if r[1] != held]
assert not moved, f"slot moved after the grace: {moved[:3]}"
first, last = late[0], late[-1]
assert last[2] - first[2] >= 2000, f"capture wrote only {last[2] - first[2]} events during the outage"
assert last[3] > held, "no event committed past the held position: the hold proves nothing"
print(f"ok: slot held at {held >> 32:X}/{held & 0xFFFFFFFF:X} for {last[0] - first[0]:.1f} s "
      f"({len(late)} samples) while the event table went from id {first[2]} to {last[2]}")
PY

touch "$unpaced"
wait "$writer" || fail "workload failed"
writer=""
end=$(q "SELECT pg_current_wal_lsn()")
wait_for "the slot to reach the end of the workload ($end) after the outage" 120 \
    "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 'pgtrail'"
echo "ok: capture caught up by itself after the outage ($((SECONDS - t0)) s after start)"
kill -TERM "$capture"
rc=0
wait "$capture" || rc=$?
capture=""
[ "$rc" = 0 ] || fail "capture exited $rc on SIGTERM"

kafka_consume "$topic" "$dir/final.json"
psql -qX -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, commit_lsn, encode(hash, 'hex') FROM pgtrail.events WHERE op <> 'schema' ORDER BY id) TO '$dir/events.csv' CSV"
python3 - "$dir/events.csv" "$dir/at_up.json" "$dir/final.json" "$samples" <<'PY' || fail "Kafka's messages do not match the event table"
import csv, json, sys
def lsn(t):
    hi, lo = t.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
events = {int(r[0]): (lsn(r[1]), r[2]) for r in csv.reader(open(sys.argv[1]))}
cmax = max(lsn(line.split("|")[1]) for line in open(sys.argv[4]))
cmax_text = f"{cmax >> 32:X}/{cmax & 0xFFFFFFFF:X}"
def read(path):
    out = []
    offsets = {}
    for line in open(path):
        m = json.loads(line)
        offsets.setdefault(m["partition"], []).append(m["offset"])
        h = m["headers"] or []
        hd = dict(zip(h[0::2], h[1::2]))
        out.append((int(hd["pgtrail.event_id"]), m, hd))
    for part, offs in offsets.items():
        assert sorted(offs) == list(range(len(offs))), \
            f"{path}: partition {part}: offsets {min(offs)}..{max(offs)} for {len(offs)} messages (the mock pruned its log?)"
    return out
# the slot never passed what Kafka had: below the highest confirmed position
# sampled during the outage, every event was in Kafka when the outage ended
at_up = {i for i, _, _ in read(sys.argv[2])}
below = [i for i, (c, _) in events.items() if c < cmax]
assert below, "no event below the confirmed position: nothing was acknowledged before the outage"
missing = sorted(set(below) - at_up)
assert not missing, (f"{len(missing)} events below the slot's confirmed position {cmax_text} were not in Kafka "
                     f"when the outage ended, first {missing[:5]}")
print(f"ok: the {len(below)} events below the highest confirmed position during the outage ({cmax_text}) "
      f"were all in Kafka when it ended ({len(at_up)} events there)")
# in the end: every event, each copy identical, matching the table
seen = {}
for i, m, hd in read(sys.argv[3]):
    assert i in events, f"event {i} in Kafka is not in the event table"
    c, hsh = events[i]
    assert hd["pgtrail.hash"].lower() == hsh, f"event {i}: hash header {hd['pgtrail.hash']} != table {hsh}"
    p = json.loads(m["payload"])
    assert lsn(p["commit_lsn"]) == c, f"event {i}: commit_lsn differs from the table"
    assert p["id"] == i and p["hash"].lower() == hsh, f"event {i}: payload id/hash differ from the table"
    copy = (m["key"], m["payload"], m["headers"], m["partition"])
    if i in seen:
        assert seen[i][0] == copy, f"event {i} repeated with different content:\n{seen[i][0]}\n{copy}"
        seen[i][1] += 1
    else:
        seen[i] = [copy, 1]
missing = sorted(set(events) - set(seen))
assert not missing, f"{len(missing)} events never reached Kafka, first {missing[:5]}"
repeats = sum(n - 1 for _, n in seen.values())
print(f"ok: all {len(events)} events in Kafka, hash/commit_lsn headers and payload as in the table; "
      f"{repeats} repeats, each identical to the first copy")
PY

got=$(q "SELECT count(*) FILTER (WHERE op = 'insert') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'insert') || ' ' ||
             count(*) FILTER (WHERE op = 'update') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'update') || ' ' ||
             count(*) || ' ' || max(id) FROM pgtrail.events")
[ "$got" = "10000 10000 10000 10000 20001 20001" ] ||
    fail "expected 10000 inserts and 10000 updates, each once, and the table's schema event, ids 1..20001; got [$got]"
[ "$(q "SELECT count(*) FROM t WHERE v <> 1")" = 0 ] || fail "workload did not finish"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
echo "ok: event table has each of the 20000 changes exactly once, chain valid"
echo "PASS"

#!/usr/bin/env bash
# test_kafka_capture.sh BIN_DIR — pgtrail-capture's Kafka sink end to end
# (issue 7's acceptance that is not about faults), run inside with_pg.sh
# against librdkafka's mock cluster (pt_mock_kafka), with kcat as the
# independent consumer.
#
# One mixed workload (composite key, a keyless table with REPLICA IDENTITY
# FULL, an unchanged TOASTed text, a key-changing update, deletes, TRUNCATE,
# rows that exist before the first start so there are snapshot events,
# multi-row transactions, unicode, context, an application message) is
# captured from the same WAL (the debezium format has its own test,
# test_debezium.sh):
#   1. native (slot pgtrail, store in the source): every event of the event
#      table arrives exactly once, on the right topic, keyed by its key, in
#      per-key order, with the right headers and a value equal to the row of
#      the event table, column for column (key/row/old/metadata byte for
#      byte); checkpoints go to an anchor topic whose messages are the anchor
#      file's lines, and pgtrail-verify accepts a file made from the topic.
#   2. a message refused for good (slot big, -X message.max.bytes=2000 and a
#      larger row): capture stops with exit 3 and a one-line error with a
#      hint, the slot is not confirmed past that transaction, a restart
#      without the limit delivers every event.
#   3. the same refusal in a first start's snapshot: the snapshot is stored
#      whole first (Kafka gets the first batch from the table after its
#      commit), then exit 3; a start without the limit sends it all.
# Each check says which code it covers: without that code it fails.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/lib.sh"

kafka_start --brokers 3
work=$KAFKA_DIR
log=$work/capture.log
dsn=$PGTRAIL_TEST_DSN
dsn_big="$dsn dbname=store_big"

openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
anchor=$work/anchor.jsonl

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE store_big;
CREATE SCHEMA app;
CREATE TABLE app.orders (region text, id int, item text, qty int, PRIMARY KEY (region, id));
CREATE TABLE app.nokey (msg text, n int);
ALTER TABLE app.nokey REPLICA IDENTITY FULL;
CREATE TABLE app.docs (id int PRIMARY KEY, title text, body text);
ALTER TABLE app.docs REPLICA IDENTITY FULL;
ALTER TABLE app.docs ALTER body SET STORAGE EXTERNAL;
CREATE TABLE app.scratch (id int PRIMARY KEY);
CREATE TABLE app."Straße" (k text PRIMARY KEY, v text);
CREATE TABLE app.blobs (id int PRIMARY KEY, data text);
-- rows that exist before the first start: snapshot events
INSERT INTO app.orders VALUES ('eu', 1, 'Zoë 日本 😀', 1), ('us', 1, 'widget', 2), ('asia', 7, 'x', 0);
INSERT INTO app.docs VALUES (1, 'intro', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g));
INSERT INTO app.scratch VALUES (1), (2);
INSERT INTO app.nokey VALUES ('old', 0);
SQL

# first starts, before the workload: each slot sees the same WAL from here;
# the snapshot events go to Kafka too
native=(--source "$dsn" --exclude-tables 'app.blobs' --messages
        --kafka-brokers "$KAFKA_BOOTSTRAP" --kafka-anchor-topic anchors.pgtrail
        --signing-key "$work/signing.pem" --anchor-file "$anchor" --checkpoint-events 7 --batch-size 5
        --log-level warning)
big=(--source "$dsn" --sink "$dsn_big" --slot big --tables 'app.blobs' --snapshot never
     --kafka-brokers "$KAFKA_BOOTSTRAP" --kafka-topic 'big.{schema}.{table}' --log-level warning)
"$bin/pgtrail-capture" "${native[@]}" --endpos 0/1 2>>"$log" || fail "native first start"
"$bin/pgtrail-capture" "${big[@]}" --endpos 0/1 2>>"$log" || fail "big first start"
echo "ok: two first starts (slots pgtrail, big)"

# ---- the workload ----
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
INSERT INTO app.orders VALUES ('eu', 2, 'naïve café', 3), ('asia', 1, '日本語 🍣', 5), ('us', 2, 'ü"\', 1);
INSERT INTO app.nokey VALUES ('first', 1), ('second', 2), ('second', 2);
COMMIT;
SQL
q "INSERT INTO app.docs VALUES (2, 'second', 'short body ✓')" >/dev/null
q "UPDATE app.docs SET title = 'intro v2' WHERE id = 1" >/dev/null
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
UPDATE app.orders SET qty = qty + 10 WHERE region = 'eu';
UPDATE app.orders SET id = 3 WHERE region = 'us' AND id = 1;
UPDATE app.nokey SET n = 20 WHERE msg = 'first';
DELETE FROM app.nokey WHERE msg = 'second';
SQL
q "DELETE FROM app.orders WHERE region = 'eu' AND id = 2" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO app."Straße" VALUES ('ä', 'ö'), ('b', 'c');
BEGIN;
SELECT FROM pgtrail.set_context('alice ✓', 'cleanup', '{"ticket": 7,  "ticket": 8}');
DELETE FROM app.docs WHERE id = 2;
UPDATE app.orders SET item = 'Zoë' WHERE region = 'eu' AND id = 1;
DELETE FROM app."Straße" WHERE k = 'ä';
COMMIT;
SELECT FROM pg_logical_emit_message(true, 'app.audit', 'hello ünïcode');
SQL
q "TRUNCATE app.scratch" >/dev/null
# many single-row transactions on a few keys: per-key order has something to keep
for i in $(seq 1 40); do
    case $((i % 4)) in
        0) echo "UPDATE app.orders SET qty = $i WHERE region = 'asia' AND id = 1;" ;;
        1) echo "UPDATE app.orders SET qty = $i WHERE region = 'us' AND id = 2;" ;;
        2) echo "UPDATE app.\"Straße\" SET v = 'v$i' WHERE k = 'b';" ;;
        3) echo "INSERT INTO app.nokey VALUES ('loop', $i);" ;;
    esac
done | psql -qX -v ON_ERROR_STOP=1
end=$(q "SELECT pg_current_wal_lsn()")

"$bin/pgtrail-capture" "${native[@]}" --endpos "$end" 2>>"$log" || fail "native capture run failed"
# (fail shows the tail of $log, the runs' stderr)
eq "native run: the workload is in the event table" \
   "SELECT count(*) > 60 AND count(*) FILTER (WHERE op = 'snapshot') = 7 AND count(*) FILTER (WHERE op = 'message') = 1 FROM pgtrail.events" "t"
echo "ok: the run reached $end"

# The event tables, one JSON line per event: every column as the expectation
# (json columns as their stored text).
export_events() {
    PGDATABASE=$1 q "SELECT json_build_object('id', id, 'lsn', lsn::text, 'commit_lsn', commit_lsn::text, 'xid', xid,
        'committed_at', to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00',
        'schema_name', schema_name, 'table_name', table_name, 'schema_version', schema_version, 'op', op,
        'key', key::text, 'row', row::text, 'old', old::text, 'unchanged', coalesce(unchanged, '{}'),
        'actor', actor, 'action', action, 'metadata', metadata::text,
        'prev_hash', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'),
        'ts_ms', floor(extract(epoch FROM committed_at) * 1000)::bigint,
        'lsn_num', (lsn - '0/0'::pg_lsn)::numeric) FROM pgtrail.events WHERE op <> 'schema' ORDER BY id" >"$2"
}
# every message of every topic whose name starts with PREFIX, one JSON line each
consume_prefix() {
    local t
    : >"$2"
    for t in $(kafka_topics | awk -v p="$1" 'index($1, p) == 1 {print $1}'); do
        kafka_consume "$t" "$work/topic.jsonl"   # (to a file: >/dev/stdout would truncate $2)
        cat "$work/topic.jsonl" >>"$2"
    done
}
export_events postgres "$work/native_events.jsonl"
consume_prefix pgtrail. "$work/native_msgs.jsonl"

cat >"$work/check.py" <<'PY'
import json, re, sys

def load(path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]

def members(s):
    """The top-level members of a JSON object text: [(name, raw value text)], in order."""
    dec, ws, out, i = json.JSONDecoder(), " \t\r\n", [], 0
    def skip(i):
        while s[i] in ws:
            i += 1
        return i
    i = skip(i)
    assert s[i] == "{", s[:40]
    i = skip(i + 1)
    while s[i] != "}":
        name, i = dec.raw_decode(s, i)
        i = skip(i)
        assert s[i] == ":"
        i = skip(i + 1)
        _, j = dec.raw_decode(s, i)
        out.append((name, s[i:j]))
        i = skip(j)
        if s[i] == ",":
            i = skip(i + 1)
    return out

def headers(m):
    h = m.get("headers") or []
    names = h[0::2]
    assert len(names) == len(set(names)), f"repeated headers {h}"
    return dict(zip(names, h[1::2]))

def topic_name(prefix, ev, other):
    if ev["table_name"] is None:
        return other
    san = lambda s: re.sub(r"[^A-Za-z0-9._-]", "_", s)
    return f"{prefix}.{san(ev['schema_name'])}.{san(ev['table_name'])}"

def common(msgs, events, prefix, other):
    """Checks that hold in both formats; returns {event id: message}."""
    byid = {e["id"]: e for e in events}
    values = [m for m in msgs if m["payload"] is not None]
    # exactly once (sink_kafka.c produce_event, one message per event; no
    # resend at a clean restart: kafka_resume)
    seen = [int(headers(m)["pgtrail.event_id"]) for m in values]
    assert sorted(seen) == sorted(byid), \
        f"event ids in Kafka {sorted(seen)} != event table ids {sorted(byid)}"
    assert len(seen) == len(set(seen)), "an event arrived twice"
    out = {}
    for m in values:
        h = headers(m)
        ev = byid[int(h["pgtrail.event_id"])]
        # headers (kafka_message.c pt_kafka_headers)
        want = {"pgtrail.event_id": str(ev["id"]), "pgtrail.lsn": ev["lsn"],
                "pgtrail.hash": ev["hash"]}
        if ev["xid"] is not None:
            want["pgtrail.xid"] = str(ev["xid"])
        if ev["schema_version"] is not None:
            want["pgtrail.schema_version"] = str(ev["schema_version"])
        assert h == want, f"event {ev['id']}: headers {h}, expected {want}"
        # topic (kafka_message.c pt_kafka_topic, other_topic)
        assert m["topic"] == topic_name(prefix, ev, other), f"event {ev['id']} ({ev['op']}) on topic {m['topic']}"
        # key: the stored key text, none for truncate/message/keyless (pt_kafka_key)
        want_key = ev["key"] if ev["op"] in ("insert", "update", "delete", "snapshot") else None
        assert m["key"] == want_key, f"event {ev['id']}: key {m['key']!r}, expected {want_key!r}"
        out[ev["id"]] = m
    # per-key order: one partition per key, offsets rising with event ids
    # (the key passed to rd_kafka_produceva, messages produced in id order)
    groups = {}
    for m in values:
        if m["key"] is not None:
            groups.setdefault((m["topic"], m["key"]), []).append(m)
    for (t, k), ms in groups.items():
        assert len({m["partition"] for m in ms}) == 1, f"{t} key {k} on several partitions"
        ids = [int(headers(m)["pgtrail.event_id"]) for m in sorted(ms, key=lambda m: m["offset"])]
        assert ids == sorted(ids), f"{t} key {k}: event ids by offset {ids}"
    assert max(len(ms) for ms in groups.values()) >= 10, "no key with many changes"
    assert len({m["partition"] for m in values if m["topic"].endswith(".orders")}) > 1, \
        "orders all on one partition: keys not spread"
    return out

def native(events_path, msgs_path):
    events, msgs = load(events_path), load(msgs_path)
    out = common(msgs, events, "pgtrail", "pgtrail._events")
    assert not [m for m in msgs if m["payload"] is None], "tombstones without --kafka-tombstones"
    cols = ["id", "lsn", "commit_lsn", "xid", "committed_at", "schema_name", "table_name",
            "schema_version", "op", "key", "row", "old", "unchanged", "actor", "action",
            "metadata", "prev_hash", "hash"]
    raw_cols = {"key", "row", "old", "metadata"}
    for ev in events:
        got = members(out[ev["id"]]["payload"])   # kafka_message.c put_native
        assert [n for n, _ in got] == cols, f"event {ev['id']}: members {[n for n, _ in got]}"
        for name, raw in got:
            if name in raw_cols:
                want = "null" if ev[name] is None else ev[name]
                assert raw == want, f"event {ev['id']} {name}: {raw!r} != stored {want!r}"
            else:
                assert json.loads(raw) == ev[name], f"event {ev['id']} {name}: {raw} != {ev[name]!r}"
    ops = {e["op"] for e in events}
    assert ops >= {"insert", "update", "delete", "truncate", "snapshot", "message"}, ops
    print(f"ok: native: {len(events)} events, each once, headers, topics, keys, per-key order, values column for column")

globals()[sys.argv[1]](*sys.argv[2:])
PY

python3 "$work/check.py" native "$work/native_events.jsonl" "$work/native_msgs.jsonl" ||
    fail "native messages differ from the event table"

# ---- the anchor topic: the anchor file's lines, and enough for pgtrail-verify
# (sink_kafka.c kafka_checkpoint) ----
kafka_consume anchors.pgtrail "$work/anchor_msgs.jsonl"
python3 - "$work/anchor_msgs.jsonl" "$anchor" "$work/anchor_from_kafka.jsonl" <<'PY' || fail "anchor topic differs from the anchor file"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
lines = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8")]
vals = [m["payload"] for m in msgs]
assert len(lines) >= 3, f"only {len(lines)} checkpoints"
assert sorted(vals) == sorted(lines), f"topic {sorted(vals)}\nfile  {sorted(lines)}"
for m in msgs:
    assert m["key"] == str(json.loads(m["payload"])["event_id"]), m
vals.sort(key=lambda v: json.loads(v)["event_id"])
open(sys.argv[3], "w", encoding="utf-8").write("".join(v + "\n" for v in vals))
print(f"ok: anchor topic holds the anchor file's {len(lines)} lines, keyed by event id")
PY
eq "every checkpoint of the table is on the anchor topic" \
   "SELECT count(*) FROM pgtrail.checkpoints" "$(wc -l <"$work/anchor_from_kafka.jsonl")"
out=$("$bin/pgtrail-verify" --events "$dsn" --full --public-key "$work/public.pem" \
      --anchor "$work/anchor_from_kafka.jsonl" --format json 2>&1) || fail "pgtrail-verify with the anchor topic's file: exit $?: $out"
python3 -c 'import json, sys; d = json.loads(sys.argv[1]); n = int(sys.argv[2])
assert d["anchors_checked"] == n and d["signatures_checked"] == n, d' "$out" "$(wc -l <"$work/anchor_from_kafka.jsonl")" ||
    fail "pgtrail-verify did not check every anchor: $out"
echo "ok: pgtrail-verify --anchor (file from the topic) --public-key exits 0"

# ---- a delivery refused for good ----
q "INSERT INTO app.blobs VALUES (1, 'small')" >/dev/null
before_big=$(q "SELECT pg_current_wal_lsn()")
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
INSERT INTO app.blobs VALUES (2, 'x');
INSERT INTO app.blobs VALUES (3, repeat('y', 5000));
COMMIT;
INSERT INTO app.blobs VALUES (4, 'after');
SQL
end2=$(q "SELECT pg_current_wal_lsn()")
rc=0
"$bin/pgtrail-capture" "${big[@]}" -X message.max.bytes=2000 --endpos "$end2" 2>"$work/big.err" || rc=$?
# an error that stops capture is a runtime error: exit 3 (sink_kafka.c produce /
# on_delivery failure, passed up by capture.c)
[ "$rc" = 3 ] || fail "a message larger than message.max.bytes: exit $rc, expected 3: $(cat "$work/big.err")"
errs=$(grep -c ': error: ' "$work/big.err" || true)
[ "$errs" = 1 ] || fail "expected one error line, got $errs: $(cat "$work/big.err")"
grep ': error: ' "$work/big.err" | grep -q 'big\.app\.blobs' || fail "the error does not name the topic: $(cat "$work/big.err")"
grep ': error: ' "$work/big.err" | grep -qi 'too large' || fail "the error does not say the message is too large: $(cat "$work/big.err")"
grep -q '^hint: .*message\.max\.bytes' "$work/big.err" || fail "no hint naming message.max.bytes: $(cat "$work/big.err")"
echo "ok: a message refused for good stops capture, exit 3, one error line naming the topic, with a hint"
# the slot holds the refused transaction (capture.c confirms only what the
# Kafka sink's durable() reports; nothing past a failed batch)
eq "the slot was not confirmed past the refused transaction" \
   "SELECT confirmed_flush_lsn <= '$before_big' FROM pg_replication_slots WHERE slot_name = 'big'" "t"
"$bin/pgtrail-capture" "${big[@]}" --endpos "$end2" 2>"$work/big2.err" ||
    fail "restart without the limit failed: $(cat "$work/big2.err")"
export_events store_big "$work/big_events.jsonl"
kafka_consume big.app.blobs "$work/big_msgs.jsonl"
python3 - "$work/big_events.jsonl" "$work/big_msgs.jsonl" <<'PY' || fail "not every event reached Kafka after the restart"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
msgs = [json.loads(l) for l in open(sys.argv[2])]
ids = {e["id"] for e in events}
assert [json.loads(e["key"])["id"] for e in events] == ["1", "2", "3", "4"], events
got = {}
for m in msgs:
    h = m["headers"]
    i = int(dict(zip(h[0::2], h[1::2]))["pgtrail.event_id"])
    assert json.loads(m["payload"])["hash"] == next(e["hash"] for e in events if e["id"] == i), m
    got.setdefault(i, []).append(m)
assert set(got) == ids, f"ids in Kafka {sorted(got)}, event table {sorted(ids)}"
big_id = next(e["id"] for e in events if json.loads(e["key"])["id"] == "3")
big = json.loads(got[big_id][0]["payload"])
assert len(big["row"]["data"]) == 5000, "the big row"
print(f"ok: after a restart without the limit every event id is in Kafka ({len(msgs)} messages, {len(ids)} events)")
PY
# (past the last stored transaction's commit: $end2 itself may lie past it, when the
# server wrote WAL of its own, a running-xacts record, before it was read)
last_commit=$(PGDATABASE=store_big q "SELECT max(commit_lsn) FROM pgtrail.events")
eq "the slot moved past everything after the restart" \
   "SELECT confirmed_flush_lsn > '$last_commit' FROM pg_replication_slots WHERE slot_name = 'big'" "t"

# 4. the same refusal in a first start's snapshot (row 3 of app.blobs is too
# large): the first batch reaches Kafka only from the event table, after its
# commit, so the snapshot is stored whole, then Kafka refuses row 3: exit 3,
# the slot kept (its snapshot is in the table); a start without the limit
# sends the whole snapshot again from the table, same ids.
snap=(--source "$dsn" --sink "$dsn_big" --slot bigsnap --schema bigsnap --tables 'app.blobs'
      --kafka-brokers "$KAFKA_BOOTSTRAP" --kafka-topic 'bigsnap.{schema}.{table}' --log-level warning)
rc=0
timeout 60 "$bin/pgtrail-capture" "${snap[@]}" -X message.max.bytes=2000 --endpos 0/1 2>"$work/snap.err" || rc=$?
[ "$rc" = 3 ] || fail "a snapshot row larger than message.max.bytes: exit $rc, expected 3: $(cat "$work/snap.err")"
grep -q '^hint: .*message\.max\.bytes' "$work/snap.err" || fail "no hint: $(cat "$work/snap.err")"
PGDATABASE=store_big eq "the snapshot is in the table" "SELECT count(*) FROM bigsnap.events WHERE op = 'snapshot'" 4
eq "the slot stays" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'bigsnap'" 1
echo "ok: a snapshot refused by Kafka: exit 3, stored whole, slot kept"
"$bin/pgtrail-capture" "${snap[@]}" --endpos 0/1 2>"$work/snap2.err" || fail "snapshot without the limit: $(cat "$work/snap2.err")"
kafka_consume bigsnap.app.blobs "$work/snap_msgs.jsonl"
python3 - "$work/snap_msgs.jsonl" <<'PY' || fail "the snapshot's messages"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
by_id = {}
for m in msgs:
    i = int(dict(zip(m["headers"][0::2], m["headers"][1::2]))["pgtrail.event_id"])
    by_id.setdefault(i, set()).add(m["payload"])
assert sorted(by_id) == [2, 3, 4, 5], sorted(by_id)  # event 1: the table's schema event, not for Kafka
assert all(len(p) == 1 for p in by_id.values()), "a repeat differs from the first copy"
assert all(json.loads(next(iter(p)))["op"] == "snapshot" for p in by_id.values())
print("ok: the snapshot reached Kafka from the table: events 2..5 (%d messages; repeats identical)" % len(msgs))
PY
echo "PASS"

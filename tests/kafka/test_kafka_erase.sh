#!/usr/bin/env bash
# test_kafka_erase.sh BIN_DIR — an erasure reaches Kafka consumers (inside
# with_pg.sh, librdkafka's mock cluster, kcat as the consumer).
#
# pgtrail-erase runs while capture publishes to Kafka. Capture finds the
# chain moved on before its next batch goes anywhere, starts its session
# again and publishes the erasure event from the store:
#   native: on the table's topic, op "erasure", its record naming the
#     erased events; every event of the store is on the topic, and no event
#     id ever came with two contents (the batch that met the erasure was
#     not sent before it was refused);
#   debezium: in pgtrail's form on the other topic (Debezium has no record
#     for it), beside the table's Debezium records.
# In both, the erased key gets a tombstone on its table's topic (native:
# with [kafka] tombstones on), in the partition of its records and after
# them, and what the store kept for it (erasure_due) is gone once Kafka
# has it. debezium: after an erasure of the email column, every other
# customer's last record is an update without the email.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/lib.sh"

kafka_start --brokers 1
work=$KAFKA_DIR
log=$work/capture.log

q "CREATE SCHEMA shop; CREATE TABLE shop.customers (id int PRIMARY KEY, name text, email text, bio text);
   CREATE TABLE shop.notes (id int PRIMARY KEY, body text);
   CREATE TABLE shop.pings (id serial PRIMARY KEY)"
insert() { q "INSERT INTO shop.customers SELECT g, 'Name ' || g, 'mail' || g || '@example.com' FROM generate_series($1, $2) g"; }
# wait until slot $2 is confirmed at the source's current position: the store and Kafka both have it all
caught_up() {
    local end
    end=$(q "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 300); do
        [ "$(q "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = '$2'")" = t ] && return 0
        sleep 0.1
    done
    fail "capture (store $1) did not catch up: $(tail -25 "$log"; q "TABLE $1.state; TABLE $1.sink_positions; SELECT max(id) FROM $1.events")"
}
run_format() { # FORMAT SCHEMA SLOT PREFIX FIRST_NEW_ID: capture with Kafka, an erasure by key in the middle
    local k=(--source "$PGTRAIL_TEST_DSN" --schema "$2" --slot "$3" --kafka-brokers "$KAFKA_BOOTSTRAP"
             --kafka-format "$1" --kafka-topic "$4.{schema}.{table}" -X other_topic="$4._events" -X tombstones=true)
    "$bin/pgtrail-capture" "${k[@]}" --endpos 0/1 --log-level warning 2>>"$log" || fail "$1: first start failed"
    "$bin/pgtrail-capture" "${k[@]}" --log-level warning --batch-size 10 2>>"$log" &
    capture=$!
    caught_up "$2" "$3"
    "$bin/pgtrail-erase" --events "$PGTRAIL_TEST_DSN" --schema "$2" --slot "$3" --table shop.customers \
        --key '{"id": 7}' --reason "art. 17" --request "GDPR-$1" --by alice --log-level warning ||
        fail "$1: pgtrail-erase failed"
    insert "$5" "$(($5 + 9))"
    caught_up "$2" "$3"
    if [ "$1" = debezium ]; then
        # customer 5's first event, not its last: nothing is owed (its row lives on)
        q "UPDATE shop.customers SET name = 'Name 5' WHERE id = 5"
        caught_up "$2" "$3"
        "$bin/pgtrail-erase" --events "$PGTRAIL_TEST_DSN" --schema "$2" --slot "$3" --reason "pasted by mistake" \
            --event "$(q "SELECT min(id) FROM $2.events WHERE table_name = 'customers' AND key->>'id' = '5'")" \
            --request T-5 --log-level warning || fail "$1: erase by event failed"
        # customer 3's last event leaves its (TOASTed) bio unchanged; customer 20 moves to key 60;
        # the notes are truncated: none of these may come back as an update
        q "UPDATE shop.customers SET bio = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g) WHERE id = 3"
        q "UPDATE shop.customers SET name = 'Name 3' WHERE id = 3"
        q "UPDATE shop.customers SET id = 60 WHERE id = 20"
        q "INSERT INTO shop.notes VALUES (1, 'note one'), (2, 'note two'); TRUNCATE shop.notes"
        caught_up "$2" "$3"
        "$bin/pgtrail-erase" --events "$PGTRAIL_TEST_DSN" --schema "$2" --slot "$3" --column shop.notes.body \
            --reason "notes are not kept" --request DPO-0 --log-level warning || fail "$1: erase of notes failed"
        "$bin/pgtrail-erase" --events "$PGTRAIL_TEST_DSN" --schema "$2" --slot "$3" --column shop.customers.email \
            --reason "emails are not kept" --request DPO-1 --log-level warning || fail "$1: erase by column failed"
        q "INSERT INTO shop.pings DEFAULT VALUES"  # capture writes, meets the erasure, sends it
        caught_up "$2" "$3"
    fi
    kill "$capture"
    wait "$capture" || fail "$1: capture ended badly: $(tail -5 "$log")"
    capture=""
    eq "$1: no seal key outlives its batch" "SELECT count(*) FROM $2.seal_keys" "0"
    eq "$1: the erased key is not kept once its tombstone is acknowledged" "SELECT count(*) FROM $2.erasure_due" "0"
}
# check_tombstone FILE: the erased key of customer 7 (Debezium's key: its payload) has a tombstone
# in the partition of its records, after all of them
check_tombstone() {
    python3 - "$1" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
def key_of(m):
    if m["key"] is None:
        return None
    k = json.loads(m["key"])
    k = k.get("payload", k) if isinstance(k, dict) and "schema" in k else k
    return {n: str(v) for n, v in k.items()}  # pgtrail's key holds the text, Debezium's the number
mine = [m for m in msgs if key_of(m) == {"id": "7"}]
records = [m for m in mine if m["payload"] is not None]
tombs = [m for m in mine if m["payload"] is None]
if not records or len(tombs) != 1:
    sys.exit(f"expected customer 7's records and one tombstone, got {len(records)} records, {len(tombs)} tombstones "
             f"(keys seen: {sorted({m['key'] for m in msgs if m['key']})[:5]})")
t = tombs[0]
if any(m["key"] != t["key"] or m["partition"] != t["partition"] or m["offset"] > t["offset"] for m in records):
    sys.exit(f"the tombstone (key {t['key']}, partition {t['partition']}, offset {t['offset']}) is not under the "
             f"key of customer 7's records, after them: {[(m['key'], m['partition'], m['offset']) for m in records]}")
print(f"ok: {sys.argv[1].rsplit('/', 1)[-1]}: the erased key's tombstone after its {len(records)} records, key {t['key']}")
PY
}

# ---- native ----
insert 1 20
run_format native pgtrail pgtrail nat 21
grep -q "the event table moved on under capture" "$log" || fail "capture never met the erasure: $(cat "$log")"
kafka_consume nat.shop.customers "$work/nat.jsonl"
q "SELECT id FROM pgtrail.events WHERE op NOT IN ('schema') ORDER BY id" > "$work/ids"
q "SELECT row::text FROM pgtrail.events WHERE op = 'erasure'" > "$work/record"
python3 - "$work/nat.jsonl" "$work/ids" "$work/record" <<'PY' || fail "native: see above"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
values = [json.loads(m["payload"]) for m in msgs if m["payload"]]
want_ids = {int(l) for l in open(sys.argv[2]) if l.strip()}
record = json.loads(open(sys.argv[3]).read())
seen = {}
for v in values:
    if seen.setdefault(v["id"], v["hash"]) != v["hash"]:
        sys.exit(f"event {v['id']} came with two contents")
erasures = [v for v in values if v["op"] == "erasure"]
if len(erasures) != 1:
    sys.exit(f"expected one erasure on the table's topic, got {len(erasures)}")
e = erasures[0]
if e["row"] != record or e["row"]["request"] != "GDPR-native" or e["actor"] != "alice":
    sys.exit(f"the erasure message differs from the store's record: {e}")
if set(seen) != want_ids:
    sys.exit(f"the topic's event ids differ from the store's: missing {sorted(want_ids - set(seen))[:5]}, "
             f"extra {sorted(set(seen) - want_ids)[:5]}")
if any("mail7@" in json.dumps(v) for v in values if v["id"] > e["id"]):
    sys.exit("an event published after the erasure still holds the erased value")
print(f"ok: native: the erasure event {e['id']} on the table's topic naming events "
      f"{[x['id'] for x in e['row']['events']]}; {len(seen)} events, each id with one content")
PY
check_tombstone "$work/nat.jsonl" || fail "native: see above"

# ---- debezium ----
run_format debezium dbzstore dbzslot dbz 31
kafka_consume dbz._events "$work/other.jsonl"
python3 - "$work/other.jsonl" <<'PY' || fail "debezium: see above"
import json, sys
values = [json.loads(json.loads(l)["payload"]) for l in open(sys.argv[1]) if json.loads(l)["payload"]]
erasures = sorted((v for v in values if v.get("op") == "erasure"), key=lambda v: v["id"])
if [e["row"]["request"] for e in erasures] != ["GDPR-debezium", "T-5", "DPO-0", "DPO-1"]:
    sys.exit(f"expected the four erasures on the other topic, got {[(v['id'], v['op']) for v in values]}")
print(f"ok: debezium: the erasure event on the other topic, naming events {[x['id'] for x in erasures[0]['row']['events']]}")
PY
kafka_consume dbz.shop.customers "$work/dbz.jsonl"
[ "$(grep -c '"op\\":\\"erasure' "$work/dbz.jsonl" || true)" = 0 ] || fail "debezium: an erasure on the table's topic"
[ "$(wc -l < "$work/dbz.jsonl")" -ge 40 ] || fail "debezium: the table's records are missing: $(wc -l < "$work/dbz.jsonl")"
echo "ok: debezium: the table's topic holds only Debezium's records"
check_tombstone "$work/dbz.jsonl" || fail "debezium: see above"
python3 - "$work/dbz.jsonl" <<'PY' || fail "debezium: see above"
import json, sys
last = {}
for m in map(json.loads, open(sys.argv[1])):
    k = json.loads(m["key"])["payload"]["id"]
    if k == 5 and m["payload"] is None:
        sys.exit("customer 5 got a tombstone for the erasure of an event that was not its last")
    if k not in last or m["offset"] > last[k]["offset"]:
        last[k] = m
wrong = []
for k, m in sorted(last.items()):
    v = m["payload"] and json.loads(m["payload"])
    v = v.get("payload", v) if v else v
    if k in (7, 20):  # erased key; key 20 moved to 60 (Debezium's delete and tombstone)
        ok = v is None
    else:
        ok = v is not None and v["op"] == "u" and v["before"] is None and v["after"]["email"] is None \
            and v["after"]["name"] == f"Name {20 if k == 60 else k}" \
            and v["after"]["bio"] == ("__debezium_unavailable_value" if k == 3 else None)
    if not ok:
        wrong.append((k, v))
if len(last) < 39 or wrong:
    sys.exit(f"{len(last)} keys; last records of keys {[k for k, _ in wrong]} not as the erasures leave them: {wrong[:2]}")
print(f"ok: debezium: of {len(last)} customers, the last record is an update without the email (customer 3's "
      f"unchanged bio as Debezium's placeholder), customer 7's and the moved key 20's a tombstone")
PY
kafka_consume dbz.shop.notes "$work/notes.jsonl"
python3 - "$work/notes.jsonl" <<'PY' || fail "debezium: see above"
import json, sys
last = {}
for m in map(json.loads, open(sys.argv[1])):
    k = json.loads(m["key"])["payload"]["id"]
    if k not in last or m["offset"] > last[k]["offset"]:
        last[k] = m
if sorted(last) != [1, 2] or any(m["payload"] is not None for m in last.values()):
    sys.exit(f"truncated notes: the last records are not tombstones: {last}")
print("ok: debezium: truncated rows whose values were erased get tombstones, not updates")
PY

# ---- [capture] withhold: no withheld value reaches Kafka either ----
wh=(--source "$PGTRAIL_TEST_DSN" --schema whstore --slot whslot --kafka-brokers "$KAFKA_BOOTSTRAP"
    --kafka-topic "wh.{schema}.{table}" -X other_topic=wh._events --withhold shop.customers.email --log-level warning)
"$bin/pgtrail-capture" "${wh[@]}" --endpos 0/1 2>>"$log" || fail "withhold: first start failed"
insert 41 45
"$bin/pgtrail-capture" "${wh[@]}" --endpos "$(q "SELECT pg_current_wal_lsn()")" 2>>"$log" || fail "withhold: capture failed"
kafka_consume wh.shop.customers "$work/wh.jsonl"
n=$(grep -c . "$work/wh.jsonl")
[ "$n" -ge 45 ] || fail "withhold: $n messages on the table's topic"
! grep -q 'example\.com' "$work/wh.jsonl" || fail "withhold: a withheld value reached Kafka: $(grep -m1 'example\.com' "$work/wh.jsonl")"
grep -q '"email\\":null' "$work/wh.jsonl" || fail "withhold: the withheld column is not in the messages as null"
kafka_consume wh._events "$work/wh_other.jsonl"
! grep -q 'erasure' "$work/wh.jsonl" "$work/wh_other.jsonl" || fail "withhold: capture's own erasure records reached Kafka"
echo "ok: withhold: $n messages on the table's topic, no withheld value among them"

# ---- an erasure of 12,000 events: each of its erasure events fits a Kafka message (1 MB by default) ----
q "CREATE TABLE shop.bulk (id int PRIMARY KEY, v text)"
bk=(--source "$PGTRAIL_TEST_DSN" --schema bulkstore --slot bulkslot --kafka-brokers "$KAFKA_BOOTSTRAP"
    --kafka-topic "bulk.{schema}.{table}" -X other_topic=bulk._events --tables 'shop.bulk' --log-level warning)
"$bin/pgtrail-capture" "${bk[@]}" --endpos 0/1 2>>"$log" || fail "bulk: first start failed"
q "INSERT INTO shop.bulk SELECT g, 'v' || g FROM generate_series(1, 12000) g"
"$bin/pgtrail-capture" "${bk[@]}" --endpos "$(q "SELECT pg_current_wal_lsn()")" 2>>"$log" || fail "bulk: capture failed"
out=$("$bin/pgtrail-erase" --events "$PGTRAIL_TEST_DSN" --schema bulkstore --slot bulkslot --column shop.bulk.v \
    --reason "bulk" --request BULK-1 --log-level warning) || fail "bulk: pgtrail-erase failed"
echo "bulk: $out"
q "INSERT INTO shop.bulk VALUES (0, 'after')"
"$bin/pgtrail-capture" "${bk[@]}" --endpos "$(q "SELECT pg_current_wal_lsn()")" 2>>"$log" ||
    fail "bulk: capture could not publish the erasure: $(tail -3 "$log")"
kafka_consume bulk.shop.bulk "$work/bulk.jsonl"
python3 - "$work/bulk.jsonl" <<'PY' || fail "bulk: see above"
import json, sys
values = [json.loads(json.loads(l)["payload"]) for l in open(sys.argv[1]) if json.loads(l)["payload"]]
parts = [v for v in values if v["op"] == "erasure"]
named = {e["id"] for p in parts for e in p["row"]["events"]}
inserts = {v["id"] for v in values if v["op"] == "insert" and v["row"]["id"] != "0"}
if len(parts) != 12 or named != inserts or len(inserts) != 12000:
    sys.exit(f"expected 12 erasure events naming the 12000 inserts, got {len(parts)} naming {len(named)} of {len(inserts)}")
print(f"ok: bulk: 12 erasure events on the topic (largest {max(len(json.dumps(p)) for p in parts)} bytes) name all 12000 events")
PY

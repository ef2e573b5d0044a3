#!/usr/bin/env bash
# test_capture.sh BIN_DIR — pgtrail-capture end to end (run inside with_pg.sh).
#
# A workload across schemas and tables: inserts, updates (one changing the
# primary key), deletes, TRUNCATE, an aborted transaction, a savepoint
# rolled back, a 2 MB TOASTed text left unchanged while another column
# changes, numeric with 40 digits, float8 -0, bigint 9007199254740993,
# bytea with every byte value, unicode, json with duplicate keys, and a
# context set with pgtrail.set_context. The events must be exactly the
# expected ones, in commit order, whole transactions contiguous, values
# byte for byte, chain valid (independent checker).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../harness/testlib.sh"

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA app;
CREATE SCHEMA "Billing Dept";
CREATE TABLE app.accounts (id int PRIMARY KEY, name text, balance numeric, f float8, big bigint,
                           data bytea, doc json, note text);
ALTER TABLE app.accounts ALTER note SET STORAGE EXTERNAL;
CREATE TABLE "Billing Dept"."Invoice Lines" (k text PRIMARY KEY, "Amount €" numeric);
CREATE TABLE app.scratch (id int PRIMARY KEY);
SQL

# first start: slot, event store, empty snapshot; then stop at once
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO app.accounts VALUES (1, 'Zoë 日本 😀', 1234567890123456789012345678901234567.890, '-0',
  9007199254740993, (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex') FROM generate_series(0, 255) g),
  '{"a": 1, "a": 2}', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 65536) g));
UPDATE app.accounts SET name = 'Zoë' WHERE id = 1;
UPDATE app.accounts SET id = 2 WHERE id = 1;
BEGIN; INSERT INTO app.scratch VALUES (1); ROLLBACK;
BEGIN; INSERT INTO app.scratch VALUES (2); SAVEPOINT s; INSERT INTO app.scratch VALUES (3);
  ROLLBACK TO s; INSERT INTO app.scratch VALUES (4); COMMIT;
INSERT INTO "Billing Dept"."Invoice Lines" VALUES ('a', 1.5), ('b"q', 2);
DELETE FROM "Billing Dept"."Invoice Lines" WHERE k = 'a';
TRUNCATE app.scratch;
BEGIN;
  SELECT pgtrail.set_context('alice@example.com', 'close-account', '{"ticket": 7, "ticket": 8}');
  INSERT INTO app.accounts (id, name) VALUES (3, 'new');
  UPDATE "Billing Dept"."Invoice Lines" SET "Amount €" = 2.50 WHERE k = 'b"q';
  DELETE FROM app.accounts WHERE id = 2;
COMMIT;
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning

expected='schema|accounts||{}
insert|accounts|{"id":"1"}|{}
update|accounts|{"id":"1"}|{note}
update|accounts|{"id":"2"}|{note}
schema|scratch||{}
insert|scratch|{"id":"2"}|{}
insert|scratch|{"id":"4"}|{}
schema|Invoice Lines||{}
insert|Invoice Lines|{"k":"a"}|{}
insert|Invoice Lines|{"k":"b\"q"}|{}
delete|Invoice Lines|{"k":"a"}|{}
truncate|scratch||{}
insert|accounts|{"id":"3"}|{}
update|Invoice Lines|{"k":"b\"q"}|{}
delete|accounts|{"id":"2"}|{}'
eq "exactly the expected events, in commit order" \
   "SELECT op || '|' || table_name || '|' || coalesce(key::text, '') || '|' || unchanged::text FROM pgtrail.events ORDER BY id" \
   "$expected"
eq "ids gapless from 1" "SELECT count(*) = max(id) AND min(id) = 1 FROM pgtrail.events" "t"
eq "commit LSNs never go back" \
   "SELECT count(*) FROM (SELECT commit_lsn < lag(commit_lsn) OVER (ORDER BY id) AS back FROM pgtrail.events) x WHERE back" "0"
eq "each transaction's events are contiguous" \
   "SELECT count(*) FROM (SELECT xid FROM (SELECT xid, xid IS DISTINCT FROM lag(xid) OVER (ORDER BY id) AS starts
    FROM pgtrail.events) x WHERE starts GROUP BY xid HAVING count(*) > 1) y" "0"
eq "numeric with 40 digits" "SELECT row->>'balance' FROM pgtrail.events WHERE id = 2" \
   "1234567890123456789012345678901234567.890"
eq "float8 -0" "SELECT row->>'f' FROM pgtrail.events WHERE id = 2" "-0"
eq "bigint beyond 2^53" "SELECT row->>'big' FROM pgtrail.events WHERE id = 2" "9007199254740993"
eq "bytea with every byte value" \
   "SELECT (row->>'data')::bytea = (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex') FROM generate_series(0, 255) g) FROM pgtrail.events WHERE id = 2" "t"
eq "unicode" "SELECT row->>'name' FROM pgtrail.events WHERE id = 2" "Zoë 日本 😀"
eq "json with duplicate keys, as written" "SELECT row->>'doc' FROM pgtrail.events WHERE id = 2" '{"a": 1, "a": 2}'
eq "2 MB text captured on insert" "SELECT length(row->>'note') FROM pgtrail.events WHERE id = 2" "2097152"
eq "unchanged TOAST is listed, not null" "SELECT row ? 'note' FROM (SELECT row::jsonb FROM pgtrail.events WHERE id = 3) x" "f"
eq "primary key change keeps the old key" "SELECT old->>'id' FROM pgtrail.events WHERE id = 4" "1"
eq "quoted identifiers" "SELECT DISTINCT schema_name FROM pgtrail.events WHERE table_name = 'Invoice Lines'" "Billing Dept"
eq "column names with spaces and symbols" "SELECT row->>'Amount €' FROM pgtrail.events WHERE id = 14" "2.50"
eq "context on the events after set_context" \
   "SELECT string_agg(id || ':' || coalesce(actor, '-') || ':' || coalesce(action, '-') || ':' || coalesce(metadata::text, '-'), ' ' ORDER BY id) FROM pgtrail.events WHERE id >= 12" \
   '12:-:-:- 13:alice@example.com:close-account:{"ticket": 7, "ticket": 8} 14:alice@example.com:close-account:{"ticket": 7, "ticket": 8} 15:alice@example.com:close-account:{"ticket": 7, "ticket": 8}'
eq "schema versions recorded" \
   "SELECT string_agg(table_name || ':' || version || ':' || array_to_string(primary_key, ','), ' ' ORDER BY table_name, version) FROM pgtrail.schemas" \
   "Invoice Lines:1:k accounts:1:id scratch:1:id"
eq "state row matches the log" \
   "SELECT last_event_id = (SELECT max(id) FROM pgtrail.events) AND last_hash = (SELECT hash FROM pgtrail.events ORDER BY id DESC LIMIT 1) FROM pgtrail.state" "t"
eq "slot confirmed up to the store" \
   "SELECT s.confirmed_flush_lsn >= t.confirmed_lsn FROM pg_replication_slots s, pgtrail.state t WHERE s.slot_name = t.slot" "t"

# a second run up to the same point adds nothing
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning
eq "restart adds no event twice" "SELECT count(*) FROM pgtrail.events" "15"

# an idle source: capture writes heartbeat messages (seen here through a
# test_decoding slot) and the slot keeps advancing; SIGTERM stops cleanly
q "SELECT 1 FROM pg_create_logical_replication_slot('watch', 'test_decoding')" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --heartbeat-interval-ms 200 --status-interval-ms 200 \
    --log-level warning &
capture=$!
sleep 1.5
before=$(q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'")
advanced=f
for _ in $(seq 1 50); do
    advanced=$(q "SELECT confirmed_flush_lsn > '$before' FROM pg_replication_slots WHERE slot_name = 'pgtrail'")
    [ "$advanced" = t ] && break
    sleep 0.2
done
[ "$advanced" = t ] || fail "the slot did not advance on an idle source"
beats=$(q "SELECT count(*) FROM pg_logical_slot_get_changes('watch', NULL, NULL) WHERE data LIKE 'message: transactional: 1 prefix: pgtrail.heartbeat%'")
[ "$beats" -ge 3 ] || fail "expected heartbeat messages every 200 ms, saw $beats"
q "SELECT pg_drop_replication_slot('watch')" >/dev/null
echo "ok: heartbeat advances the slot of an idle source"
kill -TERM "$capture"
wait "$capture" || fail "SIGTERM: capture exited with $?"
echo "ok: SIGTERM stops capture with exit 0"
eq "heartbeats are not events" "SELECT count(*) FROM pgtrail.events" "15"

# the slot vanishes (failover, someone dropped it): capture refuses to go on
# silently; --resnapshot records the hole as a gap event and copies anew
q "SELECT pg_drop_replication_slot('pgtrail')" >/dev/null
q "INSERT INTO app.accounts (id, name) VALUES (4, 'written while the slot was gone')" >/dev/null
set +e
msg=$("$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 2>&1)
rc=$?
set -e
[ "$rc" = 3 ] || fail "a vanished slot: expected exit 3, got $rc ($msg)"
case "$msg" in *'replication slot "pgtrail" has vanished'*'--resnapshot'*) ;; *) fail "vanished slot message: $msg" ;; esac
echo "ok: a vanished slot stops capture with a clear error"
set +e
msg=$("$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --resnapshot --slot other 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "--resnapshot on a never-used slot: expected exit 2, got $rc ($msg)"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --resnapshot --log-level error
eq "gap event, then a fresh snapshot of every table" \
   "SELECT string_agg(op || ':' || coalesce(table_name, '-') || ':' || coalesce(key::text, '-'), ' ' ORDER BY id) FROM pgtrail.events WHERE id > 15" \
   'gap:-:- snapshot:Invoice Lines:{"k":"b\"q"} snapshot:accounts:{"id":"3"} snapshot:accounts:{"id":"4"}'
eq "the gap says what happened" "SELECT metadata->>'reason' FROM pgtrail.events WHERE op = 'gap'" \
   "replication slot vanished (failover, or it was dropped)"

python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
echo "ok: independent checker accepts the chain"

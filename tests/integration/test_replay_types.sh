#!/usr/bin/env bash
# test_replay_types.sh BIN_DIR — a full replay rebuilds every table exactly
# (issue 5, first acceptance point; run inside tests/harness/with_pg.sh).
#
# Capture runs with --ddl on from before the first table exists. The
# workload, written under foreign session settings (TimeZone Asia/Kolkata,
# DateStyle SQL/DMY, ...), covers: numeric with 40 and with 10,000 digits,
# float8 -0 and the extremes, bigint 9007199254740993, bytea with every byte,
# unicode, json with duplicate keys and odd whitespace, jsonb, arrays with
# NULLs and non-default lower bounds, an enum (and an array of it), a
# composite type, ranges, timestamptz, interval, uuid, inet, money, a 2 MB
# TOASTed text left unchanged by later updates (also across a primary-key
# change of a row whose TOASTed numeric is not resent), a REPLICA IDENTITY
# FULL table without key holding duplicates, primary-key changes (single and
# composite), list and range partitioned tables with rows moving between
# leaves, TRUNCATE (of a table and of one leaf), stored generated and
# identity columns, a column added and another dropped between writes, a
# column added with a constant default (no rewrite, no row events), a key
# column's type changed with USING, a column added with DEFAULT
# clock_timestamp(), quoted identifiers, and a source trigger writing into
# another captured table.
#
# Then:
#  - target1 holds only the user-defined types; pgtrail-replay
#    --create-tables; every table (shape and sorted rows) equals the source;
#  - target2 is the source's pg_dump --schema-only plus a trigger of its own;
#    pgtrail-replay without --create-tables; every table equals the source,
#    and neither that trigger nor the source's trigger (restored by pg_dump)
#    fired.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"

cat >"$work/types.sql" <<'SQL'
CREATE SCHEMA app;
CREATE SCHEMA "Odd Schema";
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.pt AS (x numeric, label text);
SQL
psql -qX -v ON_ERROR_STOP=1 -f "$work/types.sql" >/dev/null

# first start: slot, event store, event trigger; then capture follows the
# whole workload
log=$work/capture.log
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture --ddl on could not start"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --log-level warning 2>>"$log" &
capture=$!

PGOPTIONS="-c TimeZone=Asia/Kolkata -c DateStyle=SQL,DMY -c IntervalStyle=sql_standard -c extra_float_digits=0 -c bytea_output=escape" \
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE app.vals (id int PRIMARY KEY, n40 numeric, n10k numeric, f float8, f4 real, big bigint,
    b bytea, u text, j json, jb jsonb, arr int[], tarr text[], m2 int[], mood app.mood, moods app.mood[],
    c app.pt, r int4range, tr tstzrange, nr numrange, ts timestamptz, tsl timestamp, d date, tm time,
    tmtz timetz, iv interval, uid uuid, ip inet, net cidr, mac macaddr, mon money, bo boolean,
    ch char(5), vc varchar(12), n72 numeric(7,2), bits bit varying(8), now_ts timestamptz);
INSERT INTO app.vals VALUES (1,
    1234567890123456789012345678901234567.890,
    (SELECT (string_agg(((g * 7) % 10)::text, '') || '.' || string_agg((g % 10)::text, ''))::numeric
       FROM generate_series(1, 5000) g),
    '-0', '3.4028235e38', 9007199254740993,
    (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex') FROM generate_series(0, 255) g),
    E'Zoë 日本 😀 "quoted" \\ back\ttab\nnewline',
    E'{"a": 1,   "a" : [2, {"b":null}],\n  "c":"\\u00e9" }',
    '{"z": 1, "a": [1, 2.50, {"k": "v"}], "n": null, "big": 12345678901234567890.000}',
    '[0:2]={1,NULL,3}', '{"a b",NULL,"q\"uote","NULL",""}', '{{1,2},{3,NULL}}',
    'happy', '{sad,NULL,ok}', ROW(1.50, 'la"bel, (x)'),
    '[1,10)', '[2024-01-01 00:00+05:30,2024-06-01 12:00+05:30)', '(,2.5]',
    '2024-03-10 02:30:00.123456', '2024-03-10 02:30:00.123456', '2024-02-29', '23:59:59.999999',
    '12:00+05:30', '1 year 2 mons -3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', 1234.56, true, 'ab', 'twelve chars',
    1.5, B'1011', clock_timestamp());
INSERT INTO app.vals (id) VALUES (2);
INSERT INTO app.vals (id, n40, f, f4, u, arr, iv, ts, mon, tr) VALUES
    (3, -0.000000000000000000000000000000000000001, '5e-324', '1e-45', '', '{}', '-00:00:01',
     '0001-01-01 00:00:00+00', -0.01, 'empty'),
    (4, 1e-5, '1.7976931348623157e308', '0.1', 'x', '[-5:-3]={7,8,9}', '100 years', '294276-12-31 23:59:59+00',
     '92233720368547758.07', '[2024-01-01,)');
UPDATE app.vals SET n40 = n40 + 1, arr = '[-5:-3]={7,NULL,9}', f = '0.1' WHERE id = 1;
UPDATE app.vals SET mood = 'sad', c = ROW(NULL, NULL), f = '-1.5e-300', b = '\x' WHERE id = 2;
-- the key changes; n10k (TOASTed) is not resent and must come along
UPDATE app.vals SET id = 10 WHERE id = 1;
SET TimeZone = 'America/St_Johns';
UPDATE app.vals SET ts = '2024-11-03 01:30:00', tsl = '2024-11-03 01:30:00' WHERE id = 4;
RESET TimeZone;

CREATE TABLE app.docs (id int PRIMARY KEY, title text, body text, n int);
ALTER TABLE app.docs ALTER body SET STORAGE EXTERNAL;
INSERT INTO app.docs VALUES (1, 't1', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 65536) g), 0),
                            (2, 'small', 'short body', 0);
UPDATE app.docs SET title = 't1 v2', n = n + 1 WHERE id = 1;
UPDATE app.docs SET n = n + 1;
BEGIN;
UPDATE app.docs SET title = 't1 v3' WHERE id = 1;
UPDATE app.docs SET title = 't1 v4', n = 10 WHERE id = 1;
COMMIT;

CREATE TABLE app.dups (a int, b text, t text);
ALTER TABLE app.dups REPLICA IDENTITY FULL;
INSERT INTO app.dups VALUES (1, 'x', 'same'), (1, 'x', 'same'), (1, 'x', 'same'), (2, 'y', NULL), (2, 'y', NULL);
UPDATE app.dups SET b = 'changed' WHERE ctid = (SELECT ctid FROM app.dups WHERE a = 1 LIMIT 1);
DELETE FROM app.dups WHERE ctid = (SELECT ctid FROM app.dups WHERE a = 2 LIMIT 1);
DELETE FROM app.dups WHERE ctid = (SELECT ctid FROM app.dups WHERE a = 1 AND b = 'x' LIMIT 1);

CREATE TABLE app.pairs (a int, b text, v text, PRIMARY KEY (a, b));
INSERT INTO app.pairs VALUES (1, 'one', 'v1'), (2, 'two', 'v2'), (5, 'five', 'v5');
UPDATE app.pairs SET b = 'uno' WHERE a = 1;
UPDATE app.pairs SET a = 3, b = 'three', v = 'v3' WHERE a = 2;
-- a key freed and reused in one transaction
BEGIN;
UPDATE app.pairs SET a = 6 WHERE a = 5;
INSERT INTO app.pairs VALUES (5, 'five', 'again');
COMMIT;

CREATE TABLE app.meas (id int, region text, v numeric, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE app.meas_eu PARTITION OF app.meas FOR VALUES IN ('eu');
CREATE TABLE app.meas_us PARTITION OF app.meas FOR VALUES IN ('us', 'ca');
CREATE TABLE app.meas_rest PARTITION OF app.meas DEFAULT;
INSERT INTO app.meas VALUES (1, 'eu', 1), (2, 'us', 2), (3, 'jp', 3), (4, 'ca', 4);
UPDATE app.meas SET region = 'us' WHERE id = 1;
UPDATE app.meas SET region = 'eu', v = 30 WHERE id = 3;
UPDATE app.meas SET v = v + 0.5 WHERE region = 'us';
DELETE FROM app.meas WHERE id = 4;

CREATE TABLE app.logs (at date, id int, msg text, PRIMARY KEY (at, id)) PARTITION BY RANGE (at);
CREATE TABLE app.logs_2023 PARTITION OF app.logs FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE app.logs_2024 PARTITION OF app.logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO app.logs VALUES ('2023-05-01', 1, 'a'), ('2023-06-01', 2, 'b'), ('2024-02-01', 3, 'c');
UPDATE app.logs SET at = '2024-05-01' WHERE id = 1;
TRUNCATE app.logs_2023;
INSERT INTO app.logs VALUES ('2023-12-31', 4, 'after the truncate');

CREATE TABLE app.scratch (id int PRIMARY KEY, v text);
INSERT INTO app.scratch VALUES (1, 'a'), (2, 'b'), (3, 'c');
TRUNCATE app.scratch;
INSERT INTO app.scratch VALUES (2, 'after');

CREATE TABLE app.items (id int PRIMARY KEY, price numeric(10,2), qty int,
                        total numeric GENERATED ALWAYS AS (price * qty) STORED);
INSERT INTO app.items (id, price, qty) VALUES (1, 9.99, 3), (2, 0.5, 10);
UPDATE app.items SET qty = 4 WHERE id = 1;

CREATE TABLE app.tickets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subject text,
                          seq int GENERATED BY DEFAULT AS IDENTITY (START WITH 50));
INSERT INTO app.tickets (subject) VALUES ('a'), ('b'), ('c');
DELETE FROM app.tickets WHERE id = 2;
INSERT INTO app.tickets (id, subject) OVERRIDING SYSTEM VALUE VALUES (100, 'forced');
UPDATE app.tickets SET subject = 'b2', seq = 7 WHERE id = 3;

CREATE TABLE app.people (id int PRIMARY KEY, name text, legacy text);
INSERT INTO app.people VALUES (1, 'ann', 'L1'), (2, 'bob', 'L2');
ALTER TABLE app.people ADD COLUMN email text;
UPDATE app.people SET email = 'ann@example.com' WHERE id = 1;
INSERT INTO app.people VALUES (3, 'cy', 'L3', 'cy@example.com');
ALTER TABLE app.people DROP COLUMN legacy;
UPDATE app.people SET name = 'bob2' WHERE id = 2;
INSERT INTO app.people (id, name) VALUES (4, 'dee');
-- a constant default: no rewrite, no row events, yet every row has it
ALTER TABLE app.people ADD COLUMN active boolean NOT NULL DEFAULT true;
UPDATE app.people SET active = false WHERE id = 4;

CREATE TABLE app.codes (code int PRIMARY KEY, label text);
INSERT INTO app.codes VALUES (1, 'one'), (2, 'two'), (3, 'three');
UPDATE app.codes SET label = 'TWO' WHERE code = 2;
ALTER TABLE app.codes ALTER code TYPE text USING 'C-' || lpad(code::text, 4, '0');
UPDATE app.codes SET label = 'uno' WHERE code = 'C-0001';
DELETE FROM app.codes WHERE code = 'C-0003';
INSERT INTO app.codes VALUES ('X-9', 'new');

ALTER TABLE app.items ADD COLUMN stamped timestamptz DEFAULT clock_timestamp();
UPDATE app.items SET qty = qty + 1 WHERE id = 2;
INSERT INTO app.items (id, price, qty) VALUES (3, 1, 1);

CREATE TABLE "Odd Schema"."Mixed Case" ("Key Col" text PRIMARY KEY, "Amount €" numeric, "select" int);
INSERT INTO "Odd Schema"."Mixed Case" VALUES ('a"b', 1.5, 1), ('Zoë', 2, NULL);
UPDATE "Odd Schema"."Mixed Case" SET "Amount €" = 2.50 WHERE "Key Col" = 'a"b';

-- a trigger in the source writes into another captured table: replay
-- must not run it again (target2 gets it from pg_dump)
CREATE TABLE app.orders (id int PRIMARY KEY, amount numeric);
CREATE TABLE app.order_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id int, what text);
CREATE TABLE app.order_lines (order_id int REFERENCES app.orders ON DELETE CASCADE, n int, qty int,
                              PRIMARY KEY (order_id, n));
CREATE FUNCTION app.log_order() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO app.order_log (order_id, what) VALUES (NEW.id, TG_OP); RETURN NEW; END$$;
CREATE TRIGGER orders_log AFTER INSERT OR UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.log_order();
INSERT INTO app.orders VALUES (1, 10), (2, 20);
INSERT INTO app.order_lines VALUES (1, 1, 5), (2, 1, 6), (2, 2, 7);
UPDATE app.orders SET amount = 11 WHERE id = 1;
DELETE FROM app.orders WHERE id = 2;

-- last of all, an update of the 2 MB row that leaves the text alone
UPDATE app.docs SET n = n + 100;
SQL

end=$(q "SELECT pg_current_wal_lsn()")
kill -TERM "$capture"
wait "$capture" || fail "capture (--ddl on) exited with $?"
capture=""
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with $?"

# the log itself, before replay reads it: DDL is on the record, and each
# rewrite is followed in its own transaction by the table's rows
eq "ddl events recorded" "SELECT count(*) > 0 FROM pgtrail.events WHERE op = 'ddl'" "t"
eq "ALTER COLUMN TYPE ... USING: re-snapshot of app.codes in the same transaction" \
   "SELECT string_agg(key->>'code', ',' ORDER BY key->>'code') FROM pgtrail.events
    WHERE op = 'snapshot' AND table_name = 'codes'
      AND xid = (SELECT xid FROM pgtrail.events WHERE op = 'ddl' AND (coalesce(row::text, '') || coalesce(metadata::text, '')) LIKE '%USING%' LIMIT 1)" \
   "C-0001,C-0002,C-0003"
eq "ADD COLUMN DEFAULT clock_timestamp(): re-snapshot of app.items in the same transaction" \
   "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot' AND table_name = 'items'
      AND xid = (SELECT xid FROM pgtrail.events WHERE op = 'ddl' AND (coalesce(row::text, '') || coalesce(metadata::text, '')) LIKE '%clock_timestamp%' LIMIT 1)" "2"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"

dump_db postgres "$work/source.dump"
grep -q '^== table app.vals$' "$work/source.dump" && grep -q '^== table "Odd Schema"."Mixed Case"$' "$work/source.dump" ||
    fail "the source dump misses tables"
[ "$(grep -c "^== table" "$work/source.dump")" = 20 ] ||
    fail "expected 20 tables in the source dump, got $(grep -c '^== table' "$work/source.dump")"

# target1: only the user-defined types; replay creates the tables
new_target target1 "$work/types.sql"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for target1)" --create-tables --log-level warning
dump_db target1 "$work/target1.dump"
same_dump "full replay with --create-tables equals the source (every table, shape and rows)" \
    "$work/source.dump" "$work/target1.dump"
eq "the 2 MB text survived the updates that left it alone" \
   "SELECT length(body) || ' ' || md5(body) FROM app.docs WHERE id = 1" \
   "$(qdb target1 "SELECT length(body) || ' ' || md5(body) FROM app.docs WHERE id = 1")"

# target2: the operator restored the source's schema with pg_dump, and
# the target has a trigger of its own
new_target target2
pg_dump --schema-only -n app -n '"Odd Schema"' postgres >"$work/schema.sql" || fail "pg_dump failed"
psql -d target2 -qX -v ON_ERROR_STOP=1 -f "$work/schema.sql" >/dev/null || fail "restoring the schema failed"
psql -d target2 -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE SCHEMA side;
CREATE TABLE side.fired (what text);
CREATE FUNCTION side.note() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO side.fired VALUES (TG_TABLE_NAME || ' ' || TG_OP); RETURN NULL; END$$;
CREATE TRIGGER note_docs AFTER INSERT OR UPDATE OR DELETE ON app.docs FOR EACH ROW EXECUTE FUNCTION side.note();
CREATE TRIGGER note_meas AFTER INSERT OR UPDATE OR DELETE ON app.meas FOR EACH ROW EXECUTE FUNCTION side.note();
CREATE TRIGGER note_scratch AFTER TRUNCATE ON app.scratch FOR EACH STATEMENT EXECUTE FUNCTION side.note();
SQL
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for target2)" --log-level warning
dump_skip_schemas=side dump_db target2 "$work/target2.dump"
same_dump "replay into a schema restored with pg_dump --schema-only equals the source" \
    "$work/source.dump" "$work/target2.dump"
[ "$(qdb target2 "SELECT count(*) FROM side.fired")" = 0 ] ||
    fail "the target's own triggers fired during replay: $(qdb target2 "SELECT string_agg(what, ', ') FROM side.fired")"
echo "ok: the target's own triggers did not fire"
eq "the source's trigger, restored by pg_dump, did not fire again in the target" \
   "SELECT string_agg(id || ':' || order_id || ':' || what, ' ' ORDER BY id) FROM app.order_log" \
   "$(qdb target2 "SELECT string_agg(id || ':' || order_id || ':' || what, ' ' ORDER BY id) FROM app.order_log")"

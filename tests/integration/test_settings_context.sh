#!/usr/bin/env bash
# test_settings_context.sh BIN_DIR — two things a writer's session must not
# change and one it must (run inside tests/harness/with_pg.sh):
#  - the same rows written under DateStyle 'SQL, DMY', TimeZone
#    'America/St_Johns' and IntervalStyle postgres_verbose give the same
#    events as under the defaults (capture pins the settings that shape text);
#  - context (pgtrail.set_context, Bemi, Sequin set/clear) lands on exactly
#    the events of its transaction after the call, and on no others.
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE TABLE t (id int PRIMARY KEY, ts timestamptz, tsz timestamp, d date, iv interval, m money,
                   f real, t time with time zone, r tstzrange, a timestamptz[])" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning

rows="'2026-01-02 03:04:05.678901+00', '2026-01-02 03:04:05', '2026-01-02', '1 day 02:03:04.5',
      12.34, 1.1, '03:04:05+02', '[2026-01-02 00:00+00, 2026-02-03 00:00+00)',
      ARRAY['2026-01-02 03:04:05+00'::timestamptz]"
q "INSERT INTO t VALUES (1, $rows)" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET DateStyle = 'SQL, DMY'; SET TimeZone = 'America/St_Johns'; SET IntervalStyle = postgres_verbose;
SET extra_float_digits = 0; SET bytea_output = 'escape';
INSERT INTO t VALUES (2, $rows);
SQL

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE c (id int PRIMARY KEY);
INSERT INTO c VALUES (10);                                                    -- no context
BEGIN; INSERT INTO c VALUES (11);                                             -- before the call
  SELECT pgtrail.set_context('bob', 'refund', '{"order": 5}');
  INSERT INTO c VALUES (12); COMMIT;                                          -- after the call
INSERT INTO c VALUES (13);                                                    -- next transaction: none
BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{"user_id": 42, "endpoint": "/pay"}');
  INSERT INTO c VALUES (14); COMMIT;
BEGIN; SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.set', '{"trace": "t-1"}');
  INSERT INTO c VALUES (15);
  SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.clear', '');
  INSERT INTO c VALUES (16); COMMIT;
BEGIN; SELECT pg_logical_emit_message(true, 'pgtrail', 'not json'); INSERT INTO c VALUES (17); COMMIT;
BEGIN; SELECT pg_logical_emit_message(true, 'myapp', E'hello\tworld'); INSERT INTO c VALUES (18); COMMIT;
SELECT pg_logical_emit_message(false, 'myapp', 'not transactional');
CREATE TABLE nokey (a int, b text);
INSERT INTO nokey VALUES (1, 'x');
UPDATE nokey SET b = 'y';
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --messages --log-level warning \
    2>"$PGTRAIL_TEST_DIR/capture.log"

eq "the writer's session settings change nothing" \
   "SELECT (SELECT row::jsonb - 'id' FROM pgtrail.events WHERE table_name = 't' AND key->>'id' = '1') =
           (SELECT row::jsonb - 'id' FROM pgtrail.events WHERE table_name = 't' AND key->>'id' = '2')" "t"
eq "timestamptz in UTC, ISO" "SELECT row->>'ts' FROM pgtrail.events WHERE key->>'id' = '2'" "2026-01-02 03:04:05.678901+00"
eq "interval in postgres style" "SELECT row->>'iv' FROM pgtrail.events WHERE key->>'id' = '2'" "1 day 02:03:04.5"
eq "real with all its digits" "SELECT row->>'f' FROM pgtrail.events WHERE key->>'id' = '2'" "1.1"
eq "money in C locale" "SELECT row->>'m' FROM pgtrail.events WHERE key->>'id' = '2'" '$12.34'
eq "context on exactly the events after the call, in its transaction" \
   "SELECT string_agg(key->>'id' || '=' || coalesce(actor, '-') || '/' || coalesce(action, '-') || '/' || coalesce(metadata::text, '-'), ' ' ORDER BY id)
    FROM pgtrail.events WHERE table_name = 'c'" \
   '10=-/-/- 11=-/-/- 12=bob/refund/{"order": 5} 13=-/-/- 14=-/-/{"user_id": 42, "endpoint": "/pay"} 15=-/-/{"trace": "t-1"} 16=-/-/- 17=-/-/{"malformed_context":"not json"} 18=-/-/-'
eq "--messages: other transactional messages are events, in place; context and non-transactional ones are not" \
   "SELECT string_agg(op || ':' || row::text, ' ' ORDER BY id) FROM pgtrail.events WHERE op = 'message' OR key->>'id' IN ('17', '18')" \
   'insert:{"id":"17"} message:{"prefix":"myapp","content":"hello\tworld"} insert:{"id":"18"}'
grep -q 'table "public.nokey" has no replica identity' "$PGTRAIL_TEST_DIR/capture.log" ||
    fail "no warning about the table without a key"
[ "$(grep -c 'nokey" has no replica identity' "$PGTRAIL_TEST_DIR/capture.log")" = 1 ] || fail "warned more than once"
eq "what PostgreSQL sends for a table without a key is still captured" \
   "SELECT string_agg(op, ' ' ORDER BY id) FROM pgtrail.events WHERE table_name = 'nokey'" "schema insert"

#!/usr/bin/env bash
# test_replay_match.sh BIN_DIR — how replay finds the row an UPDATE or
# DELETE changes (issue 16, items 1 and 7; run inside tests/harness/with_pg.sh).
#
# Item 7: a REPLICA IDENTITY FULL table without a key is matched on every
# column of the old row, in each column's type: boolean ("t" in the log,
# "true" as text), char(n) with its padding, json and point (no equality
# operator), numeric 1.50 next to 1.5 and float -0 next to 0 (equal to
# equality, different values: the row the source changed must be the one
# replay changes), timestamptz, arrays with NULLs and bounds, NULLs.
#
# The same for a table whose replica identity index the target lacks
# (--create-tables makes primary keys only): its identity columns.
#
# Item 1: keys swapped and cycled inside one transaction under a
# DEFERRABLE primary key (REPLICA IDENTITY FULL: the log has whole old
# rows), INITIALLY IMMEDIATE with SET CONSTRAINTS ALL DEFERRED and
# INITIALLY DEFERRED, the first made before capture's first start (its
# details come from the catalog when the version opens), the second with
# DDL capture on (from the DDL event trigger).
#
# Each is replayed into a pg_dump --schema-only restore and with
# --create-tables (which must make the key DEFERRABLE, INITIALLY DEFERRED
# as at the source); every table equals the source (shape, key with its
# deferrability, sorted COPY), and pgtrail-verify --drift is clean. Last,
# a swap under a deferrable key with the DEFAULT replica identity (the log
# holds only the key, so two rows share the old key in the middle of the
# transaction): replay refuses it with an error naming the event and the
# table, a detail and a hint, and writes nothing of that batch.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
log=$work/capture.log
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "setup failed"
CREATE SCHEMA app;
CREATE TABLE app.nokey (tag text, b boolean, c char(5), j json, p point, n numeric, f float8,
    ts timestamptz, arr int[], z text);
ALTER TABLE app.nokey REPLICA IDENTITY FULL;
-- rows the snapshot sees: the old rows of later changes come from it
INSERT INTO app.nokey VALUES
    ('snap', true, 'ab', '{"a" :  1}', '(1.5,2)', 1.50, -0, '2024-01-01 10:00+02', '[0:1]={1,NULL}', NULL),
    ('snap', true, 'ab', '{"a" :  1}', '(1.5,2)', 1.5, 0, '2024-01-01 10:00+02', '[0:1]={1,NULL}', NULL);
-- an identity index (boolean in it) that --create-tables does not make
CREATE TABLE app.ident (a int NOT NULL, flag boolean NOT NULL, v text);
CREATE UNIQUE INDEX ident_a_flag ON app.ident (a, flag);
ALTER TABLE app.ident REPLICA IDENTITY USING INDEX ident_a_flag;
INSERT INTO app.ident VALUES (1, true, 'x'), (1, false, 'y'), (2, true, 'z');
CREATE TABLE app.swap (id int PRIMARY KEY DEFERRABLE, v text);
ALTER TABLE app.swap REPLICA IDENTITY FULL;
INSERT INTO app.swap VALUES (1, 'one'), (2, 'two'), (5, 'five'), (4, 'four'), (7, 'seven'), (8, 'eight');
SQL

# first start: slot, event store, snapshot of the rows above; DDL capture on
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture could not start"

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "workload failed"
-- a table made with DDL capture on, its key INITIALLY DEFERRED
CREATE TABLE app.later (id int, w text, PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED);
ALTER TABLE app.later REPLICA IDENTITY FULL;
INSERT INTO app.later VALUES (1, 'a'), (2, 'b'), (3, 'c');

-- item 7: rows the stream sees, then updates and deletes of every kind of row
INSERT INTO app.nokey VALUES
    ('stream', false, 'x', '[1, 2 ]', '(0,-1)', 2.500, '-0', '2024-06-01 00:00:00.5+00', '{{1,2},{3,NULL}}', 'z'),
    ('stream', false, 'x', '[1, 2 ]', '(0,-1)', 2.5, '0', '2024-06-01 00:00:00.5+00', '{{1,2},{3,NULL}}', 'z'),
    ('dup', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('dup', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE app.nokey SET tag = 'changed' WHERE n::text = '1.50';
UPDATE app.nokey SET tag = 'changed too' WHERE f::text = '-0' AND tag = 'stream';
UPDATE app.nokey SET z = 'was null' WHERE tag = 'dup' AND ctid = (SELECT min(ctid) FROM app.nokey WHERE tag = 'dup');
DELETE FROM app.nokey WHERE n::text = '2.5';
UPDATE app.nokey SET b = NOT b, c = 'cd', p = '(9,9)' WHERE n::text = '1.5';

UPDATE app.ident SET v = v || '!' WHERE a = 1;
DELETE FROM app.ident WHERE a = 2;

-- item 1: a swap under SET CONSTRAINTS ALL DEFERRED
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE app.swap SET id = 3 - id WHERE id IN (1, 2);
COMMIT;
-- a cycle 4 -> 100, 5 -> 4, 100 -> 5 in one statement and one more: the
-- rows are stored 5 before 4, so 5 -> 4 comes first and two rows hold 4
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE app.swap SET id = CASE id WHEN 4 THEN 100 WHEN 5 THEN 4 END WHERE id IN (4, 5);
UPDATE app.swap SET id = 5 WHERE id = 100;
COMMIT;
-- a swap whose rows are equal but for the key, then one deleted mid-way
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE app.swap SET v = 'same' WHERE id IN (7, 8);
UPDATE app.swap SET id = 15 - id WHERE id IN (7, 8);
DELETE FROM app.swap WHERE id = 7;
INSERT INTO app.swap VALUES (7, 'back');
COMMIT;
-- INITIALLY DEFERRED: no SET CONSTRAINTS needed
UPDATE app.later SET id = CASE id WHEN 1 THEN 3 WHEN 3 THEN 1 ELSE id END;
UPDATE app.later SET w = w || '!' WHERE id = 1;
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with an error"

eq "the version of app.swap records its key as DEFERRABLE (from the catalog)" \
   "SELECT string_agg(DISTINCT details->>'primary_key_deferrable', ',') FROM pgtrail.schemas WHERE table_name = 'swap'" "immediate"
eq "the version of app.later records its key as INITIALLY DEFERRED (from the DDL event trigger)" \
   "SELECT string_agg(DISTINCT details->>'primary_key_deferrable', ',') FROM pgtrail.schemas WHERE table_name = 'later'" "deferred"
eq "a table without a deferrable key has no such field" \
   "SELECT count(*) FROM pgtrail.schemas WHERE table_name = 'nokey' AND details::text LIKE '%deferrable%'" "0"

dump_db postgres "$work/source.dump"

# into the source's schema, restored with pg_dump
new_target restored
pg_dump --schema-only -n app postgres >"$work/schema.sql" || fail "pg_dump failed"
psql -d restored -qX -v ON_ERROR_STOP=1 -f "$work/schema.sql" >/dev/null || fail "restore failed"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for restored)" --log-level warning
dump_db restored "$work/restored.dump"
same_dump "replay into a pg_dump --schema-only restore equals the source (no-key rows of every type, swaps, cycle)" \
    "$work/source.dump" "$work/restored.dump"

# with --create-tables: the keys are made DEFERRABLE as at the source
new_target created
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for created)" --create-tables --log-level warning
dump_db created "$work/created.dump"
same_dump "replay with --create-tables equals the source (keys DEFERRABLE, INITIALLY DEFERRED as there)" \
    "$work/source.dump" "$work/created.dump"
grep -q "PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED" "$work/created.dump" ||
    fail "app.later's key is not INITIALLY DEFERRED in the target"

# verify --drift replays into a scratch database the same way
set +e
"$bin/pgtrail-verify" --drift --source "$PGTRAIL_TEST_DSN" --events "$PGTRAIL_TEST_DSN" --drift-wait-s 0 \
    --format json >"$work/drift.json" 2>"$work/drift.err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "verify --drift exited with $rc: $(head -c 2000 "$work/drift.err") $(head -c 2000 "$work/drift.json")"
[ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["drift_rows"])' "$work/drift.json")" = 0 ] ||
    fail "verify --drift found drift: $(cat "$work/drift.json")"
echo "ok: verify --drift is clean"

# the DEFAULT replica identity under a deferrable key: PostgreSQL cannot
# use a deferrable key as replica identity, so it decodes no UPDATE or
# DELETE of such a table at all (a server WARNING); a swap there never
# reaches the log, and REPLICA IDENTITY FULL is the way (OPERATIONS.md)
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "key-only swap failed"
CREATE TABLE app.keyonly (id int PRIMARY KEY DEFERRABLE, v text);
INSERT INTO app.keyonly VALUES (1, 'one'), (2, 'two');
UPDATE app.keyonly SET id = 3 - id WHERE id IN (1, 2);
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with an error"
eq "a deferrable key with the DEFAULT replica identity: PostgreSQL sends no update" \
   "SELECT count(*) FROM pgtrail.events WHERE table_name = 'keyonly' AND op IN ('update', 'delete')" "0"

# a row the target lost outside replay: the error names the event, the
# table and how the row was looked for, and no other table's rows of the
# batch are written
qdb created "DELETE FROM app.nokey WHERE tag = 'changed'" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "last workload failed"
INSERT INTO app.swap VALUES (50, 'before');
UPDATE app.nokey SET z = 'gone in the target' WHERE tag = 'changed';
INSERT INTO app.swap VALUES (51, 'after');
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with an error"
lost=$(q "SELECT max(id) FROM pgtrail.events WHERE table_name = 'nokey' AND op = 'update'")
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for created)" --create-tables --log-level warning
[ "$rc" = 1 ] || fail "a row lost in the target: replay exited with $rc, expected 1: $(cat "$err_file")"
grep -q "event $lost: UPDATE 0 changed 0 rows in \"app\".\"nokey\", expected 1" "$err_file" ||
    fail "a row lost in the target: the error does not name the event and table: $(cat "$err_file")"
grep -q "every column of the old row is compared" "$err_file" && grep -q "changed outside replay" "$err_file" ||
    fail "a row lost in the target: no detail or hint: $(cat "$err_file")"
[ "$(qdb created "SELECT count(*) FROM app.swap WHERE id >= 50")" = 0 ] ||
    fail "a row lost in the target: rows of the failed batch were written"
echo "ok: a row the target lost: exit 1 naming the event, the table and the match, nothing of the batch written"

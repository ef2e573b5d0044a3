#!/usr/bin/env bash
# test_replay_jobs.sh BIN_DIR — replay --jobs N writes a window's tables on
# N target connections (replay/window_jobs.h), and the target still equals
# the source (run inside tests/harness/with_pg.sh).
#
# 1. A log of four tables (three large, one small), with a DDL event, a
#    TRUNCATE and a table created mid-log, replayed with --create-tables,
#    --jobs 3 and windows of 1 MB (many windows; batches with DDL go on one
#    connection): equals the source, says so, and the other connections
#    committed tables with positions of their own (table_positions).
# 2. A window whose second-largest table (written by another connection)
#    holds a swap of a UNIQUE column, which one set-based UPDATE cannot do:
#    that connection fails and rolls back, the third connection has
#    committed its table; the window goes again in order, skipping the
#    committed table's events (applied again, its inserts would collide),
#    and the target equals the source.
# 3. A window the target does not fit at all (a stray row in the target
#    under a key the log inserts, in the table the first connection
#    writes): the other connection commits its table, replay stops naming
#    the event (exit 1) with the position before the window; once the
#    stray row is gone, the next run reads that table's own position and
#    does not apply its events again, as after a kill -9 between the
#    connections' commits. Before that, a run asked to stop between the
#    position and that table's own position is refused (exit 2): the table
#    is already past the stop point.
# 4. A batch whose first change the window refuses (a key change of a row
#    with an unchanged TOAST value: applied on its own, on the first
#    connection) is written on one connection: another connection writing
#    the same table would wait for the first one's row lock (the key the
#    change freed, inserted again) while the first waits for it.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
# capture everything written so far
capture_now() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$(q "SELECT pg_current_wal_lsn()")" \
        --log-level warning || fail "capture --endpos exited with $?"
}

q "CREATE SCHEMA app"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --snapshot never --endpos 0/1 --log-level warning ||
    fail "capture could not set up"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the workload failed"
CREATE TABLE app.a (id int PRIMARY KEY, v int NOT NULL, note text);
CREATE TABLE app.b (id bigint PRIMARY KEY, v int NOT NULL, note text);
CREATE TABLE app.c (k text PRIMARY KEY, v numeric);
CREATE TABLE app.d (id int PRIMARY KEY, v int);
DO $$
BEGIN
  FOR i IN 0..99 LOOP
    INSERT INTO app.a SELECT g, 0, 'a' || g FROM generate_series(i * 100 + 1, i * 100 + 100) g;
    INSERT INTO app.b SELECT g, 0, repeat('b', 200) FROM generate_series(i * 60 + 1, i * 60 + 60) g;
    INSERT INTO app.c SELECT 'k' || g, g / 7.0 FROM generate_series(i * 30 + 1, i * 30 + 30) g;
    INSERT INTO app.d VALUES (i, i);
    COMMIT;
  END LOOP;
  FOR i IN 0..49 LOOP
    UPDATE app.a SET v = v + 1 WHERE id % 50 = i;
    UPDATE app.b SET v = v + 1, note = 'u' || i WHERE id % 50 = i;
    DELETE FROM app.c WHERE k = 'k' || (i * 40 + 1);
    UPDATE app.d SET v = v * 2 WHERE id = i;
    COMMIT;
  END LOOP;
END $$;
ALTER TABLE app.b ADD COLUMN extra text DEFAULT 'x';
UPDATE app.b SET extra = 'after ' || id WHERE id % 3 = 0;
TRUNCATE app.d;
INSERT INTO app.d SELECT g, g FROM generate_series(1, 20) g;
CREATE TABLE app.e (id int PRIMARY KEY, v text);
INSERT INTO app.e SELECT g, 'e' || g FROM generate_series(1, 3000) g;
UPDATE app.a SET note = NULL WHERE id % 7 = 0;
DELETE FROM app.b WHERE id % 11 = 0;
SQL
capture_now
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'truncate'")" = 1 ] || fail "the log has no truncate event"
dump_skip_schemas=public dump_db postgres "$work/source.dump"

new_target j1
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j1)" --create-tables --jobs 3 --window-mb 1 \
    --log-level info
dump_skip_schemas=public dump_db j1 "$work/j1.dump"
same_dump "replay --jobs 3 equals the source" "$work/source.dump" "$work/j1.dump"
grep -q -- "--jobs 3: windows written on 3 target connections" "$err_file" ||
    fail "replay --jobs 3 did not say it wrote on 3 connections: $(cat "$err_file")"
lanes=$(qdb j1 "SELECT count(*) FROM pgtrail_replay.table_positions WHERE last_event_id > 0")
[ "$lanes" -ge 2 ] || fail "the other connections committed $lanes tables: the windows went on one connection: $(grep -v "^$" "$err_file" | tail -5)"
echo "ok: --jobs 3 equals the source; $lanes tables were committed by the other connections"

# --clean forgets the connections' positions with the rest
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j1)" --create-tables --clean --log-level warning
[ "$(qdb j1 "SELECT count(*) FROM pgtrail_replay.table_positions")" = 0 ] ||
    fail "--clean left the --jobs positions behind"
dump_skip_schemas=public dump_db j1 "$work/j1.dump"
same_dump "replay --clean after --jobs equals the source" "$work/source.dump" "$work/j1.dump"

# 2: the unique swap, on the second of three connections
q "CREATE SCHEMA u;
   CREATE TABLE u.big (id int PRIMARY KEY, v int);
   CREATE TABLE u.uq (id int PRIMARY KEY, email text UNIQUE, n int);
   CREATE TABLE u.mid (id int PRIMARY KEY, v int)" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the second workload failed"
INSERT INTO u.big SELECT g, 0 FROM generate_series(1, 3000) g;
INSERT INTO u.uq SELECT g, 'user' || g || '@example.org', 0 FROM generate_series(1, 1000) g;
INSERT INTO u.mid SELECT g, 0 FROM generate_series(1, 500) g;
SQL
capture_now
split=$(q "SELECT max(id) FROM pgtrail.events")
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the second workload failed"
UPDATE u.big SET v = 1;
BEGIN;
UPDATE u.uq SET n = 1;
UPDATE u.uq SET email = 'tmp' WHERE id = 1;
UPDATE u.uq SET email = 'user1@example.org' WHERE id = 2;
UPDATE u.uq SET email = 'user2@example.org' WHERE id = 1;
COMMIT;
INSERT INTO u.mid SELECT g, 1 FROM generate_series(501, 1000) g;
UPDATE u.mid SET v = 2 WHERE id <= 250;
SQL
capture_now
new_target j2
pg_dump --schema-only -n u postgres | psql -qX -v ON_ERROR_STOP=1 -d j2 >/dev/null || fail "could not restore u"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j2)" --tables 'u.*' --until-event "$split"
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j2)" --tables 'u.*' --jobs 3 --log-level info
[ "$rc" = 0 ] || fail "replay --jobs 3 of the unique swap: exit $rc: $(cat "$err_file")"
grep -q "go again one by one: .*duplicate key" "$err_file" ||
    fail "the unique swap did not send its window back to one statement per change: $(cat "$err_file")"
[ "$(qdb j2 "SELECT count(*) FROM pgtrail_replay.table_positions WHERE table_name = 'mid'")" = 1 ] ||
    fail "u.mid was not committed by a connection of its own before the window went again"
[ "$(qdb j2 "SELECT count(*) FROM pgtrail_replay.table_positions WHERE table_name = 'uq'")" = 0 ] ||
    fail "u.uq has a position of its own although its connection failed"
dump_skip_schemas="public app" dump_db j2 "$work/j2.dump"
dump_skip_schemas="public app" dump_db postgres "$work/source_u.dump"
same_dump "replay --jobs 3 through a failed connection equals the source" "$work/source_u.dump" "$work/j2.dump"
echo "ok: a connection that failed rolled back; the committed one's events were not applied again"

# 3: stopped between the connections' commits, then run again
q "CREATE SCHEMA s;
   CREATE TABLE s.big (id int PRIMARY KEY, v int);
   CREATE TABLE s.mid (id int PRIMARY KEY, v int)" >/dev/null
capture_now
split=$(q "SELECT max(id) FROM pgtrail.events")
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the third workload failed"
INSERT INTO s.big SELECT g, 0 FROM generate_series(1, 3000) g;
INSERT INTO s.mid SELECT g, 0 FROM generate_series(1, 500) g;
UPDATE s.mid SET v = 1 WHERE id <= 100;
SQL
capture_now
new_target j3
pg_dump --schema-only -n s postgres | psql -qX -v ON_ERROR_STOP=1 -d j3 >/dev/null || fail "could not restore s"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j3)" --tables 's.*' --until-event "$split"
qdb j3 "INSERT INTO s.big VALUES (1500, -1)" >/dev/null
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j3)" --tables 's.*' --jobs 2 --log-level info
[ "$rc" = 1 ] || fail "replay into a target with a stray row: exit $rc, expected 1: $(cat "$err_file")"
grep -q "error: .*duplicate key" "$err_file" || fail "replay did not name the stray row's key: $(cat "$err_file")"
[ "$(qdb j3 "SELECT last_event_id FROM pgtrail_replay.position")" = "$split" ] ||
    fail "the position moved although the window failed"
[ "$(qdb j3 "SELECT count(*) FROM s.mid")" = 500 ] || fail "s.mid was not committed by its own connection"
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j3)" --tables 's.*' --until-event "$((split + 10))"
[ "$rc" = 2 ] || fail "a stop point before s.mid's own position: exit $rc, expected 2: $(cat "$err_file")"
grep -q 'error: table "s"."mid" in the target is at event .*, past the stop point' "$err_file" ||
    fail "the refusal does not name s.mid: $(cat "$err_file")"
qdb j3 "DELETE FROM s.big WHERE v = -1" >/dev/null
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j3)" --tables 's.*' --log-level info
[ "$rc" = 0 ] || fail "replay after the stray row went: exit $rc: $(cat "$err_file")"
grep -q "1 tables were written past the position" "$err_file" ||
    fail "the next run did not say it found s.mid past the position: $(cat "$err_file")"
[ "$(qdb j3 "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM s.mid")" = \
  "$(qdb postgres "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM s.mid")" ] ||
    fail "s.mid differs from the source after the second run"
[ "$(qdb j3 "SELECT count(*) || ' ' || sum(v) FROM s.big")" = "$(qdb postgres "SELECT count(*) || ' ' || sum(v) FROM s.big")" ] ||
    fail "s.big differs from the source after the second run"
echo "ok: stopped between the connections' commits, the next run applied nothing twice"

# 4: a refused change first in the batch, then its table shared out
q "CREATE SCHEMA r;
   CREATE TABLE r.huge (id int PRIMARY KEY, v int);
   CREATE TABLE r.tst (id int PRIMARY KEY, v int, big text);
   ALTER TABLE r.tst ALTER big SET STORAGE EXTERNAL;
   INSERT INTO r.huge SELECT g, 0 FROM generate_series(1, 3000) g;
   INSERT INTO r.tst SELECT g, 0, repeat('x', 3000) || g FROM generate_series(1, 1000) g" >/dev/null
capture_now
split=$(q "SELECT max(id) FROM pgtrail.events")
q "UPDATE r.tst SET id = 5000 WHERE id = 1" >/dev/null
q "INSERT INTO r.tst VALUES (1, 0, 'new')" >/dev/null
q "UPDATE r.tst SET v = 1 WHERE id BETWEEN 2 AND 400" >/dev/null
q "UPDATE r.huge SET v = 1" >/dev/null
capture_now
new_target j4
pg_dump --schema-only -n r postgres | psql -qX -v ON_ERROR_STOP=1 -d j4 >/dev/null || fail "could not restore r"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j4)" --tables 'r.*' --until-event "$split"
set +e
timeout -k 5 120 "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for j4)" --tables 'r.*' --jobs 2 \
    --log-level warning 2>"$work/j4.err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "replay --jobs 2 after a refused change: exit $rc (124 or 137: it hung): $(cat "$work/j4.err")"
for t in huge tst; do
    [ "$(qdb j4 "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM r.$t t")" = \
      "$(qdb postgres "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM r.$t t")" ] || fail "r.$t differs from the source"
done
echo "ok: a batch with a change applied on its own was written on one connection, and equals the source"
echo "PASS"

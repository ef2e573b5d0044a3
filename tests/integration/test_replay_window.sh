#!/usr/bin/env bash
# test_replay_window.sh BIN_DIR — replay's windows (replay/window.h) close
# around what cannot be collapsed, and the target still equals the source
# (run inside tests/harness/with_pg.sh).
#
# One log (capture --ddl on) whose changes all fall in one window (one
# batch) holds, beside plain inserts, updates and deletes that collapse:
#   - a key swap under a DEFERRABLE key (UPDATE ... SET id = 11 - id; the
#     table is REPLICA IDENTITY FULL, as such a key cannot identify rows), and
#     its swap back through other keys: such a table is never collapsed;
#   - updates of rows that were there before, with an unchanged TOAST
#     column; a delete and re-insert of the same keys; an insert and delete
#     that leave nothing; key changes with every column (collapsed) and
#     with an unchanged TOAST column (refused: applied on its own);
#   - a swap of a UNIQUE (not key) column through a temporary value: one
#     set-based UPDATE cannot do it, so the window is replayed in order
#     (into a restored schema, which has the unique index, the rows
#     replayed up to the swap first);
#   - a TRUNCATE between inserts; a rewrite (ALTER COLUMN TYPE ... USING,
#     re-snapshot) between updates;
#   - tables created (and altered) that never get a row, in a batch whose
#     window the target then refuses: replayed again, they are still made.
# Replayed with --create-tables once with windows and once with every
# change a statement (--window-mb 0), and by a role that may not make
# temporary tables (windows off, with a warning): every target equals the
# source, and the first says its windows collapsed changes; a window the
# target refuses goes again in order.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR

q "CREATE SCHEMA app"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --snapshot never --endpos 0/1 --log-level warning ||
    fail "capture could not set up"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the workload failed"
CREATE TABLE app.swap (id int PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, v text);
ALTER TABLE app.swap REPLICA IDENTITY FULL;
CREATE TABLE app.plain (id int PRIMARY KEY, v text, big text, n numeric);
ALTER TABLE app.plain ALTER big SET STORAGE EXTERNAL;
CREATE TABLE app.uq (id int PRIMARY KEY, email text UNIQUE);
CREATE TABLE app.rw (id int PRIMARY KEY, amount int);
INSERT INTO app.swap SELECT g, 'swap ' || g FROM generate_series(1, 10) g;
INSERT INTO app.plain SELECT g, 'v' || g, repeat('x', 3000) || g, g FROM generate_series(1, 1000) g;
INSERT INTO app.uq VALUES (1, 'a@example.org'), (2, 'b@example.org');
INSERT INTO app.rw SELECT g, g FROM generate_series(1, 50) g;
CREATE TABLE app.empty (id int PRIMARY KEY, v text);
CREATE TABLE app.side (id int PRIMARY KEY);
ALTER TABLE app.side ADD COLUMN c int;
BEGIN;
UPDATE app.plain SET v = v || '!' WHERE id <= 500;
UPDATE app.swap SET id = 11 - id;
INSERT INTO app.plain VALUES (2001, 'new', 'small', 1.50);
COMMIT;
UPDATE app.plain SET n = n + 1 WHERE id BETWEEN 250 AND 750;
DELETE FROM app.plain WHERE id BETWEEN 990 AND 1000;
INSERT INTO app.plain SELECT g, 'again', 'b' || g, g FROM generate_series(995, 1005) g;
UPDATE app.plain SET id = id + 10000 WHERE id BETWEEN 1 AND 5;
UPDATE app.plain SET id = id + 20000, big = 'moved' WHERE id BETWEEN 6 AND 8;
UPDATE app.plain SET id = id + 1 WHERE id = 2001;
INSERT INTO app.plain VALUES (3000, 'short-lived', 'x', 0);
DELETE FROM app.plain WHERE id = 3000;
BEGIN;
UPDATE app.uq SET email = 'tmp' WHERE id = 1;
UPDATE app.uq SET email = 'a@example.org' WHERE id = 2;
UPDATE app.uq SET email = 'b@example.org' WHERE id = 1;
COMMIT;
INSERT INTO app.rw SELECT g, g FROM generate_series(51, 60) g;
TRUNCATE app.rw;
INSERT INTO app.rw VALUES (1, 100), (2, 200);
UPDATE app.rw SET amount = amount + 1;
ALTER TABLE app.rw ALTER amount TYPE bigint USING amount * 10;
UPDATE app.rw SET amount = amount + 1 WHERE id = 1;
INSERT INTO app.rw VALUES (3, 7);
BEGIN;
UPDATE app.swap SET id = id + 100;
UPDATE app.swap SET id = id - 100 WHERE id > 105;
COMMIT;
UPDATE app.swap SET v = v || '?' WHERE id < 4;
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$(q "SELECT pg_current_wal_lsn()")" \
    --log-level warning || fail "capture --endpos exited with $?"
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'ddl' AND row->>'rewrite' = 'true'")" = 1 ] ||
    fail "the log has no rewrite event"
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'truncate'")" = 1 ] || fail "the log has no truncate event"
dump_skip_schemas=public dump_db postgres "$work/source.dump"

# one window for the whole log (the default batch); windows of a few
# transactions (--batch-size 40: mostly few rows each, written as statements); and
# the log replayed up to its first update, then on: the second run's window
# meets hundreds of rows the first wrote (DELETE ... USING and UPDATE ...
# FROM through staging tables)
first_update=$(q "SELECT min(id) FROM pgtrail.events WHERE op = 'update'")
for mode in whole small split; do
    new_target "w1_$mode"
    args=(--events "$PGTRAIL_TEST_DSN" --target "$(dsn_for "w1_$mode")" --create-tables --log-level info)
    case $mode in
        small) args+=(--batch-size 40) ;;
        split) replay_ok "${args[@]}" --until-event "$((first_update - 1))" ;;
    esac
    replay "${args[@]}"
    [ "$rc" = 0 ] || fail "replay with windows ($mode): exit $rc: $(cat "$err_file")"
    dump_skip_schemas=public dump_db "w1_$mode" "$work/w1.dump"
    same_dump "replay with windows ($mode) equals the source" "$work/source.dump" "$work/w1.dump"
    line=$(grep "net effect: " "$err_file") || fail "replay ($mode) did not say what its windows did: $(cat "$err_file")"
    set -- $(echo "$line" | sed -n 's/.*net effect: \([0-9]*\) row changes collapsed in windows into \([0-9]*\) rows written, \([0-9]*\) of them set-based.*/\1 \2 \3/p')
    [ $# = 3 ] || fail "replay ($mode): unreadable figures: $line"
    [ "$2" -lt "$1" ] || fail "replay ($mode): the windows wrote $2 rows for $1 changes: nothing collapsed"
    case $mode in
        small) [ "$3" -lt "$2" ] || fail "replay (small): every row went through staging tables: $line" ;;
        *) [ "$3" -gt 750 ] || fail "replay ($mode): only $3 rows set-based: $line" ;;
    esac
    echo "ok: $mode: the windows took $1 changes and wrote $2 rows, $3 of them set-based"
done
new_target w0
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for w0)" --create-tables --window-mb 0 --log-level info
[ "$rc" = 0 ] || fail "replay without windows: exit $rc: $(cat "$err_file")"
! grep -q "net effect" "$err_file" || fail "--window-mb 0 still used windows"
dump_skip_schemas=public dump_db w0 "$work/w0.dump"
same_dump "replay without windows equals the source" "$work/source.dump" "$work/w0.dump"
# a target role that may not make temporary tables: windows off, said, and the same result
new_target w3
q "REVOKE TEMPORARY ON DATABASE w3 FROM PUBLIC; CREATE ROLE replayer LOGIN;
   GRANT CREATE ON DATABASE w3 TO replayer; GRANT SET ON PARAMETER session_replication_role TO replayer" >/dev/null
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for w3) user=replayer" --create-tables --batch-size 40 \
    --log-level info
[ "$rc" = 0 ] || fail "replay without TEMPORARY: exit $rc: $(cat "$err_file")"
grep -q "warning: windows are off for this run: .*GRANT TEMPORARY ON DATABASE" "$err_file" ||
    fail "replay without TEMPORARY did not say its windows are off: $(cat "$err_file")"
dump_skip_schemas=public dump_db w3 "$work/w3.dump"
same_dump "replay by a role without TEMPORARY equals the source" "$work/source.dump" "$work/w3.dump"

# the unique swap: app.uq's schema restored, its rows replayed up to the swap, then on to the end
before=$(q "SELECT min(id) - 1 FROM pgtrail.events WHERE table_name = 'uq' AND op = 'update'")
new_target w2
qdb w2 "CREATE SCHEMA app" >/dev/null
pg_dump --schema-only -t app.uq postgres | psql -qX -v ON_ERROR_STOP=1 -d w2 >/dev/null || fail "could not restore app.uq"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for w2)" --tables app.uq --until-event "$before"
replay --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for w2)" --tables app.uq --log-level info
[ "$rc" = 0 ] || fail "replay of the unique swap: exit $rc: $(cat "$err_file")"
grep -q "go again one by one: .*duplicate key" "$err_file" ||
    fail "the unique swap did not send its window back to one statement per change: $(cat "$err_file")"
[ "$(qdb w2 "SELECT string_agg(id || '=' || email, ' ' ORDER BY id) FROM app.uq")" = \
  "$(qdb postgres "SELECT string_agg(id || '=' || email, ' ' ORDER BY id) FROM app.uq")" ] ||
    fail "app.uq after the unique swap differs from the source"
echo "ok: a window the target refused (a unique swap) went again in order, and equals the source"
echo "PASS"

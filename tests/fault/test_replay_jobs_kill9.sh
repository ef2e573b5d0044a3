#!/usr/bin/env bash
# test_replay_jobs_kill9.sh BIN_DIR — kill -9 of pgtrail-replay --jobs 3 at 8
# random moments while it replays a log of three tables (262,000 changes,
# 90-row source transactions touching all three), restarted each time: a
# kill between the connections' commits leaves tables past the position
# (replay/window_jobs.h); the target must still end equal to the source and
# to one uninterrupted replay, the position always at a source transaction
# boundary (run inside with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/../integration/replay/lib.sh"
. "$here/replay_kill.sh"
work=$PGTRAIL_TEST_DIR

q "CREATE TABLE t1 (id int PRIMARY KEY, v int NOT NULL, note text);
   CREATE TABLE t2 (id bigint PRIMARY KEY, v int NOT NULL, pad text);
   CREATE TABLE t3 (k text PRIMARY KEY, n numeric)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$
BEGIN
  FOR i IN 0..1999 LOOP
    INSERT INTO t1 SELECT g, 0, 'n' || g FROM generate_series(i * 50 + 1, i * 50 + 50) g;
    INSERT INTO t2 SELECT g, 0, repeat('p', 100) FROM generate_series(i * 30 + 1, i * 30 + 30) g;
    INSERT INTO t3 SELECT 'k' || g, g / 3.0 FROM generate_series(i * 10 + 1, i * 10 + 10) g;
    COMMIT;
  END LOOP;
  FOR i IN 0..999 LOOP
    UPDATE t1 SET v = v + 1, note = 'u' WHERE id BETWEEN i * 100 + 1 AND i * 100 + 60;
    UPDATE t2 SET v = v + 1 WHERE id BETWEEN i * 60 + 1 AND i * 60 + 20;
    DELETE FROM t3 WHERE k IN ('k' || (i * 20 + 1), 'k' || (i * 20 + 2));
    COMMIT;
  END LOOP;
END $$;
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" --log-level warning
total=$(q "SELECT max(id) FROM pgtrail.events")
[ "$total" = 262003 ] || fail "expected 262,000 changes and three schema events, got $total"

new_target killed
kill_replay_often "$total" "t * (0.08 + 0.22 * r)" --jobs 3 --window-mb 1
finish_and_compare "replay --jobs" --jobs 3 --window-mb 1
[ "$(qdb killed "SELECT count(*) FROM pgtrail_replay.table_positions")" -gt 0 ] ||
    fail "no table was ever committed by another connection: --jobs did not write in parallel"
echo "ok: $kills kill -9 during replay --jobs 3 ($ahead times with tables past the position): the target equals the source"

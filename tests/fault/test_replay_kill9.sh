#!/usr/bin/env bash
# test_replay_kill9.sh BIN_DIR — kill -9 of pgtrail-replay at 8 random
# moments while it replays a 200,000-event log (inserts, updates, deletes,
# 100-row source transactions, small target batches) into one target,
# restarted each time; then the target must equal the source and a single
# uninterrupted replay: nothing lost, nothing applied twice, the position
# always at a source transaction boundary (run inside with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/../integration/replay/lib.sh"
. "$here/replay_kill.sh"
work=$PGTRAIL_TEST_DIR

q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, note text)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$
BEGIN
  FOR i IN 0..1399 LOOP
    INSERT INTO t SELECT g, 0, 'n' || g FROM generate_series(i * 100 + 1, i * 100 + 100) g;
    COMMIT;
  END LOOP;
  FOR i IN 0..399 LOOP
    UPDATE t SET v = v + 1, note = 'u' WHERE id BETWEEN i * 100 + 1 AND i * 100 + 100;
    COMMIT;
  END LOOP;
  FOR i IN 0..199 LOOP
    DELETE FROM t WHERE id BETWEEN 100000 + i * 100 + 1 AND 100000 + i * 100 + 100;
    COMMIT;
  END LOOP;
END $$;
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" --log-level warning
total=$(q "SELECT max(id) FROM pgtrail.events")
[ "$total" = 200001 ] || fail "expected 200,000 changes and the schema event, got $total"

new_target killed
kill_replay_often "$total" "t * (0.05 + 0.15 * r)" --batch-size 700
finish_and_compare replay
echo "ok: $kills kill -9 during replay: the target equals the source, each change applied once"

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
replay_bg() {
    "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for killed)" --create-tables \
        --batch-size 700 --log-level warning >>"$work/replay.log" 2>&1 &
    writer=$!
}
kills=0
for k in $(seq 1 8); do
    replay_bg
    sleep "0.$((RANDOM % 5 + 2))"
    if kill -9 "$writer" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$writer" 2>/dev/null || true
    # killed before it made its position table (a loaded machine): at event 0
    at=0
    if [ "$(qdb killed "SELECT to_regclass('pgtrail_replay.position') IS NOT NULL")" = t ]; then
        at=$(qdb killed "SELECT coalesce((SELECT last_event_id FROM pgtrail_replay.position), 0)")
    fi
    # the position is always the end of a source transaction
    if [ "$at" != 0 ] && [ "$at" != "$total" ]; then
        [ "$(q "SELECT count(*) FROM pgtrail.events a JOIN pgtrail.events b ON b.id = a.id + 1
                 WHERE a.id = $at AND a.xid = b.xid")" = 0 ] ||
            fail "replay's position $at is inside a source transaction"
    fi
    echo "kill -9 number $k: target at event $at"
done
[ "$kills" -ge 4 ] || fail "replay finished before it could be killed often enough ($kills kills)"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for killed)" --create-tables --log-level warning
[ "$(qdb killed "SELECT last_event_id FROM pgtrail_replay.position")" = "$total" ] || fail "did not reach the end"

new_target straight
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for straight)" --create-tables --log-level warning
dump_db postgres "$work/source.dump"
dump_db killed "$work/killed.dump"
dump_db straight "$work/straight.dump"
same_dump "killed replay equals the source" "$work/source.dump" "$work/killed.dump"
same_dump "killed replay equals one straight replay" "$work/straight.dump" "$work/killed.dump"
echo "ok: $kills kill -9 during replay: the target equals the source, each change applied once"

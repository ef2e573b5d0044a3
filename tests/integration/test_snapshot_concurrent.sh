#!/usr/bin/env bash
# test_snapshot_concurrent.sh BIN_DIR — 100,000 pre-existing rows, writes
# going on while the initial snapshot copies them: snapshot events plus the
# streamed events give exactly the source's final rows (run inside with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE TABLE s (id int PRIMARY KEY, v int NOT NULL, note text)" >/dev/null
q "INSERT INTO s SELECT g, 0, 'row ' || g FROM generate_series(1, 100000) g" >/dev/null
{
    for i in $(seq 1 1500); do
        case $((i % 3)) in
            0) echo "UPDATE s SET v = v + 1, note = 'upd $i' WHERE id = $(( (i * 7919) % 100000 + 1 ));" ;;
            1) echo "INSERT INTO s VALUES ($((100000 + i)), $i, 'new $i');" ;;
            2) echo "DELETE FROM s WHERE id = $(( (i * 104729) % 100000 + 1 ));" ;;
        esac
        [ $((i % 50)) = 0 ] && echo "SELECT pg_sleep(0.01);"
    done
} >"$PGTRAIL_TEST_DIR/writes.sql"
psql -qX -v ON_ERROR_STOP=1 -f "$PGTRAIL_TEST_DIR/writes.sql" >/dev/null &
writer=$!
# let the writes get going, so the snapshot is taken in the middle of them
for _ in $(seq 1 100); do
    [ "$(q "SELECT count(*) FROM s WHERE id > 100000")" -ge 20 ] && break
    sleep 0.05
done
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --log-level warning &
capture=$!
wait "$writer"
end=$(q "SELECT pg_current_wal_lsn()")
kill -TERM "$capture"; wait "$capture" || fail "capture exited with $?"; capture=""
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning

snap=$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot'")
streamed=$(q "SELECT count(*) FROM pgtrail.events WHERE op <> 'snapshot'")
echo "snapshot events: $snap, streamed events: $streamed"
[ "$snap" -ge 99000 ] || fail "expected the snapshot to hold most of the 100,000 rows, got $snap"
[ "$streamed" -ge 1 ] || fail "no writes were streamed after the snapshot"
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot' AND (key->>'id')::int > 100000")" -ge 1 ] ||
    fail "the snapshot was not taken during the writes (no new row in it)"
diff=$(q "WITH latest AS (SELECT DISTINCT ON (key->>'id') op, row::jsonb AS row FROM pgtrail.events
                          WHERE op <> 'schema' ORDER BY key->>'id', id DESC),
               rebuilt AS (SELECT row FROM latest WHERE op <> 'delete'),
               source AS (SELECT jsonb_build_object('id', id::text, 'v', v::text, 'note', note) AS row FROM s)
          SELECT (SELECT count(*) FROM (SELECT * FROM rebuilt EXCEPT SELECT * FROM source) a) || ' ' ||
                 (SELECT count(*) FROM (SELECT * FROM source EXCEPT SELECT * FROM rebuilt) b) || ' ' ||
                 (SELECT count(*) FROM rebuilt) || ' ' || (SELECT count(*) FROM s)")
set -- $diff
[ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" = "$4" ] || fail "rebuilt state differs from the source: $diff"
echo "ok: snapshot + stream rebuild exactly the source's $4 final rows"

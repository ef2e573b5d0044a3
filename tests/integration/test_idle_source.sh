#!/usr/bin/env bash
# test_idle_source.sh BIN_DIR — the captured database is idle while another
# database of the same cluster is busy: the slot's restart_lsn keeps moving,
# so the server can free WAL (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
restart_lsn() { q "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'pgtrail'"; }

q "CREATE TABLE quiet (id int PRIMARY KEY)" >/dev/null
q "CREATE DATABASE other" >/dev/null
psql -qX -d other -c "CREATE TABLE busy (id serial PRIMARY KEY, v text)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --heartbeat-interval-ms 500 --status-interval-ms 500 \
    --log-level warning &
capture=$!
sleep 2
first=$(restart_lsn)
( while true; do psql -qX -d other -c "INSERT INTO busy (v) SELECT 'x' FROM generate_series(1, 1000)" >/dev/null; sleep 0.1; done ) &
writer=$!
moved=0
for _ in $(seq 1 60); do
    sleep 1
    now=$(restart_lsn)
    [ "$(q "SELECT '$now'::pg_lsn > '$first'::pg_lsn")" = t ] && moved=$((moved + 1)) && first=$now
    [ "$moved" -ge 2 ] && break
done
[ "$moved" -ge 2 ] || fail "restart_lsn did not keep moving (moved $moved times in 60 s)"
echo "ok: restart_lsn kept moving while only another database was written"
[ "$(q "SELECT count(*) FROM pgtrail.events")" = 0 ] || fail "events appeared for an idle database"
echo "ok: no events from the other database"

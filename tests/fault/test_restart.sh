#!/usr/bin/env bash
# test_restart.sh BIN_DIR — the source server restarts while capture is
# streaming: capture reconnects by itself and nothing is lost or doubled
# (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
log=$PGTRAIL_TEST_DIR/capture.log
. "$(dirname "$0")/../harness/testlib.sh"
wait_events() { # wait_events N: until the store holds N events (60 s at most)
    for _ in $(seq 1 300); do
        [ "$(q "SELECT count(*) FROM pgtrail.events" 2>/dev/null || echo 0)" = "$1" ] && return 0
        sleep 0.2
    done
    fail "the store did not reach $1 events"
}

insert() { # insert FROM TO: transactions of 100 rows, one psql session (not one per transaction)
    for i in $(seq "$1" 100 "$2"); do
        echo "INSERT INTO t SELECT g, 'v' FROM generate_series($i, $((i + 99))) g;"
    done | psql -qX -v ON_ERROR_STOP=1 >/dev/null
}

q "CREATE TABLE t (id int PRIMARY KEY, v text)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --log-level info >"$log" 2>&1 &
capture=$!
# changes made before the slot exists are not for capture to see: wait for it
for _ in $(seq 1 300); do
    [ "$(q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgtrail' AND active")" = 1 ] && break
    sleep 0.1
done
insert 1 5000
wait_events 5001
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m fast -w restart >/dev/null
echo "ok: server restarted under a running capture"
insert 5001 10000
wait_events 10001
kill -TERM "$capture"
wait "$capture" || fail "capture exited with $? after SIGTERM"
grep -q "reconnecting in" "$log" || fail "capture did not report the reconnect"
got=$(q "SELECT count(*) || ' ' || count(DISTINCT key::text) || ' ' || max(id) FROM pgtrail.events")
[ "$got" = "10001 10000 10001" ] || fail "expected 10000 distinct changes and the schema event, ids 1..10001, got [$got]"
echo "ok: reconnected, 10000 changes each exactly once"

#!/usr/bin/env bash
# test_snapshot_kill9.sh BIN_DIR — kill -9 of pgtrail-capture while its
# first start copies the tables (the initial snapshot), twice, each time
# restarted (run inside tests/harness/with_pg.sh).
#
# The snapshot is one sink transaction with the state row: after each kill
# the store holds no event and no state, while the slot capture created is
# left behind. The next start must see, from the store's record of the slots
# it created, that this slot is its own and was never used, drop it, and
# start over with a new slot and snapshot by itself. In the end: every row
# exactly once as a snapshot event, the changes made after the snapshot
# exactly once, ids gapless, one slot, the chain valid, pgtrail-verify 0.
# A slot made by someone else, never claimed by capture, is not dropped:
# capture refuses it (exit 2) and leaves it alone. And a --resnapshot
# killed during its snapshot is neither resumed past (exit 3 without
# --resnapshot) nor stuck: --resnapshot again completes it.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$here/../harness/testlib.sh"

# 100,000 rows: the snapshot's COPY runs ~1 s here (longer on a loaded
# machine), while wait_for polls every ~0.1 s and the kill follows within
# milliseconds; a kill that came too late (snapshot committed) would fail
# "the store holds nothing of the killed snapshot" below, not pass quietly
rows=100000
q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)" >/dev/null
q "INSERT INTO t SELECT g, 0, repeat(md5(g::text), 4) FROM generate_series(1, $rows) g" >/dev/null

# --status-interval-ms 200: the slot shows capture's confirmed position
# within 200 ms, not up to 10 s later (the wait for it to reach $end below)
start_capture() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --status-interval-ms 200 --log-level info >>"$log" 2>&1 &
    capture=$!
}
# wait_for WHAT SQL: until SQL prints t (60 s at most), capture still running
wait_for() {
    for _ in $(seq 1 600); do
        [ "$(q "$2")" = t ] && return 0
        kill -0 "$capture" 2>/dev/null || fail "capture exited while waiting for $1"
        sleep 0.1
    done
    fail "timed out after 60 s waiting for $1"
}

for kill in 1 2; do
    start_capture
    # the slot exists and the snapshot's COPY is running on the source
    wait_for "the snapshot to run" \
        "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'pgtrail') AND
                EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'pgtrail-capture snapshot'
                        AND query LIKE 'COPY%')"
    kill -9 "$capture"
    wait "$capture" 2>/dev/null || true
    capture=""
    eq "kill $kill: the store holds nothing of the killed snapshot" \
        "SELECT (SELECT count(*) FROM pgtrail.events) || ' ' || (SELECT count(*) FROM pgtrail.state)" "0 0"
    eq "kill $kill: the killed capture's slot is left behind" \
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgtrail'" "1"
done

# the third start recovers by itself and completes
start_capture
wait_for "the snapshot to be committed and the stream to start" \
    "SELECT EXISTS (SELECT FROM pgtrail.state) AND
            EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'pgtrail' AND active)"
grep -q 'was created by a capture that stopped before its snapshot was committed; dropping it' "$log" ||
    fail "capture did not say it dropped its own unused slot"
q "UPDATE t SET v = 1 WHERE id <= 1000" >/dev/null
q "INSERT INTO t SELECT g, 1, 'new' FROM generate_series($((rows + 1)), $((rows + 500))) g" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
wait_for "capture to reach $end" \
    "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 'pgtrail'"
kill -TERM "$capture"
rc=0
wait "$capture" || rc=$?
capture=""
[ "$rc" = 0 ] || fail "capture exited $rc on SIGTERM"

eq "every row once as a snapshot event" \
    "SELECT count(*) || ' ' || count(DISTINCT key::text) FROM pgtrail.events WHERE op = 'snapshot'" "$rows $rows"
eq "the changes after the snapshot, once each" \
    "SELECT count(*) FILTER (WHERE op = 'update') || ' ' || count(*) FILTER (WHERE op = 'insert') || ' ' ||
            count(DISTINCT (op, key::text)) FILTER (WHERE op NOT IN ('snapshot', 'schema')) FROM pgtrail.events" "1000 500 1500"
eq "one schema event, first" "SELECT string_agg(id::text, ' ') FROM pgtrail.events WHERE op = 'schema'" "1"
eq "ids gapless" "SELECT count(*) || ' ' || max(id) FROM pgtrail.events" "$((rows + 1501)) $((rows + 1501))"
eq "one slot" "SELECT count(*) FROM pg_replication_slots" "1"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --log-level error >"$PGTRAIL_TEST_DIR/verify.out" ||
    fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: pgtrail-verify passes"

q "SELECT pg_create_logical_replication_slot('theirs', '${PGTRAIL_CAPTURE_DECODER:-wal2json}')" >/dev/null
rc=0
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot theirs --schema theirs --log-level warning \
    >"$PGTRAIL_TEST_DIR/theirs.log" 2>&1 || rc=$?
log=$PGTRAIL_TEST_DIR/theirs.log
[ "$rc" = 2 ] || fail "a slot capture did not create: exit $rc, expected 2"
grep -q 'error: replication slot "theirs" exists but the event store has no snapshot' "$log" ||
    fail "a slot capture did not create: not refused with the expected message"
eq "a slot capture did not create is left alone" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'theirs'" "1"
q "SELECT pg_drop_replication_slot('theirs'); DROP SCHEMA theirs CASCADE" >/dev/null 2>&1

# A --resnapshot (after the slot vanished) killed during its snapshot: the
# new slot is left, the store still has the old position. A start without
# --resnapshot must not resume from the new slot (that would skip the hole
# without a gap event): it exits 3 and says so. --resnapshot again drops the
# unused slot and completes: one gap event, then every row once.
log=$PGTRAIL_TEST_DIR/capture.log
before=$(q "SELECT max(id) FROM pgtrail.events")
q "SELECT pg_drop_replication_slot('pgtrail')" >/dev/null
q "UPDATE t SET v = 2 WHERE id <= 10" >/dev/null    # in the hole
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --resnapshot --log-level info >>"$log" 2>&1 &
capture=$!
wait_for "the --resnapshot's snapshot to run" \
    "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'pgtrail') AND
            EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'pgtrail-capture snapshot'
                    AND query LIKE 'COPY%')"
kill -9 "$capture"
wait "$capture" 2>/dev/null || true
capture=""
eq "the killed --resnapshot left nothing in the store" \
    "SELECT max(id) || ' ' || count(*) FILTER (WHERE op = 'gap') FROM pgtrail.events" "$before 0"
end=$(q "SELECT pg_current_wal_lsn()")
rc=0
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning \
    >"$PGTRAIL_TEST_DIR/resume.log" 2>&1 || rc=$?
log=$PGTRAIL_TEST_DIR/resume.log
[ "$rc" = 3 ] || fail "a start after a killed --resnapshot: exit $rc, expected 3 (it must not resume past the hole)"
grep -q 'error: a --resnapshot of replication slot "pgtrail" stopped before its snapshot was committed' "$log" ||
    fail "a start after a killed --resnapshot did not say why it refuses"
log=$PGTRAIL_TEST_DIR/capture.log
rc=0
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --resnapshot --endpos "$end" --log-level info >>"$log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "--resnapshot again: exit $rc"
grep -q 'was created by a --resnapshot that stopped before its snapshot was committed; dropping it' "$log" ||
    fail "--resnapshot again did not say it dropped the unused slot"
eq "--resnapshot again: one gap event, then every row once" \
    "SELECT count(*) FILTER (WHERE op = 'gap') || ' ' || count(*) FILTER (WHERE op = 'snapshot' AND id > $before) || ' ' ||
            count(DISTINCT key::text) FILTER (WHERE op = 'snapshot' AND id > $before) FROM pgtrail.events" \
    "1 $((rows + 500)) $((rows + 500))"
eq "ids still gapless" "SELECT count(*) || ' ' || max(id) FROM pgtrail.events" "$((before + 1 + rows + 500)) $((before + 1 + rows + 500))"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain after the --resnapshot"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --log-level error >"$PGTRAIL_TEST_DIR/verify.out" ||
    fail "verify after the --resnapshot: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: a killed --resnapshot is refused, not skipped over, and completes when run again"
echo "PASS"

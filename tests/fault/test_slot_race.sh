#!/usr/bin/env bash
# test_slot_race.sh BIN_DIR — two pgtrail-capture started at the same moment
# on the same new slot, six rounds (a new slot and event store each round).
# Each round exactly one of them wins: it creates the slot, takes the
# snapshot and goes on streaming; the other exits 3 ("could not run": the
# slot may be free later, so systemd's Restart= tries again) saying that
# another pgtrail-capture holds the slot. Exactly one slot exists, it is
# the winner's, and the winner's snapshot is in its store once (run inside
# tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"

q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)" >/dev/null
q "INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g" >/dev/null

for round in 1 2 3 4 5 6; do
    slot=race$round
    for who in a b; do
        "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot "$slot" --schema "$slot" --tables public.t \
            --log-level info >"$PGTRAIL_TEST_DIR/$slot.$who.log" 2>&1 &
        eval "pid_$who=\$!"
    done
    # shellcheck disable=SC2154
    capture="$pid_a $pid_b"
    # wait until one of them has exited (the loser), 60 s at most
    loser=""
    for _ in $(seq 1 600); do
        if ! kill -0 "$pid_a" 2>/dev/null; then loser=a; break; fi
        if ! kill -0 "$pid_b" 2>/dev/null; then loser=b; break; fi
        sleep 0.1
    done
    [ -n "$loser" ] || fail "round $round: neither capture exited within 60 s"
    if [ "$loser" = a ]; then lpid=$pid_a wpid=$pid_b winner=b; else lpid=$pid_b wpid=$pid_a winner=a; fi
    rc=0
    wait "$lpid" || rc=$?
    llog=$PGTRAIL_TEST_DIR/$slot.$loser.log
    log=$llog
    [ "$rc" = 3 ] || fail "round $round: the loser exited $rc, expected 3: $(cat "$llog")"
    grep -q "error: replication slot \"$slot\" is held by another pgtrail-capture" "$llog" ||
        fail "round $round: the loser did not say that another capture holds the slot"
    grep -q "detail: its session on the source has server pid [0-9]* (application \"pgtrail-capture\"" "$llog" ||
        fail "round $round: the loser did not name the holder's session"
    log=$PGTRAIL_TEST_DIR/$slot.$winner.log
    # the winner carries on: its snapshot is committed and it streams from the slot
    for _ in $(seq 1 600); do
        [ "$(q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active")" = 1 ] &&
            [ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = '$slot' AND tablename = 'state'")" = 1 ] &&
            [ "$(q "SELECT count(*) FROM $slot.state")" = 1 ] && break
        kill -0 "$wpid" 2>/dev/null || fail "round $round: the winner exited too"
        sleep 0.1
    done
    kill -0 "$wpid" 2>/dev/null || fail "round $round: the winner exited too"
    eq "round $round: one slot of that name, active" \
        "SELECT count(*) || ' ' || bool_and(active) FROM pg_replication_slots WHERE slot_name = '$slot'" "1 true"
    eq "round $round: the snapshot, once" \
        "SELECT count(*) || ' ' || count(DISTINCT key::text) || ' ' || max(id) FROM $slot.events WHERE op = 'snapshot'" \
        "20000 20000 20001"  # event 1: the table's schema event
    kill -TERM "$wpid"
    rc=0
    wait "$wpid" || rc=$?
    capture=""
    [ "$rc" = 0 ] || fail "round $round: the winner exited $rc on SIGTERM"
    echo "ok: round $round: capture $winner won, capture $loser exited 3 saying the slot is held"
done
eq "six slots, one per round" "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'race%'" "6"
echo "PASS"

# replay_kill.sh — what the replay kill -9 tests share, sourced after
# ../integration/replay/lib.sh (inside with_pg.sh):
#
#   kill_replay_often TOTAL SLEEP ARGS...
#       time one whole replay with ARGS (into a scratch target: t seconds),
#       then start pgtrail-replay --events ... --target killed --create-tables ARGS
#       8 times, each killed -9 after `sleep SLEEP` (an awk expression of
#       r, a random number in [0, 1), and t: "t * (0.08 + 0.22 * r)", so the
#       kills land while it runs on a fast machine and a slow one alike); after each kill the
#       position must be a source transaction boundary. Sets kills (how many
#       kills hit a running replay) and ahead (how many times tables stood
#       past the position: --jobs connections that committed before it).
#   finish_and_compare WHAT ARGS...
#       replay to the end, into killed (ARGS) and into a fresh straight
#       target: killed must equal the source and the straight replay.
kill_replay_often() {
    local total=$1 pause=$2 k writer at t0 t
    shift 2
    kills=0 ahead=0
    new_target timing
    t0=$(date +%s.%N)
    replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for timing)" --create-tables "$@" --log-level warning
    t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    echo "one whole replay: $t s"
    for k in $(seq 1 8); do
        "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for killed)" --create-tables \
            "$@" --log-level warning >>"$PGTRAIL_TEST_DIR/replay.log" 2>&1 &
        writer=$!
        sleep "$(awk -v r="$RANDOM" -v t="$t" "BEGIN { r /= 32768; print $pause }")"
        if kill -9 "$writer" 2>/dev/null; then kills=$((kills + 1)); fi
        wait "$writer" 2>/dev/null || true
        # killed before it made its position table (a loaded machine): at event 0
        at=0
        if [ "$(qdb killed "SELECT to_regclass('pgtrail_replay.position') IS NOT NULL")" = t ]; then
            at=$(qdb killed "SELECT coalesce((SELECT last_event_id FROM pgtrail_replay.position), 0)")
            ahead=$((ahead + $(qdb killed "SELECT count(*) FROM pgtrail_replay.table_positions
                                           WHERE last_event_id > $at")))
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
}

finish_and_compare() {
    local what=$1 total
    shift
    total=$(q "SELECT max(id) FROM pgtrail.events")
    replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for killed)" --create-tables "$@" --log-level warning
    [ "$(qdb killed "SELECT last_event_id FROM pgtrail_replay.position")" = "$total" ] || fail "did not reach the end"
    new_target straight
    replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for straight)" --create-tables --log-level warning
    dump_db postgres "$PGTRAIL_TEST_DIR/source.dump"
    dump_db killed "$PGTRAIL_TEST_DIR/killed.dump"
    dump_db straight "$PGTRAIL_TEST_DIR/straight.dump"
    same_dump "killed $what equals the source" "$PGTRAIL_TEST_DIR/source.dump" "$PGTRAIL_TEST_DIR/killed.dump"
    same_dump "killed $what equals one straight replay" "$PGTRAIL_TEST_DIR/straight.dump" \
        "$PGTRAIL_TEST_DIR/killed.dump"
}

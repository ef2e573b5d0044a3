#!/usr/bin/env bash
# test_replay_follow.sh BIN_DIR — a target kept up to date in several runs
# and by --follow equals one full replay; a tampered event stops replay at
# the last good transaction (issue 5, fourth and fifth acceptance points;
# run inside tests/harness/with_pg.sh).
#
# Capture runs with --ddl on from before the first table exists. Phases of
# multi-row transactions (transfers between accounts), the source's tables
# dumped after each:
#   phase 1                                  -> p1;  E1 = first event of its last transaction
#   phase 2a                                 -> p2a
#   phase 2b: one transaction                -> p2;  E2 = its first event
#   phase 3: a column added, more transfers  -> p3
# Target A: --until-event E1 (= p1: the whole transaction of E1, not just
# up to E1), again --until-event E2 (= p2), again to the end (= p3), then
# --follow in the background while phase 4 writes (a new table too) and
# capture runs; once the last write is in the target, SIGTERM: exit 0, and
# A equals the source and a single full replay into target B. Target D:
# --until-xid of E2's transaction (= p2).
# Then event E2+1 is changed in the store: a fresh replay into target C
# exits 1 naming that event, and C holds p2a (nothing of E2's transaction);
# --no-verify then replays past it.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"

log=$work/capture.log
capture_to_now() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$(q "SELECT pg_current_wal_lsn()")" \
        --log-level warning 2>>"$log" || fail "capture --endpos exited with $?"
}
run() { psql -qX -v ON_ERROR_STOP=1 >/dev/null || fail "workload step failed"; }
# transfers FROM TO: one transaction per transfer, 3 events each
transfers() {
    local i
    for i in $(seq "$1" "$2"); do
        echo "BEGIN;
UPDATE app.acct SET bal = bal - $i WHERE id = $(( i % 20 + 1 ));
UPDATE app.acct SET bal = bal + $i, note = 'in $i' WHERE id = $(( (i * 7) % 20 + 1 ));
INSERT INTO app.moves (src, dst, amount) VALUES ($(( i % 20 + 1 )), $(( (i * 7) % 20 + 1 )), $i);
COMMIT;"
    done
}
# the first event of the log's last transaction, checked to have 3 events
last_txn_first_event() {
    local r
    r=$(q "SELECT min(id) || ' ' || count(*) FROM pgtrail.events
           WHERE xid = (SELECT xid FROM pgtrail.events ORDER BY id DESC LIMIT 1)")
    set -- $r
    [ "$2" = 3 ] || fail "the last transaction has $2 events, expected 3"
    echo "$1"
}

# the schema exists in the source before capture starts, and in every
# target before replay (as in the other replay tests: --create-tables makes
# tables, not schemas)
echo "CREATE SCHEMA app;" >"$work/schema.sql"
psql -qX -v ON_ERROR_STOP=1 -f "$work/schema.sql" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture --ddl on could not start"

# ---- phase 1
{
    echo "CREATE TABLE app.acct (id int PRIMARY KEY, bal numeric NOT NULL, note text);
CREATE TABLE app.moves (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, src int, dst int, amount numeric);
INSERT INTO app.acct SELECT g, 1000, 'acct ' || g FROM generate_series(1, 20) g;"
    transfers 1 10
} | run
capture_to_now
dump_db postgres "$work/p1.dump"
e1=$(last_txn_first_event)

# ---- phase 2a, 2b
transfers 11 20 | run
capture_to_now
dump_db postgres "$work/p2a.dump"
run <<'SQL'
BEGIN;
UPDATE app.acct SET bal = bal - 5 WHERE id = 1;
UPDATE app.acct SET bal = bal + 5, note = 'from 1' WHERE id = 2;
INSERT INTO app.moves (src, dst, amount) VALUES (1, 2, 5);
COMMIT;
SQL
capture_to_now
dump_db postgres "$work/p2.dump"
e2=$(last_txn_first_event)
xid2=$(q "SELECT xid FROM pgtrail.events WHERE id = $e2")
eq "event E2+1 is the update of account 2 (the one to be tampered with later)" \
   "SELECT op || ' ' || (key->>'id') FROM pgtrail.events WHERE id = $e2 + 1" "update 2"

# ---- phase 3: a schema change, and account 2 written again (so that its
# tampered value is overwritten later in the log)
{
    echo "ALTER TABLE app.acct ADD COLUMN flag text;
UPDATE app.acct SET flag = 'checked', bal = bal + 1 WHERE id IN (2, 3);"
    transfers 21 30
} | run
capture_to_now
dump_db postgres "$work/p3.dump"
for pair in "p1 p2a" "p2a p2" "p2 p3"; do
    set -- $pair
    ! cmp -s "$work/$1.dump" "$work/$2.dump" || fail "phases $1 and $2 left the same source copy"
done

# ---- target A in three runs
new_target ta "$work/schema.sql"
a=$(dsn_for ta)
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$a" --create-tables --until-event "$e1" --log-level warning
dump_db ta "$work/ta.dump"
same_dump "run 1, --until-event E1 ($e1): the whole transaction of E1, no more (= phase 1 copy)" "$work/p1.dump" "$work/ta.dump"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$a" --create-tables --until-event "$e2" --log-level warning
dump_db ta "$work/ta.dump"
same_dump "run 2, continuing to --until-event E2 ($e2) (= phase 2 copy)" "$work/p2.dump" "$work/ta.dump"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$a" --create-tables --log-level warning
dump_db ta "$work/ta.dump"
same_dump "run 3, continuing to the end, across ADD COLUMN (= phase 3 copy)" "$work/p3.dump" "$work/ta.dump"

# ---- target D: --until-xid
new_target td "$work/schema.sql"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for td)" --create-tables --until-xid "$xid2" --log-level warning
dump_db td "$work/td.dump"
same_dump "--until-xid $xid2 (= phase 2 copy)" "$work/p2.dump" "$work/td.dump"

# ---- --follow on target A while capture runs and phase 4 writes
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --log-level warning 2>>"$log" &
capture=$!
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$a" --create-tables --follow --log-level warning \
    2>"$work/follow.err" </dev/null &
follower=$!
writer="$writer $follower"   # killed on exit whatever happens
{
    for i in $(seq 31 60); do
        transfers "$i" "$i"
        [ $((i % 5)) = 0 ] && echo "SELECT pg_sleep(0.05);"
        [ "$i" = 45 ] && echo "CREATE TABLE app.late (id int PRIMARY KEY, v text);
INSERT INTO app.late VALUES (1, 'created while following'), (2, 'x');
UPDATE app.acct SET flag = 'late' WHERE id = 5;"
    done
    echo "DELETE FROM app.late WHERE id = 2;"
    echo "INSERT INTO app.acct VALUES (999, 0, 'last write', NULL);"
} | run
caught_up=f
for _ in $(seq 1 600); do
    kill -0 "$follower" 2>/dev/null || fail "replay --follow exited by itself: $(head -c 2000 "$work/follow.err")"
    [ "$(qdb ta "SELECT count(*) FROM app.acct WHERE id = 999" 2>/dev/null || echo 0)" = 1 ] && { caught_up=t; break; }
    sleep 0.1
done
[ "$caught_up" = t ] || fail "replay --follow did not bring the last write into the target within 60 s: $(head -c 2000 "$work/follow.err")"
echo "ok: --follow brought the writes made while it ran into the target"
kill -TERM "$follower"
set +e
wait "$follower"
frc=$?
set -e
writer=""
[ "$frc" = 0 ] || fail "replay --follow: SIGTERM gave exit $frc, expected 0: $(head -c 2000 "$work/follow.err")"
echo "ok: SIGTERM stops replay --follow with exit 0"
end=$(q "SELECT pg_current_wal_lsn()")
kill -TERM "$capture"
wait "$capture" || fail "capture exited with $?"
capture=""
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with $?"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"

dump_db postgres "$work/p4.dump"
dump_db ta "$work/ta.dump"
same_dump "target A (3 runs, then --follow) equals the source" "$work/p4.dump" "$work/ta.dump"
new_target tb "$work/schema.sql"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for tb)" --create-tables --log-level warning
dump_db tb "$work/tb.dump"
same_dump "one full replay (target B) equals the source" "$work/p4.dump" "$work/tb.dump"
same_dump "target A equals target B" "$work/ta.dump" "$work/tb.dump"
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$a" --create-tables --log-level warning
dump_db ta "$work/ta.dump"
same_dump "a run with nothing new leaves target A as it was" "$work/p4.dump" "$work/ta.dump"

# ---- a tampered event
bad=$((e2 + 1))
q "UPDATE pgtrail.events SET row = jsonb_set(row::jsonb, '{bal}', '\"1000000\"')::json WHERE id = $bad" >/dev/null
eq "event $bad now says 1000000" "SELECT row->>'bal' FROM pgtrail.events WHERE id = $bad" "1000000"
new_target tc "$work/schema.sql"
c=$(dsn_for tc)
replay --events "$PGTRAIL_TEST_DSN" --target "$c" --create-tables --log-level warning
[ "$rc" = 1 ] || fail "replay of a log with event $bad tampered: expected exit 1, got $rc: $(head -c 2000 "$err_file")"
grep -Eq "event $bad([^0-9]|$)" "$err_file" || fail "the error does not name event $bad: $(head -c 2000 "$err_file")"
echo "ok: a tampered event stops replay with exit 1, naming event $bad: $(grep -E "event $bad" "$err_file" | head -n 1)"
dump_db tc "$work/tc.dump"
if ! cmp -s "$work/p2a.dump" "$work/tc.dump"; then
    for p in p1 p2 p3 p4; do
        cmp -s "$work/$p.dump" "$work/tc.dump" && echo "note: target C equals the $p copy instead" >&2
    done
    [ "$(qdb tc "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")" = 0 ] && echo "note: target C has no tables at all" >&2
fi
same_dump "after the failed run the target holds every transaction before the tampered one's, none after" \
    "$work/p2a.dump" "$work/tc.dump"
replay --events "$PGTRAIL_TEST_DSN" --target "$c" --create-tables --no-verify --log-level warning
[ "$rc" = 0 ] || fail "--no-verify did not replay past the tampered event: exit $rc: $(head -c 2000 "$err_file")"
dump_db tc "$work/tc.dump"
same_dump "--no-verify replays past it (account 2 written again later: the source's final state)" \
    "$work/p4.dump" "$work/tc.dump"

#!/usr/bin/env bash
# test_kill9.sh BIN_DIR — kill -9 of pgtrail-capture at 10 random moments
# during a 100,000-change workload (1,000 transactions), restarted each
# time, with signed checkpoints every 2,000 events and an anchor file. In
# the end: one event per source change, none twice, ids gapless, chain
# valid, and pgtrail-verify finds every checkpoint signed and every one of
# them in the anchor file, none missing, none torn (run inside
# tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)" >/dev/null
openssl genpkey -algorithm ed25519 -out "$PGTRAIL_TEST_DIR/signing.pem" 2>/dev/null
openssl pkey -in "$PGTRAIL_TEST_DIR/signing.pem" -pubout -out "$PGTRAIL_TEST_DIR/public.pem"
chmod 600 "$PGTRAIL_TEST_DIR/signing.pem"
anchor=$PGTRAIL_TEST_DIR/anchor.jsonl
checkpoints=(--signing-key "$PGTRAIL_TEST_DIR/signing.pem" --anchor-file "$anchor" --checkpoint-events 2000)
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning

# 500 transactions of 100 inserts, then 500 of 100 updates, spread over ~10 s
# while the kills go on (~6 s); once the file $unpaced exists (after the
# last kill) the rest runs without the pauses (pg_stat_file: the server
# looks for it, missing_ok)
unpaced=$PGTRAIL_TEST_DIR/unpaced
pause="SELECT pg_sleep(0.008) WHERE (pg_stat_file('$unpaced', true)).size IS NULL;"
{
    for i in $(seq 0 499); do
        echo "INSERT INTO t SELECT g, 0 FROM generate_series($((i * 100 + 1)), $((i * 100 + 100))) g;"
        echo "$pause"
    done
    for i in $(seq 0 499); do
        echo "UPDATE t SET v = v + 1 WHERE id BETWEEN $((i * 100 + 1)) AND $((i * 100 + 100));"
        echo "$pause"
    done
} >"$PGTRAIL_TEST_DIR/workload.sql"
psql -qX -v ON_ERROR_STOP=1 -f "$PGTRAIL_TEST_DIR/workload.sql" >/dev/null &
workload=$!

start_capture() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --batch-size 250 --log-level warning "${checkpoints[@]}" >>"$log" 2>&1 &
    capture=$!
}
start_capture
for kill in $(seq 1 10); do
    sleep "0.$((RANDOM % 7 + 3))"
    kill -9 "$capture" 2>/dev/null || fail "capture died by itself before kill $kill"
    wait "$capture" 2>/dev/null || true
    echo "kill -9 number $kill at event $(q 'SELECT coalesce(max(id), 0) FROM pgtrail.events')"
    start_capture
done
echo "kills done with $(q "SELECT count(*) || ' rows inserted, ' || count(*) FILTER (WHERE v = 1) || ' updated' FROM t") of 50000 each"
touch "$unpaced"
wait "$workload"
end=$(q "SELECT pg_current_wal_lsn()")
kill -9 "$capture" 2>/dev/null || true
wait "$capture" 2>/dev/null || true
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning "${checkpoints[@]}" >>"$log" 2>&1 ||
    fail "final capture run failed"

got=$(q "SELECT count(*) FILTER (WHERE op = 'insert') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'insert') || ' ' ||
             count(*) FILTER (WHERE op = 'update') || ' ' || count(DISTINCT key::text) FILTER (WHERE op = 'update') || ' ' ||
             count(*) || ' ' || max(id) FROM pgtrail.events")
[ "$got" = "50000 50000 50000 50000 100001 100001" ] ||
    fail "expected 50000 inserts and 50000 updates, each once, and the table's schema event, ids 1..100001; got [$got]"
echo "ok: 100000 changes, each exactly once, ids gapless"
[ "$(q "SELECT count(*) FROM t WHERE v <> 1")" = 0 ] || fail "workload did not finish"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
echo "ok: chain valid after 10 kill -9"
ncp=$(q "SELECT count(*) FROM pgtrail.checkpoints")
[ "$ncp" -ge 40 ] || fail "expected a checkpoint every 2,000 events, got $ncp"
[ "$(wc -l < "$anchor")" = "$ncp" ] || fail "anchor file has $(wc -l < "$anchor") lines for $ncp checkpoints"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --public-key "$PGTRAIL_TEST_DIR/public.pem" \
    --anchor "$anchor" --log-level error >"$PGTRAIL_TEST_DIR/verify.out" || fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: $ncp signed checkpoints, each anchored once, verify passes after 10 kill -9"

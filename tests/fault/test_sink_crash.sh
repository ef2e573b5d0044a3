#!/usr/bin/env bash
# test_sink_crash.sh BIN_DIR — the event store's server crashes (pg_ctl -m
# immediate) right after capture committed batches and anchored their
# checkpoints, on a server set to synchronous_commit = off with a slow WAL
# writer. Capture's own commits must still be durable: after the restart
# the table holds every event and every checkpoint the anchor file names,
# and pgtrail-verify --full with the key and the anchor passes (run inside
# tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$here/../harness/testlib.sh"

openssl genpkey -algorithm ed25519 -out "$PGTRAIL_TEST_DIR/signing.pem" 2>/dev/null
chmod 600 "$PGTRAIL_TEST_DIR/signing.pem"
openssl pkey -in "$PGTRAIL_TEST_DIR/signing.pem" -pubout -out "$PGTRAIL_TEST_DIR/public.pem"
anchor=$PGTRAIL_TEST_DIR/anchor.jsonl
export PGOPTIONS='-c synchronous_commit=on'     # this script's own psql sessions stay durable
q "ALTER SYSTEM SET synchronous_commit = off"
q "ALTER SYSTEM SET wal_writer_delay = '10s'"
q "SELECT pg_reload_conf()" >/dev/null
q "CREATE TABLE items (id int PRIMARY KEY, v text)"
PGOPTIONS='' "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning
q "INSERT INTO items SELECT g, 'x' FROM generate_series(1, 100) g"
end=$(q "SELECT pg_current_wal_lsn()")
PGOPTIONS='' "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning \
    --signing-key "$PGTRAIL_TEST_DIR/signing.pem" --anchor-file "$anchor" --checkpoint-events 50 --batch-size 25 >>"$log" 2>&1
anchored=$(wc -l < "$anchor")
[ "$anchored" -ge 1 ] || fail "no checkpoint was anchored"
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m immediate -w stop >/dev/null
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -l "$PGTRAIL_TEST_DIR/server.log" -w start >/dev/null
echo "ok: the server crashed right after capture stopped, and came back"
eq "every event survived the crash" "SELECT count(*), max(id) FROM pgtrail.events" "101|101"
eq "every anchored checkpoint survived the crash" "SELECT count(*) FROM pgtrail.checkpoints" "$anchored"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --public-key "$PGTRAIL_TEST_DIR/public.pem" \
    --anchor "$anchor" --log-level error >"$PGTRAIL_TEST_DIR/verify.out" || fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: verify passes with the key and the anchor file after the crash"
echo "PASS test_sink_crash"

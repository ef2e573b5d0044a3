#!/usr/bin/env bash
# test_sink_disk_full.sh BIN_DIR — the event store's disk fills up under a
# running capture (run inside tests/harness/with_pg.sh, as root).
#
# A real disk-full: the event table is moved to a tablespace on a 4 MB
# tmpfs, and 40,000 changes of ~300 bytes are captured into it. Once the
# tmpfs is full every sink commit fails (SQLSTATE 53100 disk_full, "No space
# left on device"); capture must back off as for any other outage (0.5 s
# doubling to 30 s: the first five retries are logged as 0.5, 1, 2, 4 and
# 8 s), not retry every 0.5 s for ever. Then the tmpfs is made larger (the
# cause removed) and capture catches up by itself: every change exactly
# once, ids gapless, chain valid, pgtrail-verify 0.
# Without root (mount), the test is skipped (exit 77).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$PGTRAIL_TEST_DIR/capture.log
. "$here/../harness/testlib.sh"

small=$PGTRAIL_TEST_DIR/small
mkdir -p "$small"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m pgtrail-test "$small" 2>/dev/null; then
    echo "SKIP: needs root to mount a small tmpfs for a real disk-full"
    exit 77
fi
mounted=1
unmount() {
    if [ "$mounted" = 1 ]; then
        q "ALTER TABLE pgtrail.events SET TABLESPACE pg_default; DROP TABLESPACE IF EXISTS small" >/dev/null 2>&1 || true
        umount "$small" 2>/dev/null || umount -l "$small" 2>/dev/null || true
        mounted=0
    fi
}
trap 'for p in $capture $writer; do kill -9 "$p" 2>/dev/null || true; done; unmount' EXIT
chown postgres "$small"

q "CREATE TABLE t (id int PRIMARY KEY, pad text NOT NULL)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
q "CREATE TABLESPACE small LOCATION '$small'" >/dev/null
q "ALTER TABLE pgtrail.events SET TABLESPACE small" >/dev/null

# --status-interval-ms 200: the slot shows the catch-up within 200 ms of
# its commit, not up to 10 s later
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --batch-size 1000 --status-interval-ms 200 \
    --log-level info >"$log" 2>&1 &
capture=$!
for i in $(seq 0 39); do
    echo "INSERT INTO t SELECT g, repeat(md5(g::text), 6) FROM generate_series($((i * 1000 + 1)), $((i * 1000 + 1000))) g;"
done | psql -qX -v ON_ERROR_STOP=1 >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")

# five retries, 60 s at most (with backoff they take 0.5 + 1 + 2 + 4 s, then 8 s of waiting)
for _ in $(seq 1 600); do
    [ "$(grep -c 'reconnecting in' "$log")" -ge 5 ] && break
    kill -0 "$capture" 2>/dev/null || fail "capture exited on a full disk"
    sleep 0.1
done
[ "$(grep -c 'reconnecting in' "$log")" -ge 5 ] || fail "capture did not retry 5 times in 60 s"
grep -q 'No space left on device' "$log" || fail "the sink's errors were not disk-full"
delays=$(grep -o 'reconnecting in [0-9.]* s' "$log" | head -n 5 | awk '{print $3}' | tr '\n' ' ')
[ "$delays" = "0.5 1.0 2.0 4.0 8.0 " ] ||
    fail "retries on a full disk did not back off: delays [$delays], expected [0.5 1.0 2.0 4.0 8.0 ]"
echo "ok: on a full disk capture backs off: $delays s; $(q 'SELECT coalesce(max(id), 0) FROM pgtrail.events') events stored"

# the cause removed: capture goes on by itself
mount -o remount,size=256m "$small"
for _ in $(seq 1 1200); do
    [ "$(q "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 'pgtrail'")" = t ] && break
    kill -0 "$capture" 2>/dev/null || fail "capture exited after the disk was freed"
    sleep 0.1
done
[ "$(q "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 'pgtrail'")" = t ] ||
    fail "capture did not catch up within 120 s of the disk being freed"
kill -TERM "$capture"
rc=0
wait "$capture" || rc=$?
capture=""
[ "$rc" = 0 ] || fail "capture exited $rc on SIGTERM"
eq "every change exactly once, ids gapless" \
    "SELECT count(*) || ' ' || count(DISTINCT key::text) || ' ' || max(id) FROM pgtrail.events WHERE op = 'insert'" \
    "40000 40000 40001"  # event 1: the table's schema event
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --log-level error >"$PGTRAIL_TEST_DIR/verify.out" ||
    fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: caught up after the disk was freed, nothing lost or doubled, verify passes"
unmount
echo "PASS"

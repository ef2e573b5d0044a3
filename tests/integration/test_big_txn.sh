#!/usr/bin/env bash
# test_big_txn.sh BIN_DIR — a 1,000,000-row transaction streams through:
# capture's peak RSS stays under 64 MB (its own getrusage figure, logged at
# exit), and every row is there (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
log=$PGTRAIL_TEST_DIR/capture.log
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE TABLE big (id int PRIMARY KEY, payload text, n numeric)" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning
q "INSERT INTO big SELECT g, repeat('x', 100) || g, g / 3.0 FROM generate_series(1, 1000000) g" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
# under AddressSanitizer, freed memory waits in a 256 MB quarantine and would
# count as resident: turn the quarantine off so the figure is the program's
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" >"$log" 2>&1 || fail "capture failed"
kb=$(sed -n 's/.*peak memory: \([0-9]*\) kB.*/\1/p' "$log")
[ -n "$kb" ] || fail "no peak memory line"
echo "peak RSS of capture over a 1,000,000-row transaction: $kb kB"
[ "$kb" -lt 65536 ] || fail "peak RSS $kb kB is not under 64 MB"
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE op = 'insert'")" = 1000000 ] || fail "rows missing"
echo "ok: 1,000,000-row transaction captured whole in $kb kB peak RSS"

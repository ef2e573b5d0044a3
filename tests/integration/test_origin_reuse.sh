#!/usr/bin/env bash
# test_origin_reuse.sh BIN_DIR — capture started more times than the server
# has replication origin states (max_replication_slots before 18,
# max_active_replication_origins from 18), each time on a new slot that is
# dropped afterwards, keeps filtering its own writes by replication origin:
# origins of slots that are gone are dropped at start (issue 16 item 10a;
# run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
dir=$(mktemp -d)
log="$dir/capture.log"

limit=$(q "SELECT coalesce(current_setting('max_active_replication_origins', true),
                           current_setting('max_replication_slots'))::int")
q "CREATE TABLE t (id int PRIMARY KEY)" >/dev/null
for i in $(seq 1 $((limit + 2))); do
    q "INSERT INTO t VALUES ($i)" >/dev/null
    : >"$log"
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot "s$i" --schema "store$i" --tables public.t --log-level debug \
        --endpos "$(q 'SELECT pg_current_wal_lsn()')" >"$log" 2>&1 || fail "capture $i failed"
    grep -q 'own writes carry replication origin' "$log" ||
        fail "start $i of $((limit + 2)) (limit $limit): own writes not filtered by origin: $(grep -i origin "$log")"
    q "SELECT pg_drop_replication_slot('s$i')" >/dev/null
done
echo "ok: $((limit + 2)) starts on new slots, each filtered its own writes by replication origin (limit $limit)"
eq "origins of dropped slots are gone" "SELECT count(*) <= 1 FROM pg_replication_origin WHERE roname LIKE 'pgtrail%'" "t"
rm -rf "$dir"

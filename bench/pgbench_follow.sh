#!/usr/bin/env bash
# pgbench_follow.sh BIN_DIR SECONDS — what following a busy database costs
# it (inside with_pg.sh): pgbench TPC-B, 2 clients, SECONDS per run, once
# with pg_recvlogical following (same wal2json options, into /dev/null) and
# once with pgtrail-capture following (event store in the same database),
# interleaved twice. Prints each run's TPS, the ratio of the means (target
# >= 0.95) and capture's peak RSS.
set -euo pipefail
bin=$1 secs=$2
opts=(-o format-version=2 -o include-xids=1 -o include-timestamp=1 -o include-lsn=1 -o include-pk=1
      -o include-transaction=1 -o include-type-oids=1 -o include-typmod=1)
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
tps() { pgbench -n -c 2 -j 2 -T "$secs" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'; }

pgbench -i -s 10 -q >/dev/null 2>&1
q "SELECT 1 FROM pg_create_logical_replication_slot('recv', 'wal2json')" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level error
run_recv() {
    pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot recv --start -f /dev/null "${opts[@]}" 2>/dev/null &
    local follower=$! t
    t=$(tps); kill -INT "$follower"; wait "$follower" || true
    echo "run $1: pgbench with pg_recvlogical following:  $t tps"
    recv_sum=$(awk -v a="$recv_sum" -v b="$t" 'BEGIN { print a + b }')
}
run_capture() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" >"$PGTRAIL_TEST_DIR/cap$1.log" 2>&1 &
    local follower=$! t
    t=$(tps); kill -TERM "$follower"; wait "$follower"
    echo "run $1: pgbench with pgtrail-capture following: $t tps ($(sed -n 's/.*peak memory: \(.*\)/peak RSS \1/p' "$PGTRAIL_TEST_DIR/cap$1.log"))"
    cap_sum=$(awk -v a="$cap_sum" -v b="$t" 'BEGIN { print a + b }')
}
# ABBA order, so that a drift over the runs (table bloat, WAL, checkpoints) cancels out
recv_sum=0 cap_sum=0
run_recv 1
run_capture 2
run_capture 3
run_recv 4
awk -v c="$cap_sum" -v r="$recv_sum" 'BEGIN { printf "TPS ratio capture/pg_recvlogical: %.3f (target >= 0.95)\n", c / r }'
echo "events captured: $(q "SELECT count(*) FROM pgtrail.events")"

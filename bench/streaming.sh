#!/usr/bin/env bash
# streaming.sh ROWS — does pgoutput's streaming of transactions in progress
# (protocol version 2+, streaming=on) pay for a big transaction, against
# letting the server spill it to disk and send it at commit? Inside
# with_pg.sh; no pgtrail program involved, only pg_recvlogical.
#
# One transaction of ROWS inserted rows (more than logical_decoding_work_mem
# holds), twice: once read by pg_recvlogical without streaming, once with
# streaming=on, each started before the transaction. Printed: the time from
# COMMIT to the last byte received (what a consumer waits after commit),
# and the total. A consumer that writes whole transactions in commit order
# (pgtrail) would have to spool the streamed chunks itself and read them
# back at commit: the server's spill moved to the client.
set -euo pipefail
rows=$1
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
now() { date +%s.%N; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
q "CREATE TABLE big (id bigint PRIMARY KEY, note text, at timestamptz)" >/dev/null
q "CREATE PUBLICATION bench FOR TABLE big" >/dev/null
echo "PostgreSQL $(q "SHOW server_version"), logical_decoding_work_mem $(q "SHOW logical_decoding_work_mem"), one transaction of $rows rows"
for mode in off on; do
    q "SELECT 1 FROM pg_create_logical_replication_slot('s_$mode', 'pgoutput')" >/dev/null
    out=$PGTRAIL_TEST_DIR/recv_$mode
    pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot "s_$mode" --start -f "$out" -F 0 -s 1 \
        -o proto_version=2 -o publication_names=bench -o streaming=$mode &
    recv=$!
    t0=$(now)
    q "INSERT INTO big SELECT g, 'row ' || g, now() FROM generate_series(1, $rows) g" >/dev/null
    t_commit=$(now)
    end=$(q "SELECT pg_current_wal_lsn()")
    # until the slot confirms everything up to the commit
    while [ "$(q "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = 's_$mode'")" != t ]; do
        sleep 0.05
    done
    t_done=$(now)
    kill "$recv"; wait "$recv" 2>/dev/null || true
    printf 'streaming=%-3s: transaction %s s, then commit to last byte %s s (total %s s), %d MB received\n' "$mode" \
        "$(diff_s "$t0" "$t_commit")" "$(diff_s "$t_commit" "$t_done")" "$(diff_s "$t0" "$t_done")" \
        "$(( $(stat -c %s "$out") / 1048576 ))"
    q "SELECT pg_drop_replication_slot('s_$mode'); TRUNCATE big" >/dev/null
done

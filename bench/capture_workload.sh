#!/usr/bin/env bash
# capture_workload.sh BIN_DIR CHANGES — capture benchmarks, inside with_pg.sh.
#
# 1. Capture against the limit: a backlog of CHANGES row changes in
#    transactions of 10 rows across three tables (inserts, then updates of
#    the same rows), drained by pgtrail-capture --endpos, and by
#    pg_recvlogical with the same wal2json options into /dev/null.
#    The same backlog is drained again by a second capture with decoder =
#    pgoutput (its own store schema and slot), against pg_recvlogical
#    reading pgoutput through a publication of the three tables: pgoutput's
#    own limit, and the wal2json one above.
# 2. Keeping pgtrail's own writes out of decoding, when the event store is in
#    the source: after capture wrote ROWS events (tagged with its replication
#    origin), two fresh wal2json slots read the whole WAL, source changes plus
#    the store's writes, once dropping the store's rows by table after
#    decoding them (filter-tables) and once by origin before (filter-origins).
set -euo pipefail
bin=$1 rows=$2
opts=(-o format-version=2 -o include-xids=1 -o include-timestamp=1 -o include-lsn=1 -o include-pk=1
      -o include-transaction=1 -o include-type-oids=1 -o include-typmod=1)
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
. "$(dirname "$0")/backlog.sh"

backlog_tables
for s in recv by_table by_origin; do q "SELECT 1 FROM pg_create_logical_replication_slot('$s', 'wal2json')" >/dev/null; done
q "CREATE PUBLICATION bench_recv FOR TABLE orders, items, payments"
q "SELECT 1 FROM pg_create_logical_replication_slot('recv_pgoutput', 'pgoutput')" >/dev/null
# the pgoutput capture first, and of the backlog's schema only: neither capture sees the other's store
pgo=(--source "$PGTRAIL_TEST_DSN" --decoder pgoutput --schema pgtrail_pgoutput --slot pgtrail_pgoutput --tables 'public.*')
"$bin/pgtrail-capture" "${pgo[@]}" --snapshot never --endpos 0/1 --log-level warning
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
# CHANGES/2 inserts then CHANGES/2 updates, 10 rows a transaction, round robin over the tables
backlog_write "$rows"
rows=$backlog_rows
end1=$(q "SELECT pg_current_wal_lsn()")

t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot recv --start --endpos "$end1" -f /dev/null "${opts[@]}"
t_recv=$(secs "$t0")
t0=$(date +%s.%N)
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end1" --batch-size 10000 >"$PGTRAIL_TEST_DIR/cap.log" 2>&1
t_cap=$(secs "$t0")
events=$(q "SELECT count(*) FROM pgtrail.events WHERE op <> 'schema'")
[ "$events" = "$rows" ] || { echo "expected $rows events, got $events" >&2; exit 1; }
printf 'capture:        %d events in %.2f s = %.0f events/s (decode, parse, hash, write, commit)\n' \
    "$rows" "$t_cap" "$(div "$rows" "$t_cap")"
printf 'pg_recvlogical: same WAL in %.2f s = %.0f changes/s (decode into /dev/null: the limit)\n' \
    "$t_recv" "$(div "$rows" "$t_recv")"
printf 'ratio capture/pg_recvlogical: %.2f (target >= 0.70)\n' "$(div "$t_recv" "$t_cap")"
sed -n 's/.*\(peak memory: .*\)/capture \1/p' "$PGTRAIL_TEST_DIR/cap.log"

end2=$(q "SELECT pg_current_wal_lsn()")
origin=$(q "SELECT pg_replication_origin_oid('pgtrail_pgtrail')")
t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot by_table --start --endpos "$end2" -f /dev/null "${opts[@]}" \
    -o filter-tables='pgtrail.*'
t_table=$(secs "$t0")
t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot by_origin --start --endpos "$end2" -f /dev/null "${opts[@]}" \
    -o filter-tables='pgtrail.*' -o filter-origins="$origin"
t_origin=$(secs "$t0")
printf 'own writes dropped by table (decoded, then dropped): %.2f s\n' "$t_table"
printf 'own writes dropped by origin (never decoded):        %.2f s  (%.1fx faster: origin kept)\n' \
    "$t_origin" "$(div "$t_table" "$t_origin")"

# 1b. decoder pgoutput, on the same backlog (after part 2: its writes are not in part 2's WAL)
t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot recv_pgoutput --start --endpos "$end1" -f /dev/null \
    -o proto_version=1 -o publication_names=bench_recv
t_recv_pgo=$(secs "$t0")
t0=$(date +%s.%N)
"$bin/pgtrail-capture" "${pgo[@]}" --endpos "$end1" --batch-size 10000 >"$PGTRAIL_TEST_DIR/cap_pgo.log" 2>&1
t_cap_pgo=$(secs "$t0")
events=$(q "SELECT count(*) FROM pgtrail_pgoutput.events WHERE op <> 'schema'")
[ "$events" = "$rows" ] || { echo "decoder pgoutput: expected $rows events, got $events" >&2; exit 1; }
printf 'capture, decoder pgoutput: %d events in %.2f s = %.0f events/s\n' "$rows" "$t_cap_pgo" "$(div "$rows" "$t_cap_pgo")"
printf 'pg_recvlogical, pgoutput:  same WAL in %.2f s = %.0f changes/s (pgoutput'"'"'s own limit)\n' \
    "$t_recv_pgo" "$(div "$rows" "$t_recv_pgo")"
printf 'ratio capture (pgoutput)/pg_recvlogical (wal2json): %.2f; /pg_recvlogical (pgoutput): %.2f\n' \
    "$(div "$t_recv" "$t_cap_pgo")" "$(div "$t_recv_pgo" "$t_cap_pgo")"

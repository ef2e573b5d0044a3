#!/usr/bin/env bash
# decoders.sh BIN_DIR CHANGES BIG_ROWS — the two decoders against their
# limits, inside with_pg.sh (any version it starts).
#
# 1. One backlog of CHANGES row changes (bench/backlog.sh: 10-row
#    transactions over three tables, inserts then updates), read through
#    four slots made before it: pg_recvlogical with wal2json (capture's
#    options) and with pgoutput (-o proto_version=N -o
#    publication_names=pgtrail) into /dev/null, the limit of each decoder;
#    then pgtrail-capture --endpos through each, into event stores in
#    another database (so neither reads the other's writes). Prints each
#    capture's ratio to its own decoder's limit, and pgoutput's limit
#    against wal2json's.
# 2. One transaction of BIG_ROWS inserted rows: capture's peak RSS through
#    each decoder (the server spills the transaction to disk before commit
#    and sends it whole after; capture holds one batch at a time).
set -euo pipefail
bin=$1 rows=$2 big=$3
w2j=(-o format-version=2 -o include-xids=1 -o include-timestamp=1 -o include-lsn=1 -o include-pk=1
     -o include-transaction=1 -o include-type-oids=1 -o include-typmod=1 -o include-not-null=1)
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
. "$(dirname "$0")/backlog.sh"
proto=$(q "SELECT CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 4 ELSE 3 END")
store() { echo "${PGTRAIL_TEST_DSN/dbname=postgres/dbname=store_$1}"; }
capture() {
    local decoder=$1 endpos=$2
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$(store "$decoder")" --decoder "$decoder" \
        --slot "cap_$decoder" --snapshot never --endpos "$endpos" --batch-size 10000 --log-level info \
        2> "$PGTRAIL_TEST_DIR/cap_$decoder.log"
    sed -n 's/.*peak memory: \([0-9]*\) kB.*/\1/p' "$PGTRAIL_TEST_DIR/cap_$decoder.log" > "$PGTRAIL_TEST_DIR/rss_$decoder"
}

backlog_tables
q "CREATE DATABASE store_wal2json" >/dev/null
q "CREATE DATABASE store_pgoutput" >/dev/null
capture pgoutput 0/1    # makes the publication before every slot
capture wal2json 0/1
q "SELECT 1 FROM pg_create_logical_replication_slot('recv_wal2json', 'wal2json')" >/dev/null
q "SELECT 1 FROM pg_create_logical_replication_slot('recv_pgoutput', 'pgoutput')" >/dev/null
backlog_write "$rows"
rows=$backlog_rows
end=$(q "SELECT pg_current_wal_lsn()")

echo "PostgreSQL $(q "SHOW server_version"), $rows changes in 10-row transactions (pgoutput protocol version $proto)"
t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot recv_wal2json --start --endpos "$end" -f /dev/null "${w2j[@]}"
t_rw=$(secs "$t0")
t0=$(date +%s.%N)
pg_recvlogical -d "$PGTRAIL_TEST_DSN" --slot recv_pgoutput --start --endpos "$end" -f /dev/null \
    -o proto_version="$proto" -o publication_names=pgtrail -o messages=true
t_rp=$(secs "$t0")
for d in wal2json pgoutput; do
    t0=$(date +%s.%N)
    capture "$d" "$end"
    eval "t_c$d=$(secs "$t0")"
    n=$(psql -qXAt -d "$(store "$d")" -c "SELECT count(*) FROM pgtrail.events WHERE op <> 'schema'")
    [ "$n" = "$rows" ] || { echo "$d: expected $rows events, got $n" >&2; exit 1; }
done
printf 'limit  wal2json: pg_recvlogical %.2f s = %.0f changes/s\n' "$t_rw" "$(div "$rows" "$t_rw")"
printf 'limit  pgoutput: pg_recvlogical %.2f s = %.0f changes/s (%.2fx wal2json'"'"'s)\n' \
    "$t_rp" "$(div "$rows" "$t_rp")" "$(div "$t_rw" "$t_rp")"
printf 'capture wal2json: %.2f s = %.0f events/s, ratio to its limit %.2f, peak RSS %d kB\n' \
    "$t_cwal2json" "$(div "$rows" "$t_cwal2json")" "$(div "$t_rw" "$t_cwal2json")" "$(cat "$PGTRAIL_TEST_DIR/rss_wal2json")"
printf 'capture pgoutput: %.2f s = %.0f events/s, ratio to its limit %.2f, peak RSS %d kB\n' \
    "$t_cpgoutput" "$(div "$rows" "$t_cpgoutput")" "$(div "$t_rp" "$t_cpgoutput")" "$(cat "$PGTRAIL_TEST_DIR/rss_pgoutput")"

q "INSERT INTO orders SELECT g, g % 997, g / 7.0, 'big ' || g, now() FROM generate_series(10000001, 10000000 + $big) g" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
for d in wal2json pgoutput; do
    t0=$(date +%s.%N)
    capture "$d" "$end"
    printf 'one transaction of %d rows, capture %s: %.2f s, peak RSS %d kB\n' "$big" "$d" "$(secs "$t0")" \
        "$(cat "$PGTRAIL_TEST_DIR/rss_$d")"
done

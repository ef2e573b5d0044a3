#!/usr/bin/env bash
# verify_workload.sh BIN_DIR EVENTS — pgtrail-verify against the read limit,
# inside with_pg.sh.
#
# A log of EVENTS captured changes (an orders table of eleven typed
# columns: inserts then updates, 1,000-row transactions), with signed
# checkpoints every 10,000 events and an anchor file. Then, each twice
# (the best counts):
#   - the read limit: COPY of the same columns in the same order, the
#     query verify's reader sends, into /dev/null (psql);
#   - pgtrail-verify --full --public-key --anchor: read, rehash every
#     event, check ids, signatures and anchors.
# Prints events/s of both and the ratio verify/COPY (target >= 0.7), and
# verify's peak memory.
set -euo pipefail
bin=$1 events=$2
work=$PGTRAIL_TEST_DIR/verify_bench
mkdir -p "$work"
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
q "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, amount numeric(12,2),
   currency char(3), note text, created_at timestamptz, flags int[], doc jsonb, paid boolean, blob bytea)"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
half=$((events / 2))
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN FOR i IN 0..($half / 1000 - 1) LOOP
  INSERT INTO orders SELECT g, g % 9973, 'new', g / 7.0, 'EUR', 'order "' || g || '" via web', now(),
    ARRAY[1,2,3], jsonb_build_object('k', g, 'tags', ARRAY['a','b']), g % 2 = 0, decode(md5(g::text), 'hex')
    FROM generate_series(i * 1000 + 1, i * 1000 + 1000) g;
  COMMIT;
END LOOP; END \$\$;
DO \$\$ BEGIN FOR i IN 0..($half / 1000 - 1) LOOP
  UPDATE orders SET status = 'shipped', amount = amount + 1 WHERE id BETWEEN i * 1000 + 1 AND i * 1000 + 1000;
  COMMIT;
END LOOP; END \$\$;
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" \
    --log-level warning --signing-key "$work/signing.pem" --anchor-file "$work/anchor.jsonl" \
    --checkpoint-events 10000 --batch-size 10000
n=$(q "SELECT count(*) FROM pgtrail.events")
echo "log: $n events, $(q "SELECT count(*) FROM pgtrail.checkpoints") signed checkpoints, $(q "SELECT pg_size_pretty(pg_total_relation_size('pgtrail.events'))")"
q "VACUUM ANALYZE pgtrail.events"

copy_sql="COPY (SELECT id, lsn, commit_lsn, xid, committed_at, schema_name, table_name, schema_version, op,
  key, row, old, unchanged, actor, action, metadata, prev_hash, hash FROM pgtrail.events WHERE id > 0 ORDER BY id) TO STDOUT"
tc=1e30 tv=1e30
for round in 1 2; do
    t0=$(date +%s.%N)
    psql -qX -v ON_ERROR_STOP=1 -c "$copy_sql" >/dev/null
    tc=$(best "$tc" "$(secs "$t0")")
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --save=off \
        --public-key "$work/public.pem" --anchor "$work/anchor.jsonl" --format json > "$work/out.json"
    tv=$(best "$tv" "$(secs "$t0")")
    grep -q '"ok":true' "$work/out.json" || { echo "verify did not pass: $(cat "$work/out.json")"; exit 1; }
done
awk -v n="$n" -v tc="$tc" -v tv="$tv" -v rss="$(cat "$work/rss")" 'BEGIN {
    printf "COPY TO STDOUT: %d events in %.2f s = %.0f events/s (same columns, same order, into /dev/null)\n", n, tc, n / tc
    printf "pgtrail-verify: %d events in %.2f s = %.0f events/s (--full: read, SHA-256 chain, ids, signatures, anchors); peak memory %d kB\n", n, tv, n / tv, rss
    printf "ratio verify/COPY: %.2f (target >= 0.70)\n", tc / tv
}'

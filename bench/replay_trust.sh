#!/usr/bin/env bash
# replay_trust.sh BIN_DIR CHANGES — what replay's checks of signed
# checkpoints and the anchor file cost (issue 14), inside with_pg.sh.
#
# pgtrail-capture records CHANGES row changes (three tables, transactions of
# 10 rows: inserts, updates, a delete) with a signing key and an anchor file,
# a checkpoint every 10,000 events. The same log is then replayed with
# --create-tables into fresh databases, twice each, interleaved (a b a b):
#   a. without --public-key / --anchor (the chain alone is checked);
#   b. with both: every checkpoint's signature and anchor line is checked as
#      replay passes it, and each range up to the last checkpoint in it is
#      walked first (chain and checkpoints, nothing applied).
# The faster run of each counts. Prints events/s of both and the ratio b/a;
# the walk reads the log a second time, at about verify's speed.
set -euo pipefail
bin=$1 changes=$2
dir=$PGTRAIL_TEST_DIR
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
dsn() { echo "$PGTRAIL_TEST_DSN dbname=$1"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }

openssl genpkey -algorithm ed25519 -out "$dir/signing.pem" 2>/dev/null
openssl pkey -in "$dir/signing.pem" -pubout -out "$dir/public.pem"
q <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, customer int, amount numeric(12,2), note text);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, sku text, qty int);
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint, method text, paid boolean);
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning
rounds=$((changes / 30))
q <<SQL
DO \$\$ DECLARE p bigint; BEGIN FOR k IN 0..($rounds - 1) LOOP
  p := greatest(k - 1, 0);
  INSERT INTO orders SELECT g, g % 997, g / 7.0, 'order ' || g FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE orders SET amount = amount + 1 WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM orders WHERE id = 6 * k + 6;
  COMMIT;
  INSERT INTO items SELECT g, g / 3, 'sku-' || (g % 100), 1 FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE items SET qty = qty + 1 WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM items WHERE id = 6 * k + 6;
  COMMIT;
  INSERT INTO payments SELECT g, g / 3, 'card', false FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE payments SET paid = true WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM payments WHERE id = 6 * k + 6;
  COMMIT;
END LOOP; END \$\$;
SQL
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q -c 'SELECT pg_current_wal_lsn()')" \
    --signing-key "$dir/signing.pem" --anchor-file "$dir/anchor.jsonl" --checkpoint-events 10000 --log-level warning
events=$(q -c "SELECT max(id) FROM pgtrail.events")
echo "log: $events events, $(q -c 'SELECT count(*) FROM pgtrail.checkpoints') signed checkpoints"

best_plain=0 best_checked=0 n=0
run() {  # run NAME ARGS...: replay into a fresh database, print and keep events/s
    local name=$1 t rate; shift
    n=$((n + 1))
    q -c "CREATE DATABASE r$n"
    t=$(date +%s.%N)
    "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn "r$n")" --create-tables \
        --log-level warning "$@" 2>/dev/null
    rate=$(awk -v e="$events" -v s="$(secs "$t")" 'BEGIN { printf "%.0f", e / s }')
    echo "$name: $rate events/s"
    if [ "$name" = plain ]; then
        [ "$rate" -gt "$best_plain" ] && best_plain=$rate
    elif [ "$rate" -gt "$best_checked" ]; then
        best_checked=$rate
    fi
    q -c "DROP DATABASE r$n"
}
for _ in 1 2; do
    run plain
    run checked --public-key "$dir/public.pem" --anchor "$dir/anchor.jsonl"
done
awk -v a="$best_plain" -v b="$best_checked" \
    'BEGIN { printf "replay_trust: %d events/s with --public-key and --anchor against %d without: ratio %.2f\n", b, a, b / a }'

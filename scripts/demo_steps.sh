#!/usr/bin/env bash
# demo_steps.sh BIN_DIR — the demo's steps, inside a throwaway cluster
# (tests/harness/with_pg.sh exports PGHOST etc. and PGTRAIL_TEST_DSN).
# tests/integration/test_demo.sh runs these same steps in the suite.
set -euo pipefail
bin=$1
say() { printf '\n== %s\n' "$*"; }

say "a small shop application: customers and orders"
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id int REFERENCES shop.customers,
                          amount numeric(12,2), status text, placed_at timestamptz DEFAULT now());
SQL

say "a signing key for checkpoints (its public half goes to pgtrail-verify)"
keys=$PGTRAIL_TEST_DIR/demo-keys
mkdir -p "$keys"
openssl genpkey -algorithm ed25519 -out "$keys/signing.pem" 2>/dev/null
chmod 600 "$keys/signing.pem"
openssl pkey -in "$keys/signing.pem" -pubout -out "$keys/verify.pub.pem"
signing=(--signing-key "$keys/signing.pem" --anchor-file "$keys/anchor.jsonl" --checkpoint-events 500)

say "pgtrail-capture creates its slot and event store (schema pgtrail)"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1

say "the application works: 2,000 orders, some paid, one customer renamed, one order deleted"
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO shop.customers SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 100) g;
INSERT INTO shop.orders (id, customer_id, amount, status)
  SELECT g, 1 + g % 100, (g * 7.31)::numeric(12,2), 'new' FROM generate_series(1, 2000) g;
UPDATE shop.orders SET status = 'paid' WHERE id % 3 = 0;
SQL
before=$(psql -qXAt -c "SELECT clock_timestamp()")
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
SELECT pg_sleep(0.05);
BEGIN;
  SELECT pgtrail.set_context('support@shop.example', 'rename-customer', '{"ticket": 4711}');
  UPDATE shop.customers SET name = 'Zoë Müller' WHERE id = 42;
COMMIT;
DELETE FROM shop.orders WHERE id = 7;
SQL
end=$(psql -qXAt -c "SELECT pg_current_wal_lsn()")

say "pgtrail-capture streams every committed change into the event table, up to $end"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" "${signing[@]}"

say "what was captured"
psql -qX -c "SELECT op, schema_name || '.' || table_name AS \"table\", count(*) AS events
             FROM pgtrail.events GROUP BY 1, 2 ORDER BY 2, 1"
say "one captured change: the customer rename, with its place in the hash chain"
psql -qX -x -c "SELECT id, lsn, xid, committed_at, op, key, row, old,
                       encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
                FROM pgtrail.events WHERE table_name = 'customers' AND op = 'update'"
say "the chain checked by an independent checker (Python, written from docs/FORMAT.md alone)"
python3 "$(dirname "$0")/../tests/checker/pgtrail_check.py"

say "pgtrail-replay rebuilds the shop as it was at $before, in another database"
psql -qX -c "CREATE DATABASE shop_before" >/dev/null
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "${PGTRAIL_TEST_DSN/dbname=postgres/dbname=shop_before}" \
    --create-tables --until-time "$before"
psql -qX -d shop_before -c "SELECT (SELECT name FROM shop.customers WHERE id = 42) AS customer_42,
                                   (SELECT count(*) FROM shop.orders) AS orders"

say "customer 42's history, from the log alone: who changed it, when, why"
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --history --table shop.customers --key '{"id": 42}' --format table

say "pgtrail-verify audits the log: hash chain, gapless ids, signed checkpoints, the anchor file"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --public-key "$keys/verify.pub.pem" --anchor "$keys/anchor.jsonl" --full

say "someone with write access edits an order's amount in the event table; verify names the event"
tampered=$(psql -qXAt -c "UPDATE pgtrail.events SET row = jsonb_set(row::jsonb, '{amount}', '\"0.01\"')::json
                          WHERE id = (SELECT min(id) FROM pgtrail.events WHERE table_name = 'orders' AND op = 'update')
                          RETURNING id")
set +e
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --public-key "$keys/verify.pub.pem" --anchor "$keys/anchor.jsonl" --full
verdict=$?
set -e

say "summary"
printf '%s\n' \
    "events captured:  $(psql -qXAt -c "SELECT count(*) FROM pgtrail.events") (chain checked, $(psql -qXAt -c "SELECT count(*) FROM pgtrail.checkpoints") signed checkpoints)" \
    "replayed to:      $before, into database shop_before (customer 42 still had its old name)" \
    "verify:           OK on the log as captured; exit $verdict after event $tampered was edited in SQL"

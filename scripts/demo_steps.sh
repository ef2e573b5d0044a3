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
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end"

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

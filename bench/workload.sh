#!/usr/bin/env bash
# workload.sh BIN_DIR EVENTS — the body of bench/run.sh, inside with_pg.sh.
set -euo pipefail
bin=$1 events=$2
lines=$PGTRAIL_TEST_DIR/wal2json.lines

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, amount numeric(12,2),
  currency char(3), note text, created_at timestamptz, flags int[], doc jsonb, paid boolean, blob bytea);
SELECT 1 FROM pg_create_logical_replication_slot('bench', 'wal2json');
INSERT INTO orders SELECT g, g % 9973, 'new', g / 7.0, 'EUR', 'order "' || g || '" via web',
  now(), ARRAY[1,2,3], jsonb_build_object('k', g, 'tags', ARRAY['a','b']), g % 2 = 0,
  decode(md5(g::text), 'hex') FROM generate_series(1, 60000) g;
UPDATE orders SET status = 'shipped', amount = amount + 1 WHERE id % 3 = 0;
DELETE FROM orders WHERE id % 10 = 0;
SQL
psql -qXAt >"$lines" <<'SQL'
SELECT data FROM pg_logical_slot_get_changes('bench', NULL, NULL, 'format-version', '2',
  'include-xids', '1', 'include-timestamp', '1', 'include-lsn', '1', 'include-pk', '1',
  'include-transaction', '1', 'include-type-oids', '1', 'include-typmod', '1');
SQL
echo "recorded $(wc -l <"$lines") wal2json lines ($(du -h "$lines" | cut -f1))"
"$bin/bench_parser" "$lines" "$events"
"$bin/bench_writer" "$events"

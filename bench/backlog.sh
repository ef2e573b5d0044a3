# backlog.sh — the three-table workload capture benchmarks replay, sourced
# by bench/capture_workload.sh and bench/kafka_workload.sh:
#   backlog_tables        create orders, items, payments
#   backlog_write ROWS    ROWS/2 inserts then ROWS/2 updates of the same
#                         rows, 10 rows a transaction, round robin over the
#                         tables; sets backlog_rows to the changes written
backlog_tables() {
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, customer int, amount numeric(12,2), note text, at timestamptz);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, sku text, qty int, price numeric(10,2));
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint, method text, paid boolean, at timestamptz);
SQL
}

backlog_write() {
    local half=$(($1 / 2))
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN FOR i IN 0..($half / 30 - 1) LOOP
  INSERT INTO orders SELECT g, g % 997, g / 7.0, 'order number ' || g, now() FROM generate_series(i * 10 + 1, i * 10 + 10) g;
  COMMIT;
  INSERT INTO items SELECT g, g, 'sku-' || (g % 100), 1 + g % 5, 9.99 FROM generate_series(i * 10 + 1, i * 10 + 10) g;
  COMMIT;
  INSERT INTO payments SELECT g, g, 'card', false, now() FROM generate_series(i * 10 + 1, i * 10 + 10) g;
  COMMIT;
END LOOP; END \$\$;
DO \$\$ BEGIN FOR i IN 0..($half / 30 - 1) LOOP
  UPDATE orders SET amount = amount + 1 WHERE id BETWEEN i * 10 + 1 AND i * 10 + 10; COMMIT;
  UPDATE items SET qty = qty + 1 WHERE id BETWEEN i * 10 + 1 AND i * 10 + 10; COMMIT;
  UPDATE payments SET paid = true WHERE id BETWEEN i * 10 + 1 AND i * 10 + 10; COMMIT;
END LOOP; END \$\$;
SQL
    backlog_rows=$(( (half / 30) * 30 * 2 ))
}

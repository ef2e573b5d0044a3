#!/usr/bin/env bash
# replay_workload.sh BIN_DIR CHANGES [NAIVE_EVENTS] — the replay benchmark
# (issue 5), inside with_pg.sh.
#
# pgtrail-capture records CHANGES row changes made in the source database
# (three tables; source transactions of 10 rows: 6 inserts, 3 updates of
# rows the table's previous transaction inserted, 1 delete), then the same
# log goes, each time into a fresh database holding only the tables'
# schema (pg_dump --schema-only), through:
#   a. pgtrail-replay (the target must then equal the source, byte for byte);
#   b. the naive client (bench_naive_apply: one prepared statement per change,
#      autocommit), on the first NAIVE_EVENTS events only (default 100,000;
#      0 = all) so the run stays short; its rate is per change all the same;
#   c. COPY of only the final rows of the source tables: the physical limit.
# Each is run twice, interleaved (a b c a b c), and the faster run counts.
# Prints events/s, rows/s, the ratio replay/naive (target >= 5), the ratio of
# replay's events/s to COPY's rows/s, and replay's peak RSS.
set -euo pipefail
bin=$1 changes=$2 naive_events=${3:-100000}
dir=$PGTRAIL_TEST_DIR
tables=(orders items payments)
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
dsn() { echo "$PGTRAIL_TEST_DSN dbname=$1"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
# md5 of each table's rows in key order (same cluster, same session settings)
digest() { local t; for t in "${tables[@]}"; do q -d "$1" -c "COPY (SELECT * FROM $t ORDER BY id) TO STDOUT" | md5sum; done; }
# a fresh database with the source tables' schema and nothing else
fresh_target() {
    q -c "CREATE DATABASE $1"
    pg_dump --schema-only "${tables[@]/#/-t}" postgres | q -d "$1" >/dev/null
}

q <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, customer int, amount numeric(12,2), note text, at timestamptz);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, sku text, qty int, price numeric(10,2));
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint, method text, paid boolean, at timestamptz);
SQL
# capture from before the first write: the slot exists, the tables are empty
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --snapshot never --endpos 0/1 --log-level warning

# Round k writes one transaction per table: rows 6k+1..6k+6 inserted, rows
# 6p+1..6p+3 updated and row d deleted, p the previous round and d = 6p+6
# (in round 0, p = 0 and d = 5), so every statement hits the rows it names.
rounds=$((changes / 30))
t0=$(date +%s.%N)
q <<SQL
DO \$\$ DECLARE p bigint; d bigint; BEGIN FOR k IN 0..($rounds - 1) LOOP
  p := greatest(k - 1, 0); d := CASE k WHEN 0 THEN 5 ELSE 6 * p + 6 END;
  INSERT INTO orders SELECT g, g % 997, g / 7.0, 'order number ' || g, now() FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE orders SET amount = amount + 1, note = note || ' (changed)', at = now() WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM orders WHERE id = d;
  COMMIT;
  INSERT INTO items SELECT g, g / 3, 'sku-' || (g % 100), 1 + g % 5, 9.99 FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE items SET qty = qty + 1, price = price * 0.9 WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM items WHERE id = d;
  COMMIT;
  INSERT INTO payments SELECT g, g / 3, 'card', false, now() FROM generate_series(6 * k + 1, 6 * k + 6) g;
  UPDATE payments SET paid = true, method = 'card, settled', at = now() WHERE id BETWEEN 6 * p + 1 AND 6 * p + 3;
  DELETE FROM payments WHERE id = d;
  COMMIT;
END LOOP; END \$\$;
SQL
t_gen=$(secs "$t0")
end=$(q -c "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --batch-size 10000 --log-level warning
t_cap=$(secs "$t0")
events=$(q -c "SELECT count(*) FROM pgtrail.events")
expected=$((rounds * 30))
[ "$events" = "$expected" ] || { echo "expected $expected events in the log, got $events" >&2; exit 1; }
if [ "$naive_events" = 0 ] || [ "$naive_events" -gt "$events" ]; then naive_events=$events; fi
printf 'source: %d changes (%s) in %d transactions of 10 rows over 3 tables: generated in %.1f s, captured in %.1f s\n' \
    "$events" "$(q -c "SELECT string_agg(n || ' ' || op, ', ' ORDER BY n DESC) FROM
                       (SELECT op, count(*) n FROM pgtrail.events GROUP BY op) s")" \
    "$((rounds * 3))" "$t_gen" "$t_cap"
for t in "${tables[@]}"; do q -c "\\copy $t TO '$dir/$t.copy'"; done	# for c., not timed
rows=$(for t in "${tables[@]}"; do cat "$dir/$t.copy"; done | wc -l)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
src_digest=$(digest postgres)
t_replay='' t_naive='' t_copy='' rss_kb=0 runs=()

# a. pgtrail-replay, all events; the target must then equal the source
run_replay() {
    local db=t_replay$1 t0 t
    fresh_target "$db"; q -c CHECKPOINT
    t0=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$dir/replay.rss" \
            "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn "$db")" --log-level warning
        rss_kb=$(awk -v a="$rss_kb" '{ print ($1 > a ? $1 : a) }' "$dir/replay.rss")
    else
        "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn "$db")" --log-level warning
    fi
    t=$(secs "$t0")
    [ "$(q -d "$db" -c "SELECT last_event_id FROM pgtrail_replay.position")" = "$(q -c "SELECT max(id) FROM pgtrail.events")" ] \
        || { echo "replay did not apply every event" >&2; exit 1; }
    [ "$(digest "$db")" = "$src_digest" ] || { echo "replay target differs from the source" >&2; exit 1; }
    t_replay=$(best "$t_replay" "$t") runs+=("replay $(printf %.2f "$t")")
}
# b. the naive client, the first naive_events events; row counts checked
run_naive() {
    local db=t_naive$1 t0 t want got tb
    fresh_target "$db"; q -c CHECKPOINT
    t0=$(date +%s.%N)
    "$bin/bench_naive_apply" "$PGTRAIL_TEST_DSN" "$(dsn "$db")" "$naive_events" >/dev/null
    t=$(secs "$t0")
    for tb in "${tables[@]}"; do
        want=$(q -c "SELECT coalesce(sum(CASE op WHEN 'delete' THEN -1 WHEN 'update' THEN 0 ELSE 1 END), 0)
                     FROM pgtrail.events WHERE id <= $naive_events AND table_name = '$tb'")
        got=$(q -d "$db" -c "SELECT count(*) FROM $tb")
        [ "$got" = "$want" ] || { echo "naive client: $tb has $got rows, expected $want" >&2; exit 1; }
    done
    [ "$naive_events" != "$events" ] || [ "$(digest "$db")" = "$src_digest" ] \
        || { echo "naive target differs from the source" >&2; exit 1; }
    t_naive=$(best "$t_naive" "$t") runs+=("naive $(printf %.2f "$t")")
}
# c. COPY of only the final rows, from the files written above
run_copy() {
    local db=t_copy$1 t0 t tb
    fresh_target "$db"; q -c CHECKPOINT
    t0=$(date +%s.%N)
    for tb in "${tables[@]}"; do echo "\\copy $tb FROM '$dir/$tb.copy'"; done | q -d "$db"
    t=$(secs "$t0")
    [ "$(digest "$db")" = "$src_digest" ] || { echo "COPY target differs from the source" >&2; exit 1; }
    t_copy=$(best "$t_copy" "$t") runs+=("COPY $(printf %.2f "$t")")
}
# each twice, interleaved, so a passing load on the machine hits all three; the best counts
for round in 1 2; do run_replay $round; run_naive $round; run_copy $round; done

r_replay=$(div "$events" "$t_replay") r_naive=$(div "$naive_events" "$t_naive") r_copy=$(div "$rows" "$t_copy")
rss=$( [ "$rss_kb" != 0 ] && awk -v k="$rss_kb" 'BEGIN { printf "%.1f MB", k / 1024 }' || echo "not measured: no /usr/bin/time")
printf 'runs (s): %s; best of 2 counts\n' "$(IFS=,; echo "${runs[*]}" | sed 's/,/, /g')"
printf 'replay:       %7d events in %6.2f s = %6.0f events/s (peak RSS %s; target equals the source)\n' \
    "$events" "$t_replay" "$r_replay" "$rss"
printf 'naive client: %7d events in %6.2f s = %6.0f events/s (one prepared statement per change, autocommit%s)\n' \
    "$naive_events" "$t_naive" "$r_naive" "$([ "$naive_events" = "$events" ] || echo "; first $naive_events events only")"
printf 'COPY:         %7d rows   in %6.2f s = %6.0f rows/s   (only the final rows: the physical limit)\n' \
    "$rows" "$t_copy" "$r_copy"
printf 'ratio replay/naive (events/s): %.1f (target >= 5)\n' "$(div "$r_replay" "$r_naive")"
printf 'ratio replay events/s to COPY rows/s: %.2f; replay time to COPY time: %.1fx\n' \
    "$(div "$r_replay" "$r_copy")" "$(div "$t_replay" "$t_copy")"

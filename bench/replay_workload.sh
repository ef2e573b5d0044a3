#!/usr/bin/env bash
# replay_workload.sh BIN_DIR CHANGES [NAIVE_EVENTS [WORKLOAD]] — the replay
# benchmark (issues 5 and 19), inside with_pg.sh.
#
# pgtrail-capture records CHANGES row changes made in the source database
# (three tables, source transactions of 10 rows), by WORKLOAD:
#   mixed   (default) 6 inserts, 3 updates of rows the table's previous
#           transaction inserted, 1 delete per transaction;
#   updates every row inserted, then updated 10 times: ten rounds over all
#           rows, so a row's updates lie a whole round (a third of the
#           rows) apart in the log;
# then the same log goes, each time into a fresh database holding only the
# tables' schema (pg_dump --schema-only), through:
#   a. pgtrail-replay (the target must then equal the source, byte for byte),
#      and again with --jobs $JOBS (default 3: windows written on three target
#      connections at once, replay/window_jobs.h);
#   b. the naive client (bench_naive_apply: one prepared statement per change,
#      autocommit), on the first NAIVE_EVENTS events only (default 100,000;
#      0 = all) so the run stays short; its rate is per change all the same;
#   c. COPY of only the final rows of the source tables: the physical limit;
#   d. COPY of the whole log out of the event store to /dev/null: the floor
#      of any replay that reads (and checks) every event.
# Each is run twice, interleaved (a b c d a b c d), and the faster run counts.
# Prints replay's time against COPY's (target <= 2x), its events/s against
# the naive client's (target >= 20x), against reading the log alone, and
# replay's peak RSS (target < 64 MB).
set -euo pipefail
bin=$1 changes=$2 naive_events=${3:-100000} workload=${4:-mixed} jobs=${JOBS:-3}
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

# mixed: round k writes one transaction per table: rows 6k+1..6k+6
# inserted, rows 6p+1..6p+3 updated and row d deleted, p the previous round
# and d = 6p+6 (in round 0, p = 0 and d = 5), so every statement hits the
# rows it names.
gen_mixed() {
    local rounds=$((changes / 30))
    expected=$((rounds * 30))
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
}
# updates: n rows per table inserted 10 to a transaction, then ten rounds
# each updating every row, 10 to a transaction (11 changes per row)
gen_updates() {
    local n=$(( (changes / 33 + 9) / 10 * 10 ))
    expected=$((n * 33))
    q <<SQL
DO \$\$ BEGIN
  FOR k IN 0..($n / 10 - 1) LOOP
    INSERT INTO orders SELECT g, g % 997, g / 7.0, 'order number ' || g, now() FROM generate_series(10 * k + 1, 10 * k + 10) g;
    COMMIT;
    INSERT INTO items SELECT g, g / 3, 'sku-' || (g % 100), 1 + g % 5, 9.99 FROM generate_series(10 * k + 1, 10 * k + 10) g;
    COMMIT;
    INSERT INTO payments SELECT g, g / 3, 'card', false, now() FROM generate_series(10 * k + 1, 10 * k + 10) g;
    COMMIT;
  END LOOP;
  FOR r IN 1..10 LOOP FOR k IN 0..($n / 10 - 1) LOOP
    UPDATE orders SET amount = amount + 1, note = 'order number ' || id || ' (changed ' || r || ')', at = now()
      WHERE id BETWEEN 10 * k + 1 AND 10 * k + 10;
    COMMIT;
    UPDATE items SET qty = qty + 1, price = price * 0.9 WHERE id BETWEEN 10 * k + 1 AND 10 * k + 10;
    COMMIT;
    UPDATE payments SET paid = r % 2 = 0, method = 'card, round ' || r, at = now() WHERE id BETWEEN 10 * k + 1 AND 10 * k + 10;
    COMMIT;
  END LOOP; END LOOP;
END \$\$;
SQL
}
t0=$(date +%s.%N)
case $workload in
    mixed) gen_mixed ;;
    updates) gen_updates ;;
    *) echo "unknown workload '$workload' (mixed or updates)" >&2; exit 2 ;;
esac
t_gen=$(secs "$t0")
end=$(q -c "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --batch-size 10000 --log-level warning
t_cap=$(secs "$t0")
events=$(q -c "SELECT count(*) FROM pgtrail.events WHERE op IN ('insert', 'update', 'delete')")
[ "$events" = "$expected" ] || { echo "expected $expected row changes in the log, got $events" >&2; exit 1; }
if [ "$naive_events" = 0 ] || [ "$naive_events" -gt "$events" ]; then naive_events=$events; fi
printf 'source (%s): %d changes (%s) in %d transactions of 10 rows over 3 tables: generated in %.1f s, captured in %.1f s\n' \
    "$workload" "$events" "$(q -c "SELECT string_agg(n || ' ' || op, ', ' ORDER BY n DESC) FROM
                       (SELECT op, count(*) n FROM pgtrail.events WHERE op <> 'schema' GROUP BY op) s")" \
    "$((events / 10))" "$t_gen" "$t_cap"
for t in "${tables[@]}"; do q -c "\\copy $t TO '$dir/$t.copy'"; done	# for c., not timed
rows=$(for t in "${tables[@]}"; do cat "$dir/$t.copy"; done | wc -l)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
src_digest=$(digest postgres)
t_replay='' t_jobs='' t_naive='' t_copy='' t_read='' rss_kb=0 rss_jobs_kb=0 runs=()

# a. pgtrail-replay, all events (with --jobs N: J=N); the target must then equal the source
run_replay() {
    local db=t_replay$1${2:-} t0 t rss=0 cpu=
    fresh_target "$db"; q -c CHECKPOINT
    t0=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M %U %S' -o "$dir/replay.rss" "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" \
            --target "$(dsn "$db")" --jobs "${2:-1}" --log-level info 2>>"$dir/replay${2:-}.log"
        rss=$(awk '{ print $1 }' "$dir/replay.rss")
        cpu=$(awk '{ printf ", its CPU %.2f", $2 + $3 }' "$dir/replay.rss")
    else
        "$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn "$db")" --jobs "${2:-1}" \
            --log-level info 2>>"$dir/replay${2:-}.log"
    fi
    t=$(secs "$t0")
    [ "$(q -d "$db" -c "SELECT last_event_id FROM pgtrail_replay.position")" = "$(q -c "SELECT max(id) FROM pgtrail.events")" ] \
        || { echo "replay did not apply every event" >&2; exit 1; }
    [ "$(digest "$db")" = "$src_digest" ] || { echo "replay target differs from the source" >&2; exit 1; }
    if [ -z "${2:-}" ]; then
        t_replay=$(best "$t_replay" "$t") runs+=("replay $(printf %.2f "$t")$cpu")
        rss_kb=$(awk -v a="$rss_kb" -v b="$rss" 'BEGIN { print (b > a ? b : a) }')
    else
        t_jobs=$(best "$t_jobs" "$t") runs+=("replay --jobs $2 $(printf %.2f "$t")$cpu")
        rss_jobs_kb=$(awk -v a="$rss_jobs_kb" -v b="$rss" 'BEGIN { print (b > a ? b : a) }')
    fi
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
                     FROM pgtrail.events WHERE id <= $naive_events AND table_name = '$tb' AND op <> 'schema'")
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
# d. the whole log read out of the event store, as replay reads it, to /dev/null
run_read() {
    local t0 t
    t0=$(date +%s.%N)
    q -c "COPY (SELECT * FROM pgtrail.events ORDER BY id) TO STDOUT" >/dev/null
    t=$(secs "$t0")
    t_read=$(best "$t_read" "$t") runs+=("read $(printf %.2f "$t")")
}
# each twice, interleaved, so a passing load on the machine hits all four; the best counts
for round in 1 2; do run_replay $round; run_replay $round "$jobs"; run_naive $round; run_copy $round; run_read; done
r_replay=$(div "$events" "$t_replay") r_naive=$(div "$naive_events" "$t_naive") r_copy=$(div "$rows" "$t_copy")
mb() { [ "$1" != 0 ] && awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }' || echo "not measured: no /usr/bin/time"; }
rss=$(mb "$rss_kb") rss_jobs=$(mb "$rss_jobs_kb")
printf 'runs (s): %s; best of 2 counts\n' "$(IFS=';'; echo "${runs[*]}" | sed 's/;/; /g')"
printf 'replay:       %7d events in %6.2f s = %6.0f events/s (peak RSS %s; target equals the source)\n' \
    "$events" "$t_replay" "$r_replay" "$rss"
printf 'replay --jobs %d: %d events in %6.2f s = %6.0f events/s (peak RSS %s; target equals the source)\n' \
    "$jobs" "$events" "$t_jobs" "$(div "$events" "$t_jobs")" "$rss_jobs"
printf 'naive client: %7d events in %6.2f s = %6.0f events/s (one prepared statement per change, autocommit%s)\n' \
    "$naive_events" "$t_naive" "$r_naive" "$([ "$naive_events" = "$events" ] || echo "; first $naive_events events only")"
printf 'COPY:         %7d rows   in %6.2f s = %6.0f rows/s   (only the final rows: the physical limit)\n' \
    "$rows" "$t_copy" "$r_copy"
printf 'read the log: %7d events in %6.2f s (COPY of pgtrail.events to /dev/null: the floor of a replay that reads every event)\n' \
    "$(q -c "SELECT count(*) FROM pgtrail.events")" "$t_read"
printf 'ratio replay time to COPY time of the final rows: %.2fx (target <= 2, aim 1.2)\n' "$(div "$t_replay" "$t_copy")"
printf 'ratio replay --jobs %d time to COPY time of the final rows: %.2fx; to replay on one connection: %.2fx\n' \
    "$jobs" "$(div "$t_jobs" "$t_copy")" "$(div "$t_jobs" "$t_replay")"
printf 'ratio replay/naive (events/s): %.1f (target >= 20)\n' "$(div "$r_replay" "$r_naive")"
printf 'ratio replay time to reading the log: %.2fx; peak RSS %s (target < 64 MB)\n' "$(div "$t_replay" "$t_read")" "$rss"
# replay's own account of its last run: events/s inside the process, what the windows collapsed and their time
grep -E "info: (replayed|net effect)" "$dir/replay.log" | tail -n 2 | sed 's/^pgtrail-replay: info: /replay (last run): /'
grep -E "info: (replayed|net effect)" "$dir/replay$jobs.log" | tail -n 2 | sed "s/^pgtrail-replay: info: /replay --jobs $jobs (last run): /"

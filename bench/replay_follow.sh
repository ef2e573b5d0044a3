#!/usr/bin/env bash
# replay_follow.sh BIN_DIR SECONDS — does a follower keep up (issue 19)?
# Inside with_pg.sh: pgbench TPC-B (2 clients, SECONDS) writes the source,
# pgtrail-capture follows it into the event store, and pgtrail-replay
# --follow (polling every 200 ms, windows on) follows the event store into a
# target restored from the source's schema. Once a second the script reads
# how many events the store has and where the follower is. Prints the
# capture rate, the follower's lag (largest, and mean, in events and in
# seconds of capture), the time each needs to catch up once pgbench stops,
# and checks that the follower's tables then equal the source's.
set -euo pipefail
bin=$1 secs=$2
dir=$PGTRAIL_TEST_DIR
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
tables=(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history)
digest() { local t; for t in "${tables[@]}"; do q -d "$1" -c "COPY (SELECT * FROM $t x ORDER BY x::text) TO STDOUT" | md5sum; done; }

pgbench -i -s 1 -q >/dev/null 2>&1
q -c "CREATE DATABASE follower"
pg_dump --schema-only "${tables[@]/#/-t}" postgres | q -d follower >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --log-level warning >"$dir/capture.log" 2>&1 &
capture=$!
until [ "$(q -c "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot'" 2>/dev/null || echo 0)" -ge 100011 ]; do sleep 0.5; done
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$PGTRAIL_TEST_DSN dbname=follower" --follow \
    --poll-interval-ms 200 --log-level info >"$dir/replay.log" 2>&1 &
replay=$!
position() { q -d follower -c "SELECT coalesce(max(last_event_id), 0) FROM pgtrail_replay.position" 2>/dev/null || echo 0; }
# the snapshot first: the follower copies the 100,000 accounts
until [ "$(position)" -ge "$(q -c "SELECT max(id) FROM pgtrail.events")" ]; do sleep 0.5; done
start_id=$(q -c "SELECT max(id) FROM pgtrail.events")
pgbench -n -c 2 -j 2 -T "$secs" >"$dir/pgbench.out" 2>&1 &
load=$!
max_lag=0 sum_lag=0 n=0
while kill -0 "$load" 2>/dev/null; do
    sleep 1
    head=$(q -c "SELECT max(id) FROM pgtrail.events") at=$(position)
    lag=$((head - at)); [ "$lag" -gt "$max_lag" ] && max_lag=$lag
    sum_lag=$((sum_lag + lag)) n=$((n + 1))
done
wait "$load"
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.out")
# one more change marks the end; capture has caught up when it is stored
t0=$(date +%s.%N)
q -c "UPDATE pgbench_branches SET filler = 'the end' WHERE bid = 1"
until [ "$(q -c "SELECT count(*) FROM pgtrail.events WHERE table_name = 'pgbench_branches' AND row->>'filler' LIKE 'the end%'")" = 1 ]; do
    sleep 0.1
done
t_cap=$(secs_since "$t0")
head=$(q -c "SELECT max(id) FROM pgtrail.events")
until [ "$(position)" -ge "$head" ]; do sleep 0.1; done
t_rep=$(secs_since "$t0")
kill -TERM "$replay" "$capture"; wait "$replay" "$capture" || true
for t in "${tables[@]}"; do [ "$(q -d follower -c "COPY (SELECT * FROM $t x ORDER BY x::text) TO STDOUT" | md5sum)" = "$(q -c "COPY (SELECT * FROM $t x ORDER BY x::text) TO STDOUT" | md5sum)" ] || echo "differs: $t" >&2; done
events=$((head - start_id))
rate=$(awk -v e="$events" -v s="$secs" 'BEGIN { printf "%.0f", e / s }')
[ "$(digest follower)" = "$(digest postgres)" ] || { echo "the follower's tables differ from the source's" >&2; exit 1; }
printf 'pgbench: %s tps for %d s; capture stored %d events (%s events/s)\n' "$tps" "$secs" "$events" "$rate"
printf 'follower lag, sampled each second: largest %d events (%.2f s of capture), mean %.0f events (%.2f s)\n' \
    "$max_lag" "$(awk -v l="$max_lag" -v r="$rate" 'BEGIN { print l / r }')" \
    "$(awk -v s="$sum_lag" -v n="$n" 'BEGIN { print n ? s / n : 0 }')" \
    "$(awk -v s="$sum_lag" -v n="$n" -v r="$rate" 'BEGIN { print n ? s / n / r : 0 }')"
printf 'after pgbench stopped: capture caught up in %.2f s, the follower in %.2f s; follower equals the source\n' \
    "$t_cap" "$t_rep"
grep -E "info: net effect" "$dir/replay.log" | tail -n 1 | sed 's/^pgtrail-replay: info: /replay: /'

#!/usr/bin/env bash
# metrics_workload.sh BIN_DIR [CHANGES] — what --metrics costs capture, as a
# ratio to the same capture without it (inside with_pg.sh).
#
# One backlog of CHANGES (default 500,000) row changes in transactions of 10
# rows across three tables (bench/backlog.sh), read by four slots created
# before it and drained in the order A B B A (so that neither side gains
# from going first): A without --metrics, B with --metrics and a scraper
# fetching /metrics every 100 ms (ten times what a Prometheus server
# usually asks). Each run writes to its own store in a second database, so
# no run decodes another's writes as changes.
set -euo pipefail
bin=$1 rows=${2:-500000}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/harness/testlib.sh"
. "$here/backlog.sh"
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

q "CREATE DATABASE bench_sink" >/dev/null
sink="$PGTRAIL_TEST_DSN dbname=bench_sink"
backlog_tables
runs=(a1 b1 b2 a2)
for r in "${runs[@]}"; do
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$sink" --slot "bench_$r" --schema "store_$r" \
        --tables 'public.*' --snapshot never --endpos 0/1 --log-level warning
done
backlog_write "$rows"
rows=$backlog_rows
end=$(q "SELECT pg_current_wal_lsn()")

declare -A took scrapes
for r in "${runs[@]}"; do
    extra=()
    [[ $r == b* ]] && extra=(--metrics "127.0.0.1:$port")
    t0=$(date +%s.%N)
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$sink" --slot "bench_$r" --schema "store_$r" \
        --tables 'public.*' --endpos "$end" --batch-size 10000 "${extra[@]}" --log-level info \
        >"$PGTRAIL_TEST_DIR/cap_$r.log" 2>&1 &
    pid=$!
    n=0
    while kill -0 "$pid" 2>/dev/null; do
        if [[ $r == b* ]] && curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$port/metrics"; then n=$((n + 1)); fi
        sleep 0.1
    done
    wait "$pid" || fail "capture run $r failed: $(tail -n 5 "$PGTRAIL_TEST_DIR/cap_$r.log")"
    took[$r]=$(secs "$t0")
    scrapes[$r]=$n
    got=$(psql -qXAt -d bench_sink -c "SELECT count(*) FROM store_$r.events")
    [ "$got" = "$rows" ] || fail "run $r: expected $rows events, got $got"
done
[ "${scrapes[b1]}" -gt 0 ] && [ "${scrapes[b2]}" -gt 0 ] || fail "no scrape answered during the metrics runs"
t_a=$(awk -v x="${took[a1]}" -v y="${took[a2]}" 'BEGIN { print x + y }')
t_b=$(awk -v x="${took[b1]}" -v y="${took[b2]}" 'BEGIN { print x + y }')
peak() { sed -n 's/.*peak memory: \(.*\)/\1/p' "$PGTRAIL_TEST_DIR/cap_$1.log" | tail -n 1; }
printf 'capture:          %d events in %.2f s and %.2f s = %.0f events/s (no metrics)\n' \
    "$rows" "${took[a1]}" "${took[a2]}" "$(div $((2 * rows)) "$t_a")"
printf 'capture+metrics:  %d events in %.2f s and %.2f s = %.0f events/s (%d + %d scrapes of /metrics)\n' \
    "$rows" "${took[b1]}" "${took[b2]}" "$(div $((2 * rows)) "$t_b")" "${scrapes[b1]}" "${scrapes[b2]}"
printf 'ratio capture+metrics/capture: %.2f\n' "$(div "$t_a" "$t_b")"
echo "peak memory: capture $(peak a1), capture+metrics $(peak b1)"

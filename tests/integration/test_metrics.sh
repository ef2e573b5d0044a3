#!/usr/bin/env bash
# test_metrics.sh BIN_DIR — pgtrail-capture --metrics (run inside with_pg.sh).
#
# Capture runs in the background with --metrics on a free port while its
# start is held back (a lock on the event store's state table): /healthz
# answers 200 at once, /readyz 503 with its reason. Released, capture
# works through a backlog and /readyz turns 200 once caught up (and the
# committed LSN is then past the backlog). A workload of inserts, updates
# and deletes on two tables (one with a quote in its name, to see label
# escaping) runs in two rounds; /metrics scraped after each shows the
# events by table and op grown by exactly the round's changes, the
# committed LSN and the batch count grown, the lag gauges there.
# The walsender terminated: reconnects_total 1, streaming again, the next
# round counted exactly. A second capture on the same port, and a malformed
# address, exit 2.
# Then with Kafka (the mock cluster): a round's events delivered and the
# queue empty; every broker down: the queue holds the next round, transport
# errors grow, delivered stays flat; brokers back: the queue drains.
# Last, a new slot's snapshot of 150,000+ rows, scraped while it runs: rows
# counted up in steps, tables done rising to the total, /readyz "snapshot".
set -euo pipefail
bin=$1
log=$(mktemp)
out=$(mktemp -d)
. "$(dirname "$0")/../harness/testlib.sh"
frozen=""     # a walsender stopped with SIGSTOP: let it go on any exit, or the cluster cannot stop
trap 'if [ -n "$frozen" ]; then kill -CONT "$frozen"; fi
      for p in $capture $writer; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$out" "$log"' EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

# status PATH: the HTTP status; the body goes to $out/body
status() { curl -s -o "$out/body" -w '%{http_code}' --max-time 5 "$url$1" || true; }
# wait_until SECONDS DESC CMD...: poll CMD every 0.1 s until it succeeds
wait_until() {
    local limit=$1 desc=$2
    shift 2
    local until=$((SECONDS + limit))
    until "$@"; do
        [ "$SECONDS" -lt "$until" ] || fail "timed out after ${limit}s waiting for $desc"
        kill -0 "$capture" 2>/dev/null || fail "capture exited while waiting for $desc"
        sleep 0.1
    done
}
# value FILE SERIES: the sample's value in a scrape (the series written exactly as exposed)
value() { S="$2 " awk 'index($0, ENVIRON["S"]) == 1 { print $NF; exit }' "$1"; }
lsn_num() { q "SELECT ('$1'::pg_lsn - '0/0'::pg_lsn)::bigint"; }
# stop_capture WHAT: SIGTERM, and capture must exit 0
stop_capture() {
    local rc=0
    kill -TERM "$capture"
    wait "$capture" || rc=$?
    capture=""
    [ "$rc" = 0 ] || fail "$1 did not stop cleanly: exit $rc"
}

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA app;
CREATE TABLE app.accounts (id int PRIMARY KEY, balance int);
CREATE TABLE app."odd ""t""" (id int PRIMARY KEY, v text);
SQL

# first start: slot and event store, then stop at once
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning

# hold capture's next start back: it cannot read its state while this lock is held
PGAPPNAME=metrics_locker psql -qX -v ON_ERROR_STOP=1 \
    -c "BEGIN; LOCK TABLE pgtrail.state IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)" >/dev/null 2>&1 &
writer=$!
locked() {
    [ "$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name = 'metrics_locker' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ]
}
until=$((SECONDS + 30))
until locked; do [ "$SECONDS" -lt "$until" ] || fail "the lock was not taken"; sleep 0.1; done

# a backlog for capture to work through
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 20000) g;
UPDATE app.accounts SET balance = 1 WHERE id <= 5000;
SQL
backlog_end=$(lsn_num "$(q "SELECT pg_current_wal_lsn()")")

"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --metrics "127.0.0.1:$port" --ready-max-lag-s 0 \
    --batch-interval-ms 50 --status-interval-ms 500 --log-level info >"$log" 2>&1 &
capture=$!

# /healthz: 200 as soon as the port listens, while capture is still held back
listening() { [ "$(status /healthz)" != 000 ]; }
wait_until 30 "the metrics port" listening
[ "$(status /healthz)" = 200 ] || fail "/healthz: expected 200"
grep -qx ok "$out/body" || fail "/healthz: expected \"ok\", got [$(cat "$out/body")]"
echo "ok: /healthz 200 while starting"

[ "$(status /readyz)" = 503 ] || fail "/readyz before streaming: expected 503, got $(cat "$out/body")"
grep -q "not ready: not streaming" "$out/body" || fail "/readyz reason: got [$(cat "$out/body")]"
[ "$(wc -l <"$out/body")" = 1 ] || fail "/readyz reason: expected one line"
echo "ok: /readyz 503 before streaming ($(cat "$out/body"))"

# let capture start; /readyz turns 200 once it caught up with the backlog
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'metrics_locker'" >/dev/null
wait "$writer" 2>/dev/null || true
writer=""
ready() { [ "$(status /readyz)" = 200 ]; }
wait_until 120 "/readyz 200" ready
curl -sf --max-time 5 "$url/metrics" >"$out/ready.prom" || fail "/metrics after ready"
committed=$(value "$out/ready.prom" pgtrail_capture_committed_lsn)
[ -n "$committed" ] && [ "$committed" -ge "$backlog_end" ] ||
    fail "ready, but committed LSN [$committed] is not past the backlog's end [$backlog_end]"
eq "the backlog is in the store once ready" \
    "SELECT count(*) FROM pgtrail.events WHERE table_name = 'accounts' AND op <> 'schema'" 25000
echo "ok: /readyz 200 once caught up"

# the workload, in rounds: each round's changes on two tables, then a scrape
round() {
    local from=$1 n=$2
    psql -qX -v ON_ERROR_STOP=1 <<SQL
INSERT INTO app.accounts SELECT g, 0 FROM generate_series($from, $from + $n - 1) g;
INSERT INTO app."odd ""t""" SELECT g, 'v' FROM generate_series($from, $from + $n - 1) g;
UPDATE app.accounts SET balance = balance + 1 WHERE id BETWEEN $from AND $from + $n - 1;
UPDATE app."odd ""t""" SET v = 'w' WHERE id BETWEEN $from AND $from + $n / 2 - 1;
DELETE FROM app.accounts WHERE id BETWEEN $from AND $from + 9;
DELETE FROM app."odd ""t""" WHERE id BETWEEN $from AND $from + 4;
SQL
}
scrape_after_round() {
    local name=$1 target
    target=$(lsn_num "$(q "SELECT pg_current_wal_lsn()")")
    stored() {
        curl -sf --max-time 5 "$url/metrics" >"$out/$name.prom" &&
            [ "$(value "$out/$name.prom" pgtrail_capture_committed_lsn)" -ge "$target" ]
    }
    wait_until 60 "round $name in the store" stored
}
round 100000 300
scrape_after_round s1
round 200000 300
scrape_after_round s2

acc='pgtrail_capture_events_total{schema="app",table="accounts",op='
odd='pgtrail_capture_events_total{schema="app",table="odd \"t\"",op='
check_delta() {
    local series=$1 want=$2 a b
    a=$(value "$out/s1.prom" "$series")
    b=$(value "$out/s2.prom" "$series")
    [ -n "$a" ] && [ -n "$b" ] || fail "no sample $series in the scrapes"
    [ $((b - a)) = "$want" ] || fail "$series: went from $a to $b, expected +$want"
    echo "ok: $series +$want"
}
check_delta "${acc}\"insert\"}" 300
check_delta "${acc}\"update\"}" 300
check_delta "${acc}\"delete\"}" 10
check_delta "${odd}\"insert\"}" 300
check_delta "${odd}\"update\"}" 150
check_delta "${odd}\"delete\"}" 5
grows() {
    local a b
    a=$(value "$out/s1.prom" "$1")
    b=$(value "$out/s2.prom" "$1")
    [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] || fail "$1 did not grow: [$a] then [$b]"
    echo "ok: $1 grew ($a -> $b)"
}
grows pgtrail_capture_committed_lsn
grows pgtrail_capture_batch_seconds_count
grows 'pgtrail_capture_batch_seconds_bucket{le="+Inf"}'
for m in pgtrail_capture_events_total pgtrail_capture_lag_bytes pgtrail_capture_lag_seconds \
    pgtrail_capture_committed_lsn pgtrail_capture_source_lsn pgtrail_capture_batch_seconds \
    pgtrail_capture_snapshot_rows_total pgtrail_capture_snapshot_tables_done pgtrail_capture_snapshot_tables \
    pgtrail_capture_reconnects_total pgtrail_capture_streaming; do
    grep -q "^# TYPE $m " "$out/s2.prom" || fail "no # TYPE line for $m"
    grep -q "^# HELP $m " "$out/s2.prom" || fail "no # HELP line for $m"
done
for g in pgtrail_capture_lag_bytes pgtrail_capture_lag_seconds; do
    [[ "$(value "$out/s2.prom" "$g")" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$g: no numeric sample"
done
[ "$(value "$out/s2.prom" pgtrail_capture_streaming)" = 1 ] || fail "streaming gauge is not 1"
! grep -q kafka "$out/s2.prom" || fail "Kafka metrics without Kafka"
echo "ok: every metric has HELP and TYPE; lag gauges present; streaming"

# a lost replication connection: reconnects_total counts it, streaming again, nothing lost
[ "$(value "$out/s2.prom" pgtrail_capture_reconnects_total)" = 0 ] || fail "reconnects before any was lost"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'pgtrail-capture'" >/dev/null
reconnected() {
    curl -sf --max-time 5 "$url/metrics" >"$out/r.prom" &&
        [ "$(value "$out/r.prom" pgtrail_capture_reconnects_total)" = 1 ] &&
        [ "$(value "$out/r.prom" pgtrail_capture_streaming)" = 1 ]
}
wait_until 60 "a reconnect counted and streaming again" reconnected
round 500000 300
scrape_after_round s3
check_delta_after() { # like check_delta, s2 -> s3
    local a b
    a=$(value "$out/s2.prom" "$1") b=$(value "$out/s3.prom" "$1")
    [ $((b - a)) = "$2" ] || fail "$1: went from $a to $b after the reconnect, expected +$2"
}
check_delta_after "${acc}\"insert\"}" 300
check_delta_after "${odd}\"delete\"}" 5
echo "ok: reconnects_total 1 after the walsender was terminated; the next round counted exactly"

# clients that connect and send half a request do not lock out the probes:
# 40 of them from 127.0.0.1, then /healthz from 127.0.0.2 still answers
python3 - "$port" "$out/hog.ready" <<'PY' &
import socket, sys, time
held = []
for _ in range(40):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    except OSError:
        pass
open(sys.argv[2], "w").write("%d\n" % len(held))
time.sleep(8)
PY
hog=$!
until [ -s "$out/hog.ready" ]; do kill -0 "$hog" 2>/dev/null || fail "the idle clients did not start"; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --interface 127.0.0.2 "$url/healthz" || true)
kill "$hog" 2>/dev/null || true
wait "$hog" 2>/dev/null || true
[ "$code" = 200 ] || fail "/healthz with 40 idle clients connected: $code"
echo "ok: /healthz answers with 40 idle clients holding connections"

# lag with a stalled stream: the walsender stopped (SIGSTOP) while the source
# writes; the polled source position shows it: lag bytes and seconds grow,
# /readyz says behind. Let go, capture catches up and every change is there.
lag_of() { value "$out/$1.prom" "pgtrail_capture_lag_$2"; }
older_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
frozen=$(q "SELECT pid FROM pg_stat_replication WHERE application_name = 'pgtrail-capture'")
kill -STOP "$frozen"
psql -qX -v ON_ERROR_STOP=1 -c "INSERT INTO app.accounts SELECT g, 0 FROM generate_series(600000, 600999) g"
stalled() {
    curl -sf --max-time 5 "$url/metrics" >"$out/stall.prom" &&
        [ "$(lag_of stall bytes)" -gt 0 ] && older_than "$(lag_of stall seconds)" 2
}
wait_until 30 "lag while the stream is stalled" stalled
[ "$(status /readyz)" = 503 ] && grep -q "behind the source" "$out/body" ||
    fail "/readyz with the stream stalled: $(cat "$out/body")"
echo "ok: stream stalled: lag $(lag_of stall bytes) bytes, $(lag_of stall seconds) s; /readyz: $(cat "$out/body")"
kill -CONT "$frozen"
frozen=""
wait_until 60 "/readyz 200 after the stall" ready
eq "the changes made during the stall" \
    "SELECT count(*) FROM pgtrail.events WHERE op = 'insert' AND (key->>'id')::int BETWEEN 600000 AND 600999" 1000

# lag while disconnected: the walsender terminated and capture's new session
# held back (the state table locked): streaming 0, lag grows; released, ready
PGAPPNAME=metrics_locker psql -qX -v ON_ERROR_STOP=1 \
    -c "BEGIN; LOCK TABLE pgtrail.state IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)" >/dev/null 2>&1 &
writer=$!
until=$((SECONDS + 30))
until locked; do [ "$SECONDS" -lt "$until" ] || fail "the lock was not taken"; sleep 0.1; done
q "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'pgtrail-capture'" >/dev/null
disconnected() {
    curl -sf --max-time 5 "$url/metrics" >"$out/down.prom" &&
        [ "$(value "$out/down.prom" pgtrail_capture_streaming)" = 0 ] && older_than "$(lag_of down seconds)" 2
}
wait_until 30 "lag while disconnected" disconnected
echo "ok: disconnected: streaming 0, lag $(lag_of down seconds) s"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'metrics_locker'" >/dev/null
wait "$writer" 2>/dev/null || true
writer=""
wait_until 60 "/readyz 200 after the reconnect" ready

# the same port again, and a malformed address: configuration errors (exit 2), said before connecting
rc=0
"$bin/pgtrail-capture" --source "host=/nonexistent" --metrics "127.0.0.1:$port" >"$out/dup.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "port in use: expected exit 2, got $rc: $(cat "$out/dup.out")"
grep -q "Address already in use" "$out/dup.out" || fail "port in use: message: $(cat "$out/dup.out")"
grep -q "^hint: .*choose a free port" "$out/dup.out" || fail "port in use: no hint: $(cat "$out/dup.out")"
echo "ok: a port in use exits 2 with a hint"
rc=0
"$bin/pgtrail-capture" --source "host=/nonexistent" --metrics "localhost" >"$out/bad.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "malformed address: expected exit 2, got $rc"
grep -q 'invalid metrics address "localhost"' "$out/bad.out" || fail "malformed address: $(cat "$out/bad.out")"
echo "ok: a malformed address exits 2"

# a clean stop: exit 0, and the port is free again
stop_capture capture
[ "$(status /healthz)" = 000 ] || fail "the metrics port still answers after the stop"
echo "ok: stopped cleanly, port closed"

# Kafka: delivered messages, the queue and transport errors through an outage
. "$(dirname "$0")/../kafka/lib.sh"
kafka_start
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --metrics "127.0.0.1:$port" --kafka-brokers "$KAFKA_BOOTSTRAP" \
    --batch-interval-ms 50 --status-interval-ms 500 --log-level info >"$log" 2>&1 &
capture=$!
wait_until 30 "the metrics port" listening
# kafka_scrape NAME: scrape to $out/NAME.prom; kval NAME SERIES
kafka_scrape() { curl -sf --max-time 5 "$url/metrics" >"$out/$1.prom"; }
kval() { value "$out/$1.prom" "pgtrail_capture_kafka_$2"; }
# drained NAME N: the scrape shows N delivered and nothing queued
drained() { kafka_scrape "$1" && [ "$(kval "$1" delivered_total)" = "$2" ] && [ "$(kval "$1" queue_messages)" = 0 ]; }
# every event after this id goes to Kafka (the slot had confirmed all before: nothing re-sent)
last_id() { q "SELECT max(id) FROM pgtrail.events"; }
before=$(last_id)
round 300000 300
scrape_after_round k0
round1=$(( $(last_id) - before ))
wait_until 60 "Kafka delivered the round" drained k1 "$round1"
[ "$(kval k1 transport_errors_total)" = 0 ] || fail "transport errors without an outage"
[ "$(kval k1 delivery_errors_total)" = 0 ] || fail "delivery errors without an outage"
echo "ok: kafka: the round's $round1 events delivered, queue 0"
kafka_down
before=$(last_id)
round 400000 300
scrape_after_round k2
queued_down() {
    kafka_scrape k3 && [ "$(kval k3 queue_messages)" -gt 0 ] && [ "$(kval k3 transport_errors_total)" -gt 0 ]
}
wait_until 60 "queue and transport errors during the outage" queued_down
[ "$(kval k3 delivered_total)" = "$round1" ] || fail "messages delivered with every broker down"
[ "$(kval k3 delivery_errors_total)" = 0 ] || fail "delivery errors during a retried outage"
echo "ok: kafka down: $(kval k3 queue_messages) queued, $(kval k3 transport_errors_total) transport errors, delivered flat"
kafka_up
round2=$(( $(last_id) - before ))
wait_until 120 "the queue drained after the outage" drained k4 $((round1 + round2))
echo "ok: kafka up: the queue drained, delivered $(kval k4 delivered_total) (+$round2)"
stop_capture "capture with Kafka"


# snapshot progress: a new slot and store copy the app tables, one of them
# 150,000 rows; scrapes while it runs see the rows counted up in steps and
# the tables done go from 0 to the total, and /readyz says snapshot
psql -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE app.bulk (id int PRIMARY KEY, pad text);
    INSERT INTO app.bulk SELECT g, repeat('x', 100) FROM generate_series(1, 150000) g"
total_rows=$(q "SELECT (SELECT count(*) FROM app.accounts) + (SELECT count(*) FROM app.bulk)
                     + (SELECT count(*) FROM app.\"odd \"\"t\"\"\")")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot snap --schema snapstore --tables 'app.*' \
    --endpos 0/1 --metrics "127.0.0.1:$port" --log-level warning >"$log" 2>&1 &
capture=$!
: >"$out/snap.samples"
while kill -0 "$capture" 2>/dev/null; do
    if curl -sf --max-time 5 "$url/metrics" >"$out/snap.prom" 2>/dev/null; then
        echo "$(value "$out/snap.prom" pgtrail_capture_snapshot_tables_done)" \
             "$(value "$out/snap.prom" pgtrail_capture_snapshot_tables)" \
             "$(value "$out/snap.prom" pgtrail_capture_snapshot_rows_total)" \
             "$(status /readyz)" "$(head -c 60 "$out/body")" >>"$out/snap.samples"
    fi
    sleep 0.02
done
rc=0
wait "$capture" || rc=$?
capture=""
[ "$rc" = 0 ] || fail "the snapshot run failed: $(cat "$log")"
python3 - "$out/snap.samples" "$total_rows" <<'PY2' || fail "snapshot progress: $(sort -u "$out/snap.samples" | head -n 20)"
import sys
total = int(sys.argv[2])
samples = [l.split(None, 4) for l in open(sys.argv[1]) if l.strip()]
prog = [(int(d), int(t), int(r)) for d, t, r, *_ in samples if t != "0"]
assert prog, "no sample during the snapshot"
assert all(t == 3 for _, t, _ in prog), "tables total is not 3"
assert all(a[0] <= b[0] and a[2] <= b[2] for a, b in zip(prog, prog[1:])), "progress went backwards"
inner = [r for d, t, r in prog if 0 < r < total]
assert len(set(inner)) >= 2, "fewer than two distinct row counts while copying"
assert any("initial snapshot" in l[4] for l in samples if len(l) > 4 and l[3] == "503"), "/readyz never said snapshot"
print("ok: snapshot progress: %d samples, rows %d..%d of %d, tables done %d..%d of 3"
      % (len(prog), min(inner), max(inner), total, prog[0][0], prog[-1][0]))
PY2
eq "the snapshot copied every row" "SELECT count(*) FROM snapstore.events WHERE op = 'snapshot'" "$total_rows"

# a quiet spell, then one change: the lag is that change's age, not the
# quiet spell's (batches of 1 s, so the change waits in an open batch)
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot snap --schema snapstore --tables 'app.*' \
    --metrics "127.0.0.1:$port" --batch-interval-ms 1000 --ready-max-lag-s 60 --log-level warning >"$log" 2>&1 &
capture=$!
wait_until 60 "/readyz 200 on slot snap" ready
sleep 7    # the quiet spell itself: nothing to wait for but time
psql -qX -v ON_ERROR_STOP=1 -c "INSERT INTO app.bulk VALUES (200001, 'after a quiet spell')"
max_lag=0 pending=0
for _ in $(seq 1 25); do
    curl -sf --max-time 5 "$url/metrics" >"$out/quiet.prom" || fail "/metrics after the quiet spell"
    if older_than "$(lag_of quiet seconds)" "$max_lag"; then max_lag=$(lag_of quiet seconds); fi
    if [ "$(lag_of quiet bytes)" -gt 0 ]; then pending=$((pending + 1)); fi
    sleep 0.1
done
[ "$pending" -gt 0 ] || fail "no scrape saw the change waiting"
if older_than "$max_lag" 5; then fail "lag after a quiet spell: $max_lag s, counts the quiet spell"; fi
echo "ok: after a 7 s quiet spell, one change: lag at most $max_lag s ($pending scrapes saw it waiting)"
stop_capture "capture on slot snap"
eq "the change after the quiet spell" "SELECT count(*) FROM snapstore.events WHERE key->>'id' = '200001'" 1
q "SELECT pg_drop_replication_slot('snap')" >/dev/null
echo "PASS test_metrics"

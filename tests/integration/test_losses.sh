#!/usr/bin/env bash
# test_losses.sh BIN_DIR — every known loss is counted per table and said
# (issue 16 items 5 and 10): NaN/Infinity that wal2json 2.5 sends as null
# (certain in NOT NULL columns, possible in nullable ones), unlogged tables
# and tables without a replica identity (found in the catalog, although
# their UPDATEs produce nothing in the stream), non-transactional logical
# messages. Capture warns once per table, counts them in pgtrail.losses and
# in its metrics; verify and replay report them; the snapshot keeps "NaN"
# exactly (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
dir=$(mktemp -d)
log="$dir/capture.log"
dsn=$PGTRAIL_TEST_DSN

q "CREATE TABLE t (id int PRIMARY KEY, n numeric NOT NULL, f float8)" >/dev/null
q "CREATE UNLOGGED TABLE u (id int PRIMARY KEY)" >/dev/null
q "CREATE TABLE ni (a int)" >/dev/null
q "INSERT INTO t VALUES (0, 'NaN', 'Infinity')" >/dev/null
run() {
    "$bin/pgtrail-capture" --source "$dsn" --endpos "$(q 'SELECT pg_current_wal_lsn()')" --log-level info "$@" \
        >>"$log" 2>&1 || fail "capture failed: $(tail -n 3 "$log")"
}
run
eq "the snapshot keeps NaN exactly" "SELECT row->>'n' || ' ' || (row->>'f') FROM pgtrail.events WHERE op = 'snapshot'" \
    "NaN Infinity"
q "INSERT INTO t VALUES (1, 'NaN', NULL), (2, 'Infinity', 1.5), (3, 1, '-Infinity')" >/dev/null
q "INSERT INTO u VALUES (1)" >/dev/null
q "INSERT INTO ni VALUES (1)" >/dev/null
q "UPDATE ni SET a = 2" >/dev/null 2>&1
q "SELECT pg_logical_emit_message(false, 'nt', 'x'), pg_logical_emit_message(false, 'nt', 'y')" >/dev/null
run
eq "losses per table, kind and column" \
    "SELECT string_agg(l, '; ' ORDER BY l COLLATE \"C\") FROM (SELECT format('%s.%s %s %s %s', schema_name,
       table_name, kind, detail, count) AS l FROM pgtrail.losses) s" \
    ". non_transactional_message nt 2; public.ni no_replica_identity  0; public.t maybe_nan_as_null f 2; public.t nan_as_null n 2; public.u unlogged  0"
grep -q 'NaN or Infinity in NOT NULL column "n" arrived as null' "$log" || fail "no warning for column n"
[ "$(grep -c 'NOT NULL column "n"' "$log")" = 1 ] || fail "the NaN warning was not said once"
grep -q 'table "public.u" is unlogged' "$log" || fail "no warning for the unlogged table"
grep -q 'ALTER TABLE public.u SET LOGGED' "$log" || fail "no hint for the unlogged table"
grep -q 'table "public.ni" has no replica identity' "$log" || fail "no warning for the table without identity"
grep -q 'ALTER TABLE public.ni REPLICA IDENTITY FULL' "$log" || fail "no hint for the table without identity"
grep -q 'non-transactional logical message "nt" not captured' "$log" || fail "no warning for the message"
echo "ok: capture said each loss once, with the fix"

# a restart counts nothing twice and says the table-wide ones again
run
eq "a restart counts nothing twice" "SELECT sum(count) FROM pgtrail.losses" "6"

"$bin/pgtrail-verify" --events "$dsn" >"$dir/verify.out" 2>&1 || fail "verify: $(cat "$dir/verify.out")"
grep -q 'table public.t: 2 values of NOT NULL column "n" arrived as null' "$dir/verify.out" ||
    fail "verify did not report the loss: $(cat "$dir/verify.out")"
grep -q 'table public.u: unlogged' "$dir/verify.out" || fail "verify did not report the unlogged table"
echo "ok: verify reports the losses"

q "CREATE DATABASE target" >/dev/null
psql -qX -d target -c "CREATE TABLE t (id int PRIMARY KEY, n numeric, f float8)" >/dev/null
"$bin/pgtrail-replay" --events "$dsn" --target "${dsn/dbname=postgres/dbname=target}" --tables 'public.t' \
    >"$dir/replay.out" 2>&1 || fail "replay: $(cat "$dir/replay.out")"
grep -q 'table public.t: 2 values of NOT NULL column "n" arrived as null' "$dir/replay.out" ||
    fail "replay did not report the loss from the store: $(cat "$dir/replay.out")"
grep -q 'nulls .*may have been NaN' "$dir/replay.out" ||
    fail "replay said nothing of the nulls in the nullable column: $(cat "$dir/replay.out")"
echo "ok: replay reports the losses, nullable columns too"

# the metric: counted as they come, the table-wide ones from the start
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/pgtrail-capture" --source "$dsn" --metrics "127.0.0.1:$port" --heartbeat-interval-ms 300 \
    --log-level warning >>"$log" 2>&1 &
capture=$!
q "INSERT INTO t VALUES (4, 'NaN', 2)" >/dev/null
for _ in $(seq 1 100); do
    curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$dir/m.prom" 2>/dev/null &&
        grep -q 'pgtrail_capture_losses_total{schema="public",table="t",kind="nan_as_null"} 1' "$dir/m.prom" && break
    sleep 0.2
done
grep -q 'pgtrail_capture_losses_total{schema="public",table="t",kind="nan_as_null"} 1' "$dir/m.prom" ||
    fail "no loss metric: $(grep losses "$dir/m.prom")"
grep -q 'pgtrail_capture_losses_total{schema="public",table="u",kind="unlogged"} 0' "$dir/m.prom" ||
    fail "no metric for the unlogged table: $(grep losses "$dir/m.prom")"
echo "ok: pgtrail_capture_losses_total by table and kind"

# a table made unlogged while capture runs, and never written: found in the catalog
q "ALTER TABLE ni REPLICA IDENTITY FULL; ALTER TABLE t SET UNLOGGED" >/dev/null
for _ in $(seq 1 100); do
    grep -q 'table "public.t" is unlogged' "$log" && break
    sleep 0.2
done
grep -q 'table "public.t" is unlogged' "$log" || fail "a table made unlogged during capture was not said"
kill "$capture"; wait "$capture" || true; capture=""
eq "and counted" "SELECT count(*) FROM pgtrail.losses WHERE table_name = 't' AND kind = 'unlogged'" "1"
echo "ok: a table made unlogged while capture runs is found in the catalog"
rm -rf "$dir"

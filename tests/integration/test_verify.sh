#!/usr/bin/env bash
# test_verify.sh BIN_DIR — pgtrail-verify against a real log of 10,500
# events made by pgtrail-capture with a signing key and an anchor file
# (run inside with_pg.sh).
#
# Clean: exit 0. Each tampering done with plain SQL on the event table
# gives exit 1 and names the right event: a value changed, a row deleted, a
# forged row inserted, two ids swapped, the tail cut (caught by the anchor
# file), the chain recomputed after an edit by someone without the private
# key (caught by the checkpoints and their signatures). Then incremental
# runs (only new events are read), the metrics file, the anchor file's
# repair and catch-up in capture, and the exit codes of bad input.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"

work=$(mktemp -d)
chmod 755 "$work"
trap 'for p in $capture $writer; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
chmod 600 "$work/signing.pem"
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out "$work/other.pem"
anchor=$work/anchor.jsonl

capture_to_end() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" \
        --log-level warning --signing-key "$work/signing.pem" --anchor-file "$anchor" \
        --checkpoint-events 1000 --batch-size 500 "$@"
}

q "CREATE TABLE items (id int PRIMARY KEY, v text, n numeric)"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning
for t in $(seq 0 99); do
    q "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series($t * 100 + 1, $t * 100 + 100) g"
done
for t in $(seq 0 4); do
    q "UPDATE items SET n = n + 1 WHERE id % 5 = $t AND id <= 500"
done
capture_to_end
eq "events in the log (the changes and the table's schema event)" "SELECT count(*), max(id) FROM pgtrail.events" "10501|10501"
ncp=$(q "SELECT count(*) FROM pgtrail.checkpoints")
[ "$ncp" -ge 10 ] || fail "expected at least 10 checkpoints, got $ncp"
[ "$(wc -l < "$anchor")" = "$ncp" ] || fail "anchor file has $(wc -l < "$anchor") lines, table $ncp checkpoints"
eq "every checkpoint is signed" "SELECT count(*) FROM pgtrail.checkpoints WHERE length(signature) = 64 AND key_id IS NOT NULL" "$ncp"
echo "ok: $ncp signed checkpoints, each in the anchor file"

# run verify; sets rc and out (JSON)
V() {
    set +e
    out=$("$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --format json --log-level error "$@")
    rc=$?
    set -e
}
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$out" "$1"; }
all=(--full --public-key "$work/public.pem" --anchor "$anchor")

V "${all[@]}"
[ "$rc" = 0 ] || fail "clean log: exit $rc: $out"
[ "$(field 'd["events_checked"], d["signatures_checked"], d["anchors_checked"]')" = "(10501, $ncp, $ncp)" ] ||
    fail "clean log figures: $out"
echo "ok: clean log, exit 0, 10501 events, $ncp signatures and anchors checked"
set +e
text=$("$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" "${all[@]}" 2>&1)
set -e
echo "$text" | grep -q "^verify: OK" || fail "text report: $text"
python3 "$here/../checker/pgtrail_check.py" >/dev/null || fail "independent checker rejects the clean log"

# Keep a pristine copy (in the store schema, which capture never captures);
# restore it before each tampering.
q "CREATE TABLE pgtrail.pristine_events AS TABLE pgtrail.events;
   CREATE TABLE pgtrail.pristine_checkpoints AS TABLE pgtrail.checkpoints;
   CREATE TABLE pgtrail.pristine_state AS TABLE pgtrail.state"
restore() {
    q "TRUNCATE pgtrail.events, pgtrail.checkpoints, pgtrail.state, pgtrail.verified;
       INSERT INTO pgtrail.events SELECT * FROM pgtrail.pristine_events;
       INSERT INTO pgtrail.checkpoints SELECT * FROM pgtrail.pristine_checkpoints;
       INSERT INTO pgtrail.state SELECT * FROM pgtrail.pristine_state"
}
# expect NAME KIND EVENT [verify args...]: exit 1, first finding KIND at EVENT
expect() {
    local name=$1 kind=$2 event=$3
    shift 3
    V "$@"
    [ "$rc" = 1 ] || fail "$name: exit $rc, expected 1: $out"
    got=$(field 'd["findings"][0]["kind"] + "|" + str(d["findings"][0]["event_id"])')
    [ "$got" = "$kind|$event" ] || fail "$name: first finding $got, expected $kind|$event: $out"
    echo "ok: $name: exit 1, $kind at event $event"
}

restore
q "UPDATE pgtrail.events SET row = replace(row::text, '\"item 5000\"', '\"item 5001\"')::json WHERE id = 5001"
expect "a value changed" changed 5001 "${all[@]}"

restore
q "DELETE FROM pgtrail.events WHERE id = 5000"
expect "a row deleted" missing 5000 "${all[@]}"

restore
q "UPDATE pgtrail.events SET id = -id WHERE id > 5000;
   UPDATE pgtrail.events SET id = -id + 1 WHERE id < 0;
   INSERT INTO pgtrail.events SELECT 5001, lsn, commit_lsn, xid, committed_at, schema_name, table_name,
     schema_version, op, '{\"id\":\"77777\"}', '{\"id\":\"77777\",\"v\":\"forged\",\"n\":\"1\"}', old, unchanged,
     actor, action, metadata, hash, sha256('forged'::bytea) FROM pgtrail.events WHERE id = 5000"
expect "a forged row inserted" inserted 5001 "${all[@]}"

restore
q "UPDATE pgtrail.events SET id = -1 WHERE id = 5000;
   UPDATE pgtrail.events SET id = 5000 WHERE id = 5001;
   UPDATE pgtrail.events SET id = 5001 WHERE id = -1"
expect "two rows' ids swapped" reordered 5000 "${all[@]}"

# The tail cut, checkpoints and state made to agree: only the anchor file knows.
restore
q "DELETE FROM pgtrail.events WHERE id > 9000; DELETE FROM pgtrail.checkpoints WHERE event_id > 9000;
   UPDATE pgtrail.state SET last_event_id = 9000, last_hash = (SELECT hash FROM pgtrail.events WHERE id = 9000)"
V --full --public-key "$work/public.pem"
[ "$rc" = 0 ] || fail "a cleanly cut tail without the anchor file: exit $rc (the documented limit says 0): $out"
expect "the tail cut (anchor file)" missing 9001 --full --anchor "$anchor"
# and without making the state agree, the state row alone tells
restore
q "DELETE FROM pgtrail.events WHERE id > 9000"
expect "the tail cut (state row)" missing 9001 --full

# The chain recomputed after an edit, by someone without the private key.
first_cp=$(q "SELECT min(event_id) FROM pgtrail.checkpoints WHERE event_id >= 5000")
prev_cp=$(q "SELECT max(event_id) FROM pgtrail.checkpoints WHERE event_id < 5000")
restore
q "UPDATE pgtrail.events SET row = replace(row::text, '\"item 5000\"', '\"item 5001\"')::json WHERE id = 5001"
python3 "$here/verify/forge.py" pgtrail 5001
python3 "$here/../checker/pgtrail_check.py" >/dev/null || fail "the forged chain should be valid on its own"
V --full
expect "recomputed chain (checkpoints left)" "checkpoint mismatch" $((prev_cp + 1)) --full
echo "$out" | grep -q "events $((prev_cp + 1))..$first_cp: rewritten" || fail "range not named: $out"
restore
q "UPDATE pgtrail.events SET row = replace(row::text, '\"item 5000\"', '\"item 5001\"')::json WHERE id = 5001"
python3 "$here/verify/forge.py" pgtrail 5001 --checkpoints
V --full
[ "$rc" = 0 ] || fail "recomputed chain and checkpoints, no key, no anchor: exit $rc (the documented limit says 0)"
expect "recomputed chain and checkpoints (--public-key)" "bad signature" "$first_cp" --full --public-key "$work/public.pem"
echo "$out" | grep -q "events $((prev_cp + 1))..$first_cp" || fail "range not named: $out"
expect "recomputed chain and checkpoints (--anchor)" "missing anchored checkpoint" "$first_cp" --full --anchor "$anchor"
restore
expect "a key that did not sign" "bad signature" "$(q 'SELECT min(event_id) FROM pgtrail.checkpoints')" \
    --full --public-key "$work/other.pem"
q "UPDATE pgtrail.checkpoints SET signature = NULL, key_id = NULL WHERE event_id = $first_cp"
expect "an unsigned checkpoint among signed ones" "bad signature" "$first_cp" --full --public-key "$work/public.pem"

# An event appended at the end with a valid hash (anyone can compute one):
# capture writes the state row with its events, so the state gives it away.
restore
q "INSERT INTO pgtrail.events SELECT id + 1, lsn, commit_lsn, xid, committed_at, schema_name, table_name,
     schema_version, op, key, '{\"id\":\"1\",\"v\":\"forged\",\"n\":\"0\"}', old, unchanged, actor, action,
     metadata, hash, hash FROM pgtrail.events WHERE id = 10501"
python3 "$here/verify/forge.py" pgtrail 10502
expect "a valid event appended at the end" inserted 10502 --full --public-key "$work/public.pem" --anchor "$anchor"
restore
q "DELETE FROM pgtrail.state"
expect "the state row deleted" "broken link" None --full
# Rows that are not events, a bad anchor line: findings, still reported in full.
restore
q "UPDATE pgtrail.events SET hash = substring(hash from 1 for 31) WHERE id = 5000"
expect "a malformed event row" changed 5000 --full --public-key "$work/public.pem"
restore
q "UPDATE pgtrail.events SET actor = 'mallory' WHERE id = 6000"
cp "$anchor" "$work/anchor.kept"
{ echo; cat "$work/anchor.kept"; } > "$anchor"
expect "a changed event with an empty line in the anchor file" changed 6000 --full --anchor "$anchor"
cp "$work/anchor.kept" "$anchor"

# Incremental runs go on from the last verified point.
restore
V --public-key "$work/public.pem"
[ "$rc:$(field 'd["events_checked"], d["mode"]')" = "0:(10501, 'full')" ] || fail "first incremental run: $rc $out"
V
[ "$rc:$(field 'd["events_checked"]')" = "0:0" ] || fail "nothing new: $rc $out"
q "INSERT INTO items SELECT g, 'new', 0 FROM generate_series(20001, 21000) g"
capture_to_end
V --public-key "$work/public.pem" --anchor "$anchor" --metrics-file "$work/verify.prom"
[ "$rc:$(field 'd["events_checked"], d["first_id"], d["last_id"], d["mode"]')" = "0:(1000, 10502, 11501, 'incremental')" ] ||
    fail "incremental after 1000 new events: $rc $out"
echo "ok: incremental run after 1,000 new events read exactly those 1,000"
grep -q "^pgtrail_verify_ok 1$" "$work/verify.prom" || fail "metrics: $(cat "$work/verify.prom")"
grep -q "^pgtrail_verify_events_verified 1000$" "$work/verify.prom" || fail "metrics: $(cat "$work/verify.prom")"
success=$(grep "^pgtrail_verify_last_success_timestamp_seconds " "$work/verify.prom")
# an old event edited and the chain recomputed behind the verified point
q "UPDATE pgtrail.events SET actor = 'mallory' WHERE id = 3000"
python3 "$here/verify/forge.py" pgtrail 3000
V --metrics-file "$work/verify.prom"
[ "$rc" = 1 ] || fail "a rewrite behind the verified point: exit $rc: $out"
[ "$(field 'd["findings"][0]["kind"], d["findings"][0]["event_id"]')" = "('changed', 11501)" ] ||
    fail "a rewrite behind the verified point: $out"
grep -q "^pgtrail_verify_ok 0$" "$work/verify.prom" || fail "metrics after a failure: $(cat "$work/verify.prom")"
grep -q "^pgtrail_verify_failures [1-9]" "$work/verify.prom" || fail "metrics after a failure: $(cat "$work/verify.prom")"
grep -qx "$success" "$work/verify.prom" || fail "last success time not kept: $(cat "$work/verify.prom")"
echo "ok: a chain rewritten behind the verified point is caught; the metrics file says so"
# a deletion behind the verified point, no hashes touched: the id count gives it away
restore
V
[ "$rc" = 0 ] || fail "verified point: $rc $out"
q "DELETE FROM pgtrail.events WHERE id = 3000"
expect "an old event deleted behind the verified point (incremental)" missing 3000

# Capture repairs a torn last anchor line and appends what a crash left out.
q "TRUNCATE pgtrail.events, pgtrail.checkpoints, pgtrail.state, pgtrail.verified;
   INSERT INTO pgtrail.events SELECT * FROM pgtrail.pristine_events;
   INSERT INTO pgtrail.checkpoints SELECT * FROM pgtrail.pristine_checkpoints;
   INSERT INTO pgtrail.state SELECT * FROM pgtrail.pristine_state"
head -n "$ncp" "$anchor" > "$work/a" && mv "$work/a" "$anchor"
q "SELECT pg_drop_replication_slot('pgtrail')"
q "TRUNCATE pgtrail.events, pgtrail.checkpoints, pgtrail.state, pgtrail.schemas"
rm -f "$anchor"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --snapshot never --log-level warning
q "INSERT INTO items SELECT g, 'again', 0 FROM generate_series(30001, 30100) g"
capture_to_end
lines=$(wc -l < "$anchor")
[ "$lines" -ge 1 ] || fail "no anchor line"
head -n $((lines - 1)) "$anchor" > "$work/a"
tail -n 1 "$anchor" | head -c 40 >> "$work/a"
mv "$work/a" "$anchor"     # the last checkpoint never made it whole
capture_to_end
# the fragment is ended with a newline (never truncated: append-only files work),
# and the checkpoint it was is appended again
[ "$(wc -l < "$anchor")" = $((lines + 1)) ] || fail "anchor not repaired: $(cat "$anchor")"
[ "$(tail -c 1 "$anchor" | od -An -c | tr -d ' ')" = '\n' ] || fail "anchor ends in a torn line"
V --full --anchor "$anchor" --public-key "$work/public.pem"
[ "$rc:$(field 'd["anchors_checked"]')" = "0:$lines" ] || fail "after repair: $rc $out"
field 'd["notes"]' | grep -q "line $lines is not a checkpoint" || fail "the torn line is not noted: $out"
echo "ok: capture ends a torn anchor line and appends the checkpoint a crash left out; verify notes the fragment"

# Events captured without checkpoints, then a start with them and nothing new:
# the clean stop checkpoints the last event, with that event's commit LSN.
q "INSERT INTO items SELECT g, 'unpinned', 0 FROM generate_series(40001, 40010) g"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" --log-level warning
capture_to_end
eq "a checkpoint at the last event" "SELECT max(event_id) = (SELECT max(id) FROM pgtrail.events) FROM pgtrail.checkpoints" "t"
eq "every checkpoint has its event's commit LSN" \
    "SELECT count(*) FROM pgtrail.checkpoints c JOIN pgtrail.events e ON e.id = c.event_id WHERE c.lsn <> e.commit_lsn" "0"
V --anchor "$anchor" --public-key "$work/public.pem"
[ "$rc" = 0 ] || fail "after a checkpoint-only start: $rc $out"

# Bad input: one line, a distinct exit code.
set +e
"$bin/pgtrail-verify" --events "host=127.0.0.1 port=1 dbname=x connect_timeout=2" 2>"$work/err"; r1=$?
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --anchor "$work/nope" 2>"$work/err2"; r2=$?
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --public-key "$work/signing.pem" 2>"$work/err3"; r3=$?
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --schema nothere 2>"$work/err4"; r4=$?
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --drift 2>"$work/err5"; r5=$?
"$bin/pgtrail-verify" --bogus 2>/dev/null; r6=$?
set -e
[ "$r1" = 3 ] || fail "connection refused: exit $r1"
[ "$r2" = 2 ] && grep -q 'anchor file' "$work/err2" || fail "missing anchor file: exit $r2 $(cat "$work/err2")"
[ "$r3" = 2 ] && grep -q 'pubout' "$work/err3" || fail "private key as --public-key: exit $r3 $(cat "$work/err3")"
[ "$r4" = 2 ] && grep -q 'no event store in schema "nothere"' "$work/err4" || fail "no store: exit $r4 $(cat "$work/err4")"
[ "$r5" = 2 ] && grep -q -- '--source' "$work/err5" || fail "--drift without --source: exit $r5"
[ "$r6" = 2 ] || fail "unknown flag: exit $r6"
set +e
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --anchor "$work" 2>"$work/err7"; r7=$?
set -e
[ "$r7" = 2 ] && grep -q 'not a regular file' "$work/err7" || fail "a directory as --anchor: exit $r7 $(cat "$work/err7")"
echo "ok: exit 3 when it cannot connect, 2 for bad input, each with a hint"
echo "PASS test_verify"

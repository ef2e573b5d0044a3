#!/usr/bin/env bash
# test_message_bytes.sh BIN_DIR — nothing a client writes into a logical
# message stops capture or is stored altered (issue 16 item 4): content that
# is not UTF-8 becomes a message event with "encoding":"bytea" and the exact
# bytes; a context message (pgtrail, _bemi, sequin) with such content is kept
# in metadata the same way; capture warns and goes on, with --messages or
# without (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
dir=$(mktemp -d)
log="$dir/capture.log"

q "CREATE TABLE t (id int PRIMARY KEY)" >/dev/null
run() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$(q 'SELECT pg_current_wal_lsn()')" \
        --log-level warning "$@" >>"$log" 2>&1 || fail "capture stopped: $(tail -n 3 "$log")"
}
run                                        # the slot and the store
q "SELECT pg_logical_emit_message(true, 'x', '\\x41c3'::bytea)" >/dev/null
q "INSERT INTO t VALUES (1)" >/dev/null
run                                        # without --messages: not a reason to stop
eq "capture went past the message without --messages" "SELECT count(*) FROM pgtrail.events WHERE op = 'insert'" "1"

q "SELECT pg_logical_emit_message(true, 'x', '\\x41c3'::bytea)" >/dev/null
q "SELECT pg_logical_emit_message(true, 'x', 'plain é text')" >/dev/null
q "BEGIN; SELECT pg_logical_emit_message(true, 'pgtrail', '\\x7b22c3'::bytea); INSERT INTO t VALUES (2); COMMIT" >/dev/null
q "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '\\xff'::bytea); INSERT INTO t VALUES (3); COMMIT" >/dev/null
run --messages
eq "bytes that are not UTF-8: bytea hex with an encoding marker" \
    "SELECT row::text FROM pgtrail.events WHERE op = 'message' ORDER BY id LIMIT 1" \
    '{"prefix":"x","content":"\\x41c3","encoding":"bytea"}'
eq "the bytes come back exactly" \
    "SELECT (row->>'content')::bytea = '\\x41c3'::bytea FROM pgtrail.events WHERE op = 'message' ORDER BY id LIMIT 1" "t"
eq "text content keeps its shape" \
    "SELECT row::text FROM pgtrail.events WHERE op = 'message' ORDER BY id OFFSET 1 LIMIT 1" \
    '{"prefix":"x","content":"plain é text"}'
eq "a context message with such bytes is kept in metadata" \
    "SELECT metadata::text FROM pgtrail.events WHERE op = 'insert' AND key->>'id' = '2'" \
    '{"malformed_context":"\\x7b22c3","encoding":"bytea"}'
eq "a _bemi message too" \
    "SELECT metadata::text FROM pgtrail.events WHERE op = 'insert' AND key->>'id' = '3'" \
    '{"malformed_context":"\\xff","encoding":"bytea"}'
grep -q 'holds bytes that are not UTF-8 text' "$log" || fail "no warning for the message: $(cat "$log")"
echo "ok: warned"
"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" >/dev/null || fail "verify failed"
echo "ok: the chain verifies"
python3 "$(dirname "$0")/../checker/pgtrail_check.py" >/dev/null || fail "the independent checker rejected the chain"
echo "ok: the independent checker (written from FORMAT.md) agrees"
rm -rf "$dir"

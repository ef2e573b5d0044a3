#!/usr/bin/env bash
# test_cli_errors.sh BIN_DIR — mistakes an operator makes on the command
# line, each an error with a hint and the right exit code rather than a
# quiet wrong answer (issue 14, item 5; run inside with_pg.sh):
#   - -c DIRECTORY: exit 2 naming it, in all three programs;
#   - pgtrail-capture --anchor-file that is a directory, in a missing
#     directory, or not writable: exit 2 with a hint, before the event
#     store or the slot exist;
#   - pgtrail-verify --anchor: an empty file while the store has
#     checkpoints, a line that is not a checkpoint (exit 1), a file that is
#     no anchor file at all (exit 2); control characters of a line never
#     reach the output raw (text and JSON); an empty file with no
#     checkpoints yet and torn writes stay fine;
#   - pgtrail-replay --as-of / --history: an unknown table, a key column
#     the table does not have, a non-key column, a key missing a column, a
#     key value that is an array or object: exit 2 with a hint; a
#     well-formed key with no row stays an answer (null / nothing, exit 0).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"

work=$PGTRAIL_TEST_DIR/cli
mkdir -p "$work"
chmod 755 "$work"
dsn=$PGTRAIL_TEST_DSN

# run PROGRAM ARGS...: exit status in $rc, stdout in $out, stderr in $err
run() {
    local prog=$1
    shift
    set +e
    out=$("$bin/$prog" "$@" 2>"$work/stderr")
    rc=$?
    set -e
    err=$(cat "$work/stderr")
}
# expect_err NAME CODE TEXT [HINT]: the last run exited CODE with one error line holding TEXT (and a hint holding HINT)
expect_err() {
    local name=$1 code=$2 text=$3 hint=${4:-}
    [ "$rc" = "$code" ] || fail "$name: expected exit $code, got $rc: $out $err"
    case "$err" in *"$text"*) ;; *) fail "$name: expected [$text] in: $err" ;; esac
    [ "$(printf '%s\n' "$err" | grep -c 'error:')" = 1 ] || fail "$name: not one error line: $err"
    if [ -n "$hint" ]; then
        printf '%s\n' "$err" | grep '^hint:' | grep -qF -- "$hint" || fail "$name: expected hint [$hint] in: $err"
    fi
    echo "ok: $name: exit $code: $(printf '%s\n' "$err" | grep 'error:' | head -1)"
}

# ---- -c DIRECTORY (it used to load as an empty file)
for prog in pgtrail-capture pgtrail-replay pgtrail-verify; do
    run "$prog" -c "$work" --source "host=127.0.0.1 port=1" 2>/dev/null || true
    [ "$prog" = pgtrail-capture ] || run "$prog" -c "$work" --events "host=127.0.0.1 port=1"
    expect_err "$prog -c DIRECTORY" 2 "could not read configuration file \"$work\": it is a directory" "-c/--config"
done

# ---- capture --anchor-file that cannot be used: exit 2 before anything is written
bad_anchor() { # bad_anchor NAME TEXT PATH [as_pg]
    local name=$1 text=$2 path=$3
    if [ "${4:-}" = as_pg ]; then
        set +e
        err=$(as_pg "$bin/pgtrail-capture" --source "$dsn" --anchor-file "$path" --log-level warning 2>&1)
        rc=$?
        set -e
    else
        run pgtrail-capture --source "$dsn" --anchor-file "$path" --log-level warning
    fi
    expect_err "capture --anchor-file $name" 2 "$text" "anchor_file (--anchor-file)"
}
bad_anchor "a directory" "cannot use anchor file \"$work\": it is a directory" "$work"
bad_anchor "in a missing directory" "its directory \"$work/nope\" does not exist" "$work/nope/anchor.jsonl"
touch "$work/not-a-dir"
bad_anchor "under a file" "could not use anchor file \"$work/not-a-dir/anchor.jsonl\": Not a directory" "$work/not-a-dir/anchor.jsonl"
mkdir -p "$work/locked"
chmod 755 "$work/locked"
touch "$work/locked/anchor.jsonl"
chmod 644 "$work/locked/anchor.jsonl"
bad_anchor "not writable" "could not open anchor file \"$work/locked/anchor.jsonl\": Permission denied" \
    "$work/locked/anchor.jsonl" as_pg
bad_anchor "in a directory not writable" "no permission to create a file in directory \"$work/locked\"" \
    "$work/locked/new.jsonl" as_pg
eq "nothing was written: no event store, no slot" \
    "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgtrail' UNION ALL SELECT count(*) FROM pg_replication_slots" "0
0"

# ---- a log with checkpoints and an anchor file
anchor=$work/anchor.jsonl
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
CREATE TABLE multi (tenant text, id int, note text, PRIMARY KEY (tenant, id));
CREATE SCHEMA other;
CREATE TABLE other.ledger (id int PRIMARY KEY);
SQL
openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
chmod 600 "$work/signing.pem"
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
"$bin/pgtrail-capture" --source "$dsn" --endpos 0/1 --log-level warning --anchor-file "$anchor" ||
    fail "capture could not start"
for t in 0 1 2 3 4 5; do
    q "INSERT INTO accounts SELECT g, 'owner ' || g, g FROM generate_series($t * 50 + 1, $t * 50 + 50) g"
done
q "INSERT INTO multi VALUES ('a', 1, 'one'), ('b', 1, 'two')"
q "INSERT INTO other.ledger VALUES (1)"
"$bin/pgtrail-capture" --source "$dsn" --endpos "$(q 'SELECT pg_current_wal_lsn()')" --log-level warning \
    --anchor-file "$anchor" --signing-key "$work/signing.pem" --checkpoint-events 100 --batch-size 50 ||
    fail "capture failed"
ncp=$(q "SELECT count(*) FROM pgtrail.checkpoints")
[ "$ncp" -ge 3 ] && [ "$(wc -l < "$anchor")" = "$ncp" ] || fail "$ncp checkpoints, $(wc -l < "$anchor") anchor lines"

# ---- verify --anchor
V() { run pgtrail-verify --events "$dsn" --full --log-level error "$@"; }
kind() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['findings'][0]['kind'] if d['findings'] else '')" "$out"; }
V --anchor "$anchor"
[ "$rc" = 0 ] || fail "clean log: exit $rc: $out $err"
echo "ok: verify --anchor on a clean log: $ncp anchors, exit 0"

: > "$work/empty.jsonl"
V --anchor "$work/empty.jsonl" --format json
[ "$rc" = 1 ] && [ "$(kind)" = "bad anchor file" ] || fail "an empty anchor file, $ncp checkpoints: exit $rc: $out"
case "$out" in *"holds no checkpoint, but the checkpoints table holds $ncp"*) ;; *) fail "empty anchor: $out" ;; esac
echo "ok: an empty anchor file while the store has $ncp checkpoints: exit 1, bad anchor file"

printf 'hello\nworld\n' > "$work/notes.txt"
V --anchor "$work/notes.txt"
expect_err "verify --anchor a file that is no anchor file" 2 "\"$work/notes.txt\" is not an anchor file: line 1 is not a checkpoint: \"hello\"" \
    "pgtrail-capture --anchor-file writes"

# a line with control characters among good ones: a finding, quoted escaped, never raw
{ head -n 1 "$anchor"; printf '\033[2J\033]0;pwned\007 garbage\r\n'; tail -n +2 "$anchor"; } > "$work/dirty.jsonl"
V --anchor "$work/dirty.jsonl"
[ "$rc" = 1 ] || fail "a garbage anchor line: exit $rc: $out"
printf '%s' "$out$err" | grep -q "$(printf '[\001-\011\013-\037\177]')" && fail "a control character reached the text output: $out"
grep -qF 'line 2 is not a checkpoint: "\x1b[2J\x1b]0;pwned\x07 garbage\x0d"' <<<"$out" || fail "the bad line is not quoted escaped: $out"
V --anchor "$work/dirty.jsonl" --format json
[ "$rc" = 1 ] && [ "$(kind)" = "bad anchor file" ] || fail "a garbage anchor line (json): exit $rc: $out"
printf '%s' "$out" | grep -q "$(printf '[\001-\011\013-\037\177]')" && fail "a control character reached the JSON output: $out"
echo "ok: a garbage line with control characters: exit 1, bad anchor file, quoted escaped in text and JSON"

# a well-formed line whose key id holds control characters (JSON-escaped in the file): escaped in the report
python3 - "$anchor" "$work/keyid.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
cp = json.loads(lines[0])
cp["key_id"] = "\x1b[2J\x07" + "k" * 11
open(sys.argv[2], "w").write("\n".join([json.dumps(cp, separators=(",", ":"))] + lines[1:]) + "\n")
PY
V --anchor "$work/keyid.jsonl" --public-key "$work/public.pem"
[ "$rc" = 1 ] && grep -qF 'signed by key "\x1b[2J\x07kkkkkkkkkkk"' <<<"$out" || fail "a key id with control characters: exit $rc: $out"
printf '%s' "$out$err" | grep -q "$(printf '[\001-\011\013-\037\177]')" && fail "a control character reached the text output: $out"
echo "ok: a key id with control characters in an anchor line: exit 1, escaped in the text report"

# a torn write (the start of the next line, as a crash leaves it) stays a note
{ head -n 1 "$anchor"; sed -n 2p "$anchor" | head -c 30; echo; tail -n +2 "$anchor"; } > "$work/torn.jsonl"
V --anchor "$work/torn.jsonl"
[ "$rc" = 0 ] && grep -q 'line 2 is not a checkpoint: a torn write' <<<"$out" || fail "a torn write: exit $rc: $out"
# two crashes in a row, each in the middle of the same line; and a torn last line capture has not repaired yet
{ head -n 1 "$anchor"; sed -n 2p "$anchor" | head -c 40; echo; sed -n 2p "$anchor" | head -c 20; echo
  tail -n +2 "$anchor"; tail -n 1 "$anchor" | head -c 50; echo; } > "$work/torn2.jsonl"
V --anchor "$work/torn2.jsonl"
[ "$rc" = 0 ] && [ "$(grep -c 'is not a checkpoint: a torn write' <<<"$out")" = 3 ] || fail "torn writes: exit $rc: $out"
echo "ok: torn writes (one, two in a row, a last line) are notes, exit 0"
# a whole checkpoint line with something after it is no torn write
{ head -n 1 "$anchor"; sed -n 2p "$anchor" | tr -d '\n'; echo 'x'; tail -n +2 "$anchor"; } > "$work/extra.jsonl"
V --anchor "$work/extra.jsonl" --format json
[ "$rc" = 1 ] && [ "$(kind)" = "bad anchor file" ] || fail "a checkpoint line with a tail: exit $rc: $out"
echo "ok: a checkpoint line with something after it: exit 1, bad anchor file"

# an empty anchor file while the store has no checkpoint yet is fine
"$bin/pgtrail-capture" --source "$dsn" --schema plain --slot plain --endpos 0/1 --log-level warning
V --schema plain --anchor "$work/empty.jsonl"
[ "$rc" = 0 ] || fail "an empty anchor file, no checkpoints: exit $rc: $out $err"
echo "ok: an empty anchor file while the store has no checkpoint: exit 0"

# ---- replay point queries: questions that could only answer "no row"
R() { run pgtrail-replay --events "$dsn" "$@"; }
R --as-of 2100-01-01 --table public.accounts --key '{"id": 7}'
[ "$rc" = 0 ] && [ "$out" = '{"id":"7","owner":"owner 7","balance":"7"}' ] || fail "a row as of a time: $rc $out $err"
R --as-of 2100-01-01 --table public.nope --key '{"id": 7}'
expect_err "--as-of an unknown table" 2 'table "public.nope" is not in the event log' "FROM pgtrail.schemas"
R --history --table public.ledger --key '{"id": 1}'
expect_err "--history a table of another schema" 2 'table "public.ledger" is not in the event log' \
    "did you mean --table other.ledger?"
R --as-of 2100-01-01 --table accounts --key '{"idd": 7}'
expect_err "--as-of a column the table lacks" 2 '--key names column "idd", which table "public.accounts" does not have' \
    'its key column is "id"'
R --history --table accounts --key '{"owner": "owner 7"}'
expect_err "--history by a column that is not the key" 2 'column "owner", which is not a key column of table "public.accounts"' \
    'its key column is "id"'
R --as-of 2100-01-01 --table public.multi --key '{"id": 1}'
expect_err "--as-of without every key column" 2 'does not give every key column of table "public.multi"' \
    'its key columns are "tenant", "id"'
R --as-of 2100-01-01 --table public.accounts --key '{"id": [1]}'
expect_err "--as-of with an array as the key value" 2 '--key value of column "id" is not a single value: [1]' '--key'
R --history --table public.accounts --key '{"id": {"a": 1}}'
expect_err "--history with an object as the key value" 2 'is not a single value: {"a": 1}' '--key'

# a well-formed key of a known table without such a row: an answer, exit 0, as before
R --as-of 2100-01-01 --table public.accounts --key '{"id": 999}'
[ "$rc" = 0 ] && [ "$out" = null ] && [ -z "$err" ] || fail "no such row (as-of): $rc [$out] $err"
R --as-of 2100-01-01 --table public.accounts --key '{"id": 999}' --format table
[ "$rc" = 0 ] && [ "$out" = "(no such row at that time)" ] || fail "no such row (as-of, table): $rc [$out] $err"
R --history --table public.accounts --key '{"id": 999}'
[ "$rc" = 0 ] && [ -z "$out" ] && [ -z "$err" ] || fail "no such row (history): $rc [$out] $err"
R --as-of 2100-01-01 --table public.multi --key '{"id": 1, "tenant": "b"}'
[ "$rc" = 0 ] && [ "$out" = '{"tenant":"b","id":"1","note":"two"}' ] || fail "composite key in another order: $rc $out $err"
echo "ok: no such row is null / no line, exit 0; a composite key in any order answers"
echo "PASS test_cli_errors"

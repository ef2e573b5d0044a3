#!/usr/bin/env bash
# test_trust.sh BIN_DIR — replay believes only what the chain proves
# (issue 14, items 1-3 and the two followers):
#   - the schemas table is outside the chain: a default that reads a server
#     file, a changed type, an added generated expression, a version added
#     by hand are each refused by replay and found by verify and by the
#     independent checker, and nothing of them runs in the target;
#   - a chain recomputed after an edit: replay with --public-key or
#     --anchor stops at the last good checkpoint, the forged value never in
#     the target; without them it says loudly that it cannot tell;
#   - --tables: a typo is an error and moves nothing; another filter than
#     the position's is refused until --clean;
#   - two replays into one target: the second says another holds it (exit 3);
#   - a store written before schema events replays and verifies, its
#     versions reported as not covered.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
set +e
work=$PGTRAIL_TEST_DIR
log=$work/capture.log
src=$PGTRAIL_TEST_DSN
run_replay() { out=$("$bin/pgtrail-replay" "$@" 2>"$work/replay.err" </dev/null); rc=$?; }
run_verify() { out=$("$bin/pgtrail-verify" --events "$src" --full "$@" 2>&1 </dev/null); rc=$?; }
has() { grep -q -- "$1" "$work/replay.err" || fail "$2: expected [$1] in: $(cat "$work/replay.err")"; }

openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
anchor=$work/anchor.jsonl
psql -qX -v ON_ERROR_STOP=1 <<'SQL' || fail "setup"
CREATE SCHEMA app;
CREATE TABLE app.accounts (id int PRIMARY KEY, balance numeric(12,2) NOT NULL DEFAULT 0, note text);
CREATE TABLE app.audit (id bigserial PRIMARY KEY, what text);
SQL
"$bin/pgtrail-capture" --source "$src" --endpos 0/1 --log-level warning 2>>"$log" || fail "first start"
q "SELECT pg_logical_emit_message(true, 'app', 'the log begins with a message')" >/dev/null
for t in 0 1 2 3 4; do
    q "INSERT INTO app.accounts SELECT g, g * 10.5, 'n' FROM generate_series($t * 100 + 1, $t * 100 + 100) g;
       INSERT INTO app.audit (what) SELECT 'a' FROM generate_series(1, 20)" >/dev/null
done
q "UPDATE app.accounts SET balance = balance + 1 WHERE id % 7 = 0" >/dev/null
"$bin/pgtrail-capture" --source "$src" --endpos "$(q "SELECT pg_current_wal_lsn()")" --signing-key "$work/signing.pem" \
    --anchor-file "$anchor" --checkpoint-events 100 --batch-size 50 --messages --log-level warning 2>>"$log" ||
    fail "capture exited with $?"
eq "each version has its schema event, just before its first event" \
   "SELECT string_agg(e.op || ':' || e.table_name || ':' || (s.first_event_id - e.id), ' ' ORDER BY e.id)
    FROM pgtrail.events e JOIN pgtrail.schemas s ON (s.schema_name, s.table_name, s.version) =
         (e.schema_name, e.table_name, e.schema_version) WHERE e.op = 'schema'" "schema:accounts:1 schema:audit:1"
run_verify --public-key "$work/public.pem" --anchor "$anchor"
[ "$rc" = 0 ] || fail "verify on the log as captured: exit $rc: $out"
grep -q "^schema versions: 2 match their schema events, 0 recorded before" <<<"$out" || fail "verify's versions line: $out"
python3 "$here/../checker/pgtrail_check.py" | grep -q "2 schema versions covered, 0 not covered" ||
    fail "the independent checker on the log as captured"
echo "ok: verify and the independent checker prove both versions"

# an anchor file that is none, or one emptied: replay judges it as verify does
printf 'hello\nworld\n' >"$work/not_anchor"
: >"$work/empty_anchor"
new_target t_anchor
run_replay --events "$src" --target "$(dsn_for t_anchor)" --create-tables --anchor "$work/not_anchor"
[ "$rc" = 2 ] || fail "replay --anchor on a file that is no anchor file: exit $rc, expected 2"
has "is not an anchor file" "replay --anchor on a file that is no anchor file"
run_replay --events "$src" --target "$(dsn_for t_anchor)" --create-tables --anchor "$work/empty_anchor"
[ "$rc" = 1 ] || fail "replay --anchor on an emptied anchor file: exit $rc, expected 1"
has "holds no checkpoint, but the event store has" "replay --anchor on an emptied anchor file"
[ "$(qdb t_anchor "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")" = 0 ] ||
    fail "replay wrote into the target with a bad anchor file"
echo "ok: replay refuses an anchor file that is none (exit 2) or was emptied (exit 1), as verify does"

# ---- 1. the schemas table is outside the chain ----
q "CREATE TABLE saved_schemas AS SELECT * FROM pgtrail.schemas" >/dev/null
restore_schemas() {
    q "DELETE FROM pgtrail.schemas; INSERT INTO pgtrail.schemas SELECT * FROM saved_schemas" >/dev/null
}
n=0
attack() {  # NAME SQL: the schemas table changed; replay refuses, verify and the checker find it
    local name=$1 sql=$2 db
    n=$((n + 1)); db=t_attack$n
    restore_schemas
    q "$sql" >/dev/null || fail "$name: the attack's SQL failed"
    # a third argument: recompute the chain over what the attack appended (as forge.py does)
    [ -z "${3:-}" ] || python3 "$3" pgtrail "$(q "SELECT max(id) FROM pgtrail.events")" >/dev/null || fail "$name: forge"
    new_target "$db"
    run_replay --events "$src" --target "$(dsn_for "$db")" --create-tables
    [ "$rc" = 1 ] || fail "$name: replay exit $rc, expected 1: $(cat "$work/replay.err")"
    grep -Eq "schema version [0-9]+ of table .* (differs from its schema event|has no schema event|opens at event|has more than one)" \
        "$work/replay.err" || fail "$name: replay's error: $(cat "$work/replay.err")"
    [ "$(qdb "$db" "SELECT count(*) FROM pg_largeobject_metadata")" = 0 ] || fail "$name: a large object was made"
    [ "$(qdb "$db" "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")" = 0 ] ||
        fail "$name: replay created tables from a refused store"
    run_verify
    [ "$rc" = 1 ] && grep -Eq "schema version [0-9]+ of table|schema event [0-9]+ \(" <<<"$out" ||
        fail "$name: verify exit $rc: $out"
    check=$(python3 "$here/../checker/pgtrail_check.py" 2>&1)
    [ $? = 1 ] && case "$check" in "schema version"*|"schema event"*) true ;; *) false ;; esac ||
        fail "$name: the independent checker did not find it: $check"
    echo "ok: $name: replay refuses (exit 1, nothing run in the target), verify and the checker find it"
}
attack "a default that reads a server file" \
    "UPDATE pgtrail.schemas SET details = jsonb_set(details::jsonb, '{columns,0,default}',
       '\"(pg_catalog.lo_import(''/etc/passwd''))::text\"')::json WHERE table_name = 'accounts'"
attack "a changed type (numeric(12,-3) zeroes every balance)" \
    "UPDATE pgtrail.schemas SET columns = replace(columns::text, 'numeric(12,2)', 'numeric(12,-3)')::json
     WHERE table_name = 'accounts'"
attack "an added generated expression" \
    "UPDATE pgtrail.schemas SET details = jsonb_set(details::jsonb, '{columns,1,generated}', '\"0\"')::json
     WHERE table_name = 'accounts'"
attack "a version added by hand" \
    "INSERT INTO pgtrail.schemas (schema_name, table_name, version, columns, primary_key, first_event_id, details)
     SELECT schema_name, table_name, 2, columns, primary_key, (SELECT max(id) FROM pgtrail.events), details
     FROM pgtrail.schemas WHERE table_name = 'audit'"
attack "a version added by hand before the first schema event (a store that began with them has no legacy)" \
    "INSERT INTO pgtrail.schemas (schema_name, table_name, version, columns, primary_key, first_event_id, details)
     SELECT 'app', 'x', 1, columns, primary_key, 1, details FROM pgtrail.schemas WHERE table_name = 'audit'"
attack "a version added by hand with no first event" \
    "INSERT INTO pgtrail.schemas (schema_name, table_name, version, columns, primary_key, first_event_id, details)
     SELECT 'app', 'y', 1, columns, primary_key, NULL, details FROM pgtrail.schemas WHERE table_name = 'audit'"
attack "a second schema event for a version" \
    "INSERT INTO pgtrail.events SELECT (SELECT max(id) + 1 FROM pgtrail.events), lsn, commit_lsn, xid, committed_at,
       schema_name, table_name, schema_version, op, key, row, old, unchanged, actor, action, metadata, prev_hash, hash
     FROM pgtrail.events WHERE op = 'schema' AND table_name = 'audit';
     SELECT 1" "$here/verify/forge.py"
q "DELETE FROM pgtrail.events WHERE id > (SELECT max(id) FROM pgtrail.events WHERE op <> 'schema')" >/dev/null
attack "a version moved to another event" \
    "UPDATE pgtrail.schemas SET first_event_id = first_event_id + 5 WHERE table_name = 'accounts'"
restore_schemas
new_target t_clean
run_replay --events "$src" --target "$(dsn_for t_clean)" --create-tables
[ "$rc" = 0 ] || fail "replay of the restored store: exit $rc: $(cat "$work/replay.err")"
eq "the restored store replays exactly" "SELECT (SELECT sum(balance) FROM app.accounts)::text" \
   "$(qdb t_clean "SELECT sum(balance)::text FROM app.accounts")"

# ---- 2. a chain recomputed after an edit ----
victim=$(q "SELECT id FROM pgtrail.events WHERE op = 'insert' AND table_name = 'accounts' AND key->>'id' = '250'")
prev_cp=$(q "SELECT max(event_id) FROM pgtrail.checkpoints WHERE event_id < $victim")
q "UPDATE pgtrail.events SET row = replace(row::text, '\"2625.00\"', '\"9999999.00\"')::json WHERE id = $victim" >/dev/null
python3 "$here/verify/forge.py" pgtrail "$victim" >/dev/null || fail "forge.py"
python3 "$here/../checker/pgtrail_check.py" >/dev/null || fail "the forged chain should be valid on its own"
for how in "--public-key $work/public.pem" "--anchor $anchor"; do
    db=t_forged_${how:2:6}
    new_target "$db"
    # shellcheck disable=SC2086
    run_replay --events "$src" --target "$(dsn_for "$db")" --create-tables $how
    [ "$rc" = 1 ] || fail "recomputed chain, replay $how: exit $rc, expected 1: $(cat "$work/replay.err")"
    has "does not pass through" "recomputed chain, replay $how"
    [ "$(qdb "$db" "SELECT count(*) FROM app.accounts WHERE balance > 1000000")" = 0 ] ||
        fail "recomputed chain, replay $how: the forged balance is in the target"
    [ "$(qdb "$db" "SELECT last_event_id FROM pgtrail_replay.position")" = "$prev_cp" ] ||
        fail "recomputed chain, replay $how: the target is not at the last good checkpoint $prev_cp"
    echo "ok: recomputed chain: replay $how stops at the last good checkpoint ($prev_cp), the forged value not applied"
done
# the forged stretch followed by a plain break before the next checkpoint: the chain
# error comes first, and replay still goes back to the last checkpoint it checked
next_cp=$(q "SELECT min(event_id) FROM pgtrail.checkpoints WHERE event_id > $victim")
q "UPDATE pgtrail.events SET actor = 'mallory' WHERE id = $((next_cp - 1))" >/dev/null
new_target t_forged_break
run_replay --events "$src" --target "$(dsn_for t_forged_break)" --create-tables --public-key "$work/public.pem"
[ "$rc" = 1 ] || fail "forged stretch then a break: replay exit $rc, expected 1: $(cat "$work/replay.err")"
[ "$(qdb t_forged_break "SELECT last_event_id FROM pgtrail_replay.position")" = "$prev_cp" ] &&
    [ "$(qdb t_forged_break "SELECT count(*) FROM app.accounts WHERE balance > 1000000")" = 0 ] ||
    fail "forged stretch then a break: the target went past the last good checkpoint $prev_cp"
q "UPDATE pgtrail.events SET actor = NULL WHERE id = $((next_cp - 1))" >/dev/null
echo "ok: a forged stretch ending in a plain break: replay goes back to the last good checkpoint ($prev_cp)"
run_replay --events "$src" --history --table app.accounts --key '{"id": 250}' --public-key "$work/public.pem"
[ "$rc" = 1 ] || fail "recomputed chain, --history --public-key: exit $rc, expected 1: $out"
has "does not pass through" "recomputed chain, --history --public-key"
case "$out" in *9999999*) fail "recomputed chain: --history --public-key printed the forged value" ;; esac
run_replay --events "$src" --as-of now --table app.accounts --key '{"id": 250}' --anchor "$anchor"
[ "$rc" = 1 ] || fail "recomputed chain, --as-of --anchor: exit $rc, expected 1: $out"
echo "ok: recomputed chain: point queries with --public-key or --anchor walk the log first and refuse it"
new_target t_forged_nokey
run_replay --events "$src" --target "$(dsn_for t_forged_nokey)" --create-tables
has "signed checkpoints, but no --public-key was given" "replay without a key on a signed store"
echo "ok: without --public-key replay says loudly that it cannot tell (exit $rc: the documented limit)"
python3 "$here/verify/forge.py" pgtrail "$victim" --checkpoints >/dev/null || fail "forge.py --checkpoints"
new_target t_forged_cp
run_replay --events "$src" --target "$(dsn_for t_forged_cp)" --create-tables --public-key "$work/public.pem"
[ "$rc" = 1 ] || fail "recomputed checkpoints: replay exit $rc"
has "does not check" "recomputed checkpoints"
[ "$(qdb t_forged_cp "SELECT count(*) FROM app.accounts WHERE balance > 1000000")" = 0 ] ||
    fail "recomputed checkpoints: the forged balance is in the target"
echo "ok: recomputed checkpoints: their signatures stop replay"
# a forged schema version in a recomputed chain: with --create-tables replay walks to the
# checkpoint after it before it executes anything (a DDL event trigger in the target,
# enabled always, would count any command on schema app, even one rolled back)
sv=$(q "SELECT id FROM pgtrail.events WHERE op = 'schema' AND table_name = 'accounts'")
q "UPDATE pgtrail.events SET row = replace(row::text, 'numeric(12,2)', 'numeric(12,-3)')::json WHERE id = $sv;
   UPDATE pgtrail.schemas SET columns = replace(columns::text, 'numeric(12,2)', 'numeric(12,-3)')::json
   WHERE table_name = 'accounts'" >/dev/null
python3 "$here/verify/forge.py" pgtrail "$sv" >/dev/null || fail "forge.py from the schema event"
new_target t_forged_ddl
qdb t_forged_ddl "CREATE SEQUENCE ddl_seen;
  CREATE FUNCTION count_ddl() RETURNS event_trigger LANGUAGE plpgsql AS \$f\$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE schema_name = 'app') THEN
      PERFORM nextval('public.ddl_seen'); END IF; END \$f\$;
  CREATE EVENT TRIGGER count_ddl ON ddl_command_end EXECUTE FUNCTION count_ddl();
  ALTER EVENT TRIGGER count_ddl ENABLE ALWAYS" >/dev/null || fail "the target's DDL counter"
run_replay --events "$src" --target "$(dsn_for t_forged_ddl)" --create-tables --public-key "$work/public.pem"
[ "$rc" = 1 ] || fail "a forged schema version in a recomputed chain: replay exit $rc, expected 1: $(cat "$work/replay.err")"
[ "$(qdb t_forged_ddl "SELECT is_called FROM ddl_seen")" = f ] ||
    fail "a forged schema version: replay executed DDL in the target before the checkpoint refused it"
echo "ok: a forged schema version in a recomputed chain: refused before any DDL ran in the target"
q "SELECT 1" >/dev/null

# ---- 3. --tables ----
new_target t_tables
run_replay --events "$src" --target "$(dsn_for t_tables)" --create-tables --tables 'pubic.*' --until-event "$prev_cp"
[ "$rc" = 2 ] || fail "--tables typo: exit $rc, expected 2"
has "matches no table of the event log" "--tables typo"
[ "$(qdb t_tables "SELECT count(*) FROM pgtrail_replay.position")" = 0 ] || fail "--tables typo moved the position"
run_replay --events "$src" --target "$(dsn_for t_tables)" --create-tables --tables 'app.audit' --until-event "$prev_cp"
[ "$rc" = 0 ] || fail "--tables app.audit: exit $rc: $(cat "$work/replay.err")"
run_replay --events "$src" --target "$(dsn_for t_tables)" --create-tables --tables 'app.*' --until-event "$prev_cp"
[ "$rc" = 2 ] || fail "another --tables than the position's: exit $rc, expected 2"
has "with --tables 'app.audit', not 'app.\*'" "another --tables"
run_replay --events "$src" --target "$(dsn_for t_tables)" --create-tables --tables 'app.*' --until-event "$prev_cp" --clean
[ "$rc" = 0 ] || fail "--clean with the new --tables: exit $rc: $(cat "$work/replay.err")"
[ "$(qdb t_tables "SELECT count(*) FROM app.accounts")" -gt 0 ] || fail "--clean: accounts not replayed"
echo "ok: --tables: a typo is an error and moves nothing; another filter is refused until --clean"

# ---- 4. two replays into one target ----
new_target t_follow
"$bin/pgtrail-replay" --events "$src" --target "$(dsn_for t_follow)" --create-tables --follow \
    --poll-interval-ms 100 2>"$work/follow.err" &
capture=$!
for _ in $(seq 1 100); do
    [ "$(qdb t_follow "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 2>/dev/null)" = 1 ] && break
    sleep 0.1
done
run_replay --events "$src" --target "$(dsn_for t_follow)" --create-tables --until-event "$prev_cp"
[ "$rc" = 3 ] || fail "a second replay into a followed target: exit $rc, expected 3: $(cat "$work/replay.err")"
has "another pgtrail-replay is replaying event store" "the second replay"
kill -TERM "$capture"; wait "$capture"; capture=""
echo "ok: a second replay into the same target says another holds it (exit 3)"

# ---- 5. a store written before schema events ----
q "BEGIN;
   CREATE TEMP TABLE renum AS SELECT id AS old_id, row_number() OVER (ORDER BY id) AS new_id
     FROM pgtrail.events WHERE op <> 'schema';
   UPDATE pgtrail.schemas s SET first_event_id = r.new_id FROM renum r WHERE r.old_id = s.first_event_id;
   DELETE FROM pgtrail.checkpoints; DELETE FROM pgtrail.events WHERE op = 'schema';
   UPDATE pgtrail.events e SET id = -r.new_id FROM renum r WHERE r.old_id = e.id;
   UPDATE pgtrail.events SET id = -id;
   UPDATE pgtrail.state SET last_event_id = (SELECT max(id) FROM pgtrail.events);
   COMMIT" >/dev/null || fail "making a store of before schema events"
python3 "$here/verify/forge.py" pgtrail 1 >/dev/null || fail "forge.py for the old store"
run_verify
[ "$rc" = 0 ] || fail "verify on a store of before schema events: exit $rc: $out"
grep -q "^schema versions: 0 match their schema events, 2 recorded before schema events" <<<"$out" ||
    fail "verify does not report the uncovered versions: $out"
python3 "$here/../checker/pgtrail_check.py" | grep -q "0 schema versions covered, 2 not covered" ||
    fail "the checker on a store of before schema events"
new_target t_old
run_replay --events "$src" --target "$(dsn_for t_old)" --create-tables
[ "$rc" = 0 ] || fail "replay of a store of before schema events: exit $rc: $(cat "$work/replay.err")"
has "2 schema versions of this event store were recorded before" "replay's warning on an old store"
echo "ok: a store written before schema events verifies and replays, its versions reported as not covered"
# the capture of today takes such a store over: its op check learns "schema", and new versions are covered
q "ALTER TABLE pgtrail.events DROP CONSTRAINT events_op_check, ADD CONSTRAINT events_op_check
     CHECK (op IN ('insert','update','delete','truncate','snapshot','message','ddl','gap'));
   DROP INDEX pgtrail.events_schemas;
   CREATE TABLE app.later (id int PRIMARY KEY); INSERT INTO app.later VALUES (1)" >/dev/null
"$bin/pgtrail-capture" --source "$src" --tables 'app.*' --endpos "$(q "SELECT pg_current_wal_lsn()")" \
    --log-level warning 2>>"$log" || fail "capture on a store of before schema events exited with $?"
eq "the new table's version is covered" "SELECT count(*) FROM pgtrail.events WHERE op = 'schema' AND table_name = 'later'" 1
run_verify
[ "$rc" = 0 ] && grep -q "^schema versions: 1 match their schema events, 2 recorded before" <<<"$out" ||
    fail "verify after capture took over an old store: exit $rc: $out"
new_target t_old2
run_replay --events "$src" --target "$(dsn_for t_old2)" --create-tables
[ "$rc" = 0 ] || fail "replay after capture took over an old store: exit $rc: $(cat "$work/replay.err")"
echo "ok: capture takes over a store of before schema events; its new versions are covered"
echo "all trust checks passed"

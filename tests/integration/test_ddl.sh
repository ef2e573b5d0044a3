#!/usr/bin/env bash
# test_ddl.sh BIN_DIR — DDL capture end to end (run inside with_pg.sh).
#
# With --ddl off nothing changes: no event trigger, no ddl event, versions
# opened from the stream as before. With --ddl on: the event triggers are
# installed (pinned settings), each DDL command is a ddl event in commit
# order with the rows around it, each captured table it touches gets a new
# schema version (columns with attnum) whose first event is the ddl event,
# and a rewrite (ALTER COLUMN TYPE ... USING on the key, ADD COLUMN with a
# volatile default) is followed by snapshot events equal to the table's
# rows. DDL messages never become message events, a forged one is ignored,
# the store schema's own DDL is not recorded, uncaptured rewritten tables
# are skipped. Without a superuser, --ddl on fails with one line and the
# fix. The chain passes the independent checker.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../harness/testlib.sh"
export PGTZ=UTC
dsn=$PGTRAIL_TEST_DSN

# ---- ddl off: a store of its own (schema off_store, slot off_slot) ----
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA app;
CREATE SCHEMA skip;
CREATE TABLE app.accounts (id int PRIMARY KEY, name text);
SQL
"$bin/pgtrail-capture" --source "$dsn" --schema off_store --slot off_slot --endpos 0/1 --log-level warning
eq "ddl off: no event trigger installed" "SELECT count(*) FROM pg_event_trigger" "0"
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO app.accounts VALUES (1, 'a');
ALTER TABLE app.accounts ADD COLUMN note text;
INSERT INTO app.accounts VALUES (2, 'b', 'n');
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$dsn" --schema off_store --slot off_slot --endpos "$end" --messages --log-level warning
eq "ddl off: the row events, each new column set's schema event just before its first event" \
   "SELECT string_agg(op || ':' || table_name || ':' || schema_version, ' ' ORDER BY id) FROM off_store.events" \
   "schema:accounts:1 insert:accounts:1 schema:accounts:2 insert:accounts:2"
eq "ddl off: versions opened from the stream, without attnum" \
   "SELECT string_agg(version || ':' || first_event_id || ':' || columns::text, ' ' ORDER BY version) FROM off_store.schemas" \
   '1:2:[{"name":"id","type":"integer","typeoid":23},{"name":"name","type":"text","typeoid":25}] 2:4:[{"name":"id","type":"integer","typeoid":23},{"name":"name","type":"text","typeoid":25},{"name":"note","type":"text","typeoid":25}]'

# ---- ddl on ----
"$bin/pgtrail-capture" --source "$dsn" --ddl on --exclude-tables 'skip.*' --snapshot never --endpos 0/1 --log-level warning
eq "event triggers installed in the store schema" \
   "SELECT string_agg(evtname || ':' || evtevent || ':' || evtfoid::regproc::text, ' ' ORDER BY evtname) FROM pg_event_trigger" \
   "pgtrail_ddl_a_role:ddl_command_end:pgtrail.ddl_role pgtrail_ddl_a_role_drop:sql_drop:pgtrail.ddl_role pgtrail_ddl_command_end:ddl_command_end:pgtrail.ddl_command_end pgtrail_ddl_sql_drop:sql_drop:pgtrail.ddl_sql_drop pgtrail_ddl_table_rewrite:table_rewrite:pgtrail.ddl_table_rewrite"
eq "trigger functions pin text output and search_path" \
   "SELECT DISTINCT array_to_string(proconfig, ' ') FROM pg_proc WHERE pronamespace = 'pgtrail'::regnamespace AND proname LIKE 'ddl%'" \
   "DateStyle=ISO IntervalStyle=postgres TimeZone=UTC extra_float_digits=3 bytea_output=hex lc_monetary=C search_path=pg_catalog"
PGTRAIL_CAPTURE_DDL=on "$bin/pgtrail-capture" --source "$dsn" --exclude-tables 'skip.*' --endpos 0/1 --log-level warning
eq "installing again changes nothing" "SELECT count(*) FROM pg_event_trigger" "5"
# the seal: its secret and the functions that write sealed messages are the owner's alone
q "CREATE ROLE app_user LOGIN" >/dev/null   # (roles are global: no event trigger fires)
out=$(psql -qXAt -U app_user -c "SELECT * FROM pgtrail.ddl_seal" 2>&1) && fail "app_user read the seal: $out"
out=$(psql -qXAt -U app_user -c "SELECT pgtrail.ddl_emit('pgtrail.ddl', '{}')" 2>&1) && fail "app_user called ddl_emit: $out"
echo "ok: only the installer can read the seal or write sealed messages"

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE app.items (id int PRIMARY KEY, qty int);
INSERT INTO app.items VALUES (1, 5), (2, NULL);
ALTER TABLE app.items ADD COLUMN note text;
INSERT INTO app.items VALUES (3, 7, 'x "q"');
ALTER TABLE app.items RENAME COLUMN note TO remark;
ALTER TABLE app.items DROP COLUMN qty;
ALTER TABLE app.items ALTER COLUMN id TYPE bigint USING id * 10;
ALTER TABLE app.items ADD COLUMN at timestamptz DEFAULT clock_timestamp();
CREATE TYPE app.mood AS ENUM ('ok', 'meh');
CREATE TYPE public.level AS ENUM ('lo', 'hi');
CREATE TABLE app.old_t (x int);
DROP TABLE app.old_t;
CREATE TABLE pgtrail.own_table (x int);
DROP TABLE pgtrail.own_table;
CREATE TABLE skip.t (id int PRIMARY KEY);
INSERT INTO skip.t VALUES (1);
ALTER TABLE skip.t ALTER COLUMN id TYPE bigint;
SELECT pg_logical_emit_message(true, 'pgtrail.ddl', 'not a ddl record');
SELECT pg_logical_emit_message(true, 'pgtrail.row', '{"schema": "app"}');
-- forged but well formed: a "rewrite" that would empty app.items in a replay, and a row for it
SELECT pg_logical_emit_message(true, 'pgtrail.ddl', '{"command_tag" : "ALTER TABLE", "object_type" : "table", '
  || '"object_identity" : "app.items", "statement" : "x", "role" : "admin", "rewrite" : true, "tables" : [], '
  || '"dropped" : [], "rewritten" : [{"schema" : "app", "table" : "items", "oid" : 1}]}');
SELECT pg_logical_emit_message(true, 'pgtrail.row', repeat('0', 64)
  || '{"schema" : "app", "table" : "items", "row" : {"id" : "666", "remark" : "forged", "at" : null}}');
BEGIN;
  SELECT pgtrail.set_context('alice', 'migrate');
  INSERT INTO app.items (id, remark) VALUES (50, 'before');
  ALTER TABLE app.items ADD COLUMN mood app.mood, ADD COLUMN lvl level;
  INSERT INTO app.items (id, remark, mood, lvl) VALUES (60, 'after', 'ok', 'hi');
COMMIT;
INSERT INTO app.items (id, remark) VALUES (70, 'later');
SQL
end=$(q "SELECT pg_current_wal_lsn()")
log=$PGTRAIL_TEST_DIR/capture.log
"$bin/pgtrail-capture" --source "$dsn" --ddl on --exclude-tables 'skip.*' --messages --endpos "$end" \
    --log-level warning 2>"$log" || fail "capture failed"

expected='schema:items:1::f:-
ddl:items:1:CREATE TABLE:f:-
ddl:-::CREATE INDEX:f:-
insert:items:1::f:{"id":"1"}
insert:items:1::f:{"id":"2"}
schema:items:2::f:-
ddl:items:2:ALTER TABLE:f:-
insert:items:2::f:{"id":"3"}
schema:items:3::f:-
ddl:items:3:ALTER TABLE:f:-
schema:items:4::f:-
ddl:items:4:ALTER TABLE:f:-
schema:items:5::f:-
ddl:items:5:ALTER TABLE:t:-
snapshot:items:5::f:{"id":"10"}
snapshot:items:5::f:{"id":"20"}
snapshot:items:5::f:{"id":"30"}
schema:items:6::f:-
ddl:items:6:ALTER TABLE:t:-
snapshot:items:6::f:{"id":"10"}
snapshot:items:6::f:{"id":"20"}
snapshot:items:6::f:{"id":"30"}
ddl:-::CREATE TYPE:f:-
ddl:-::CREATE TYPE:f:-
schema:old_t:1::f:-
ddl:old_t:1:CREATE TABLE:f:-
ddl:old_t::DROP TABLE:f:-
ddl:-::CREATE TABLE:f:-
ddl:-::CREATE INDEX:f:-
ddl:-::ALTER TABLE:t:-
insert:items:6::f:{"id":"50"}
schema:items:7::f:-
ddl:items:7:ALTER TABLE:f:-
insert:items:7::f:{"id":"60"}
insert:items:7::f:{"id":"70"}'
eq "exactly the expected events, ddl in commit order with the rows" \
   "SELECT string_agg(op || ':' || coalesce(table_name, '-') || ':' || coalesce(schema_version::text, '') || ':' ||
      coalesce(row->>'command_tag', '') || ':' || coalesce(left(row->>'rewrite', 1), 'f') || ':' || coalesce(key::text, '-'), E'\n' ORDER BY id)
    FROM pgtrail.events" "$expected"
eq "ddl events: statement, role, object, no key or old" \
   "SELECT row->>'statement' || '|' || (row->>'role') || '|' || (row->>'object_type') || '|' || (row->>'object_identity') || '|' || (key IS NULL AND old IS NULL)
    FROM pgtrail.events WHERE op = 'ddl' AND row->>'statement' LIKE '%RENAME COLUMN%'" \
   "ALTER TABLE app.items RENAME COLUMN note TO remark;|postgres|table column|app.items.remark|true"
eq "the ddl event's row is the message, with the table as it is after the command" \
   "SELECT row->'tables'->0->>'schema' || '.' || (row->'tables'->0->>'table') || ' ' || (row->'tables'->0->'columns')::text || ' ' ||
      (row->'tables'->0->'primary_key')::text || ' ' || (row->'tables'->0->'details'->>'replica_identity') || ' ' || (row->'dropped')::text
    FROM pgtrail.events WHERE op = 'ddl' AND row->>'statement' LIKE '%ADD COLUMN note%'" \
   'app.items [{"name" : "id", "type" : "integer", "typeoid" : 23, "attnum" : 1}, {"name" : "qty", "type" : "integer", "typeoid" : 23, "attnum" : 2}, {"name" : "note", "type" : "text", "typeoid" : 25, "attnum" : 3}] ["id"] d []'
eq "a dropped table is listed under dropped" \
   "SELECT (row->'dropped'->0->>'schema') || '.' || (row->'dropped'->0->>'table') || ' ' || json_array_length(row->'tables') || ' ' || ((row->'dropped'->0->>'oid')::bigint > 0)
    FROM pgtrail.events WHERE op = 'ddl' AND row->>'command_tag' = 'DROP TABLE'" "app.old_t 0 true"
eq "one schema version per DDL command, first event = the ddl event, columns with attnum" \
   "SELECT string_agg(s.version || ':' || (e.op = 'ddl' AND e.schema_version = s.version) || ':' ||
      (SELECT string_agg((c->>'name') || '@' || (c->>'attnum') || '/' || (c->>'type'), ',') FROM json_array_elements(s.columns) c), ' ' ORDER BY s.version)
    FROM pgtrail.schemas s JOIN pgtrail.events e ON e.id = s.first_event_id WHERE s.table_name = 'items'" \
   "1:true:id@1/integer,qty@2/integer 2:true:id@1/integer,qty@2/integer,note@3/text 3:true:id@1/integer,qty@2/integer,remark@3/text 4:true:id@1/integer,remark@3/text 5:true:id@1/bigint,remark@3/text 6:true:id@1/bigint,remark@3/text,at@4/timestamp with time zone 7:true:id@1/bigint,remark@3/text,at@4/timestamp with time zone,mood@5/app.mood,lvl@6/public.level"
eq "versions keep the primary key and the details" \
   "SELECT string_agg(version || ':' || array_to_string(primary_key, ',') || ':' || (details->'columns'->0->>'not_null'), ' ' ORDER BY version) FROM pgtrail.schemas WHERE table_name = 'items'" \
   "1:id:true 2:id:true 3:id:true 4:id:true 5:id:true 6:id:true 7:id:true"
eq "snapshot after ALTER COLUMN TYPE ... USING: the rows as the rewrite left them" \
   "SELECT string_agg(row::text, ' ' ORDER BY id) FROM pgtrail.events WHERE op = 'snapshot' AND schema_version = 5" \
   '{"id":"10","remark":null} {"id":"20","remark":null} {"id":"30","remark":"x \"q\""}'
eq "snapshot after ADD COLUMN ... DEFAULT clock_timestamp(): equal to the table's rows" \
   "SELECT count(*) FROM pgtrail.events e JOIN app.items i ON i.id = (e.key->>'id')::bigint
    WHERE e.op = 'snapshot' AND e.schema_version = 6
      AND e.row::jsonb = jsonb_build_object('id', i.id::text, 'remark', i.remark, 'at', i.at::text)" "3"
# (the values equal the table's rows above; clock_timestamp() may give two rows
# the same microsecond, so they are not required to differ)
eq "the rewritten table's volatile values are set on every row" \
   "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot' AND schema_version = 6 AND row->>'at' IS NOT NULL" "3"
eq "snapshot events: lsn of the message, the transaction's commit LSN and xid" \
   "SELECT count(*) FROM pgtrail.events s JOIN pgtrail.events d ON d.op = 'ddl' AND d.xid = s.xid
    WHERE s.op = 'snapshot' AND s.commit_lsn = d.commit_lsn AND s.lsn > d.lsn AND s.committed_at = d.committed_at" "6"
eq "context applies to ddl events" \
   "SELECT string_agg(op || ':' || coalesce(actor, '-') || ':' || coalesce(action, '-'), ' ' ORDER BY id) FROM (SELECT * FROM pgtrail.events WHERE op <> 'schema' ORDER BY id DESC LIMIT 4) x" \
   "insert:alice:migrate ddl:alice:migrate insert:alice:migrate insert:-:-"
eq "DDL messages never become message events" "SELECT count(*) FROM pgtrail.events WHERE op = 'message'" "0"
grep -q 'logical message "pgtrail.ddl" at .* is not from pgtrail.s DDL capture' "$log" || fail "no warning for the forged ddl message"
grep -q 'logical message "pgtrail.row" at .* is not from pgtrail.s DDL capture' "$log" || fail "no warning for the forged row message"
[ "$(grep -c 'is not from pgtrail.s DDL capture (no valid seal)' "$log")" -ge 2 ] ||
    fail "well-formed forged messages were not refused for their seal: $(grep 'not from pgtrail' "$log")"
eq "no forged row reached the log" "SELECT count(*) FROM pgtrail.events WHERE row::text LIKE '%forged%' OR row::text LIKE '%\"statement\" : \"x\"%'" "0"
echo "ok: forged DDL messages (malformed, or well formed without a valid seal) are warned about and ignored"
eq "ids gapless from 1" "SELECT count(*) = max(id) AND min(id) = 1 FROM pgtrail.events" "t"
eq "each transaction's events are contiguous" \
   "SELECT count(*) FROM (SELECT xid FROM (SELECT xid, xid IS DISTINCT FROM lag(xid) OVER (ORDER BY id) AS starts
    FROM pgtrail.events) x WHERE starts GROUP BY xid HAVING count(*) > 1) y" "0"
eq "commit LSNs never go back" \
   "SELECT count(*) FROM (SELECT commit_lsn < lag(commit_lsn) OVER (ORDER BY id) AS back FROM pgtrail.events) x WHERE back" "0"

eq "a type named without its schema by wal2json (public.level) fits the version DDL defined" \
   "SELECT row->>'lvl' || ':' || schema_version FROM pgtrail.events WHERE key->>'id' = '60'" "hi:7"

# a restart up to the same point adds nothing
"$bin/pgtrail-capture" --source "$dsn" --ddl on --exclude-tables 'skip.*' --endpos "$end" --log-level warning
eq "restart adds no event twice" "SELECT count(*) FROM pgtrail.events" "35"
python3 "$here/../checker/pgtrail_check.py" || fail "independent checker rejected the chain"
echo "ok: independent checker accepts the chain"

# the ddl-off store saw the same DDL messages: still nothing but rows
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$dsn" --schema off_store --slot off_slot --endpos "$end" --messages \
    --log-level warning 2>"$log"
eq "ddl off ignores the triggers' messages" \
   "SELECT count(*) FILTER (WHERE op IN ('ddl', 'message')) || ':' || count(*) FILTER (WHERE op = 'snapshot') FROM off_store.events" "0:0"
grep -q 'DDL capture is off, but its event triggers' "$log" && fail "warned about another store's triggers"
python3 "$here/../checker/pgtrail_check.py" --schema off_store || fail "independent checker rejected the ddl-off chain"
echo "ok: ddl off: the other store's DDL messages are ignored"

# without a superuser: one line, the fix, exit 2, nothing half-installed
q "CREATE ROLE capt LOGIN REPLICATION; GRANT CREATE ON DATABASE postgres TO capt" >/dev/null
set +e
out=$("$bin/pgtrail-capture" --source "$dsn user=capt" --schema capt_store --slot capt_slot --ddl on --endpos 0/1 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "--ddl on without a superuser: expected exit 2, got $rc: $out"
case "$out" in *'creating event triggers needs a superuser'*'hint: '*'superuser run pgtrail-capture once with --ddl on'*) ;;
    *) fail "--ddl on without a superuser: $out" ;; esac
[ "$(printf '%s\n' "$out" | grep -c 'error:')" = 1 ] || fail "more than one error line: $out"
eq "nothing half-installed" \
   "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'capt_store%'" "0"
echo "ok: without a superuser: $(printf '%s\n' "$out" | grep 'error:')"

# a superuser installs once; later runs by the capture role need only SELECT
# on the seal, and are told exactly that
"$bin/pgtrail-capture" --source "$dsn" --schema capt_store --slot capt_slot --ddl on --endpos 0/1 --log-level warning
q "ALTER SCHEMA capt_store OWNER TO capt; ALTER TABLE capt_store.events OWNER TO capt;
   ALTER TABLE capt_store.state OWNER TO capt; ALTER TABLE capt_store.schemas OWNER TO capt;
   ALTER TABLE capt_store.meta OWNER TO capt; ALTER TABLE capt_store.checkpoints OWNER TO capt" >/dev/null
set +e
out=$("$bin/pgtrail-capture" --source "$dsn user=capt" --schema capt_store --slot capt_slot --ddl on --endpos 0/1 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] && case "$out" in *'hint: '*'GRANT SELECT ON "capt_store".ddl_seal TO capt'*) true ;; *) false ;; esac ||
    fail "capture role without SELECT on the seal: exit $rc: $out"
q "GRANT SELECT ON capt_store.ddl_seal TO capt" >/dev/null
"$bin/pgtrail-capture" --source "$dsn user=capt" --schema capt_store --slot capt_slot --ddl on --endpos 0/1 \
    --log-level warning || fail "capture role with SELECT on the seal could not run"
echo "ok: after a superuser installed DDL capture, the capture role runs with SELECT on the seal (and is told so)"

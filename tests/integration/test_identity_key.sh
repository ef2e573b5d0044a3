#!/usr/bin/env bash
# test_identity_key.sh BIN_DIR — keys as docs/FORMAT.md says (issue 16,
# item 6; run inside tests/harness/with_pg.sh).
#
# A table without a primary key and with REPLICA IDENTITY USING INDEX is
# keyed by that index: an INSERT's key holds its columns (it was NULL), an
# UPDATE's key is the new row's (it held the old values when an identity
# column changed), a DELETE's the old row's, a snapshot row's its own.
# REPLICA IDENTITY FULL without a key keeps what FORMAT.md says of it:
# no key on insert, the whole old row on update and delete. Replay
# (--create-tables), --as-of and --history still work for the table.
# The message and ddl rows FORMAT.md shows are byte for byte what capture
# stores. Capture catching up after such a table was renamed or dropped
# still keys its changes by the index (the identity its DDL message
# recorded, or the catalog's by the table's OID; not by its name).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
log=$work/capture.log

q "CREATE TABLE ri (v text, a int NOT NULL, b text NOT NULL);
   CREATE UNIQUE INDEX ri_ba ON ri (b, a);
   ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_ba;
   INSERT INTO ri VALUES ('snap', 1, 'x');
   CREATE TABLE rf (a int, v text);
   ALTER TABLE rf REPLICA IDENTITY FULL" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --messages --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture could not start"
q "INSERT INTO ri VALUES ('two', 2, 'y')" >/dev/null
t_insert=$(q "SELECT clock_timestamp()")
q "UPDATE ri SET v = 'two again' WHERE a = 2;
   UPDATE ri SET a = 3 WHERE a = 2;
   DELETE FROM ri WHERE a = 1;
   INSERT INTO rf VALUES (1, 'one');
   UPDATE rf SET v = 'uno';
   DELETE FROM rf;
   SELECT pg_logical_emit_message(true, 'app', 'hello \"w\" ' || chr(10) || 'x');
   CREATE SCHEMA app;
   CREATE TABLE app.accounts (id int PRIMARY KEY, balance numeric(12,2) NOT NULL DEFAULT 0)" >/dev/null
# FORMAT.md's ddl example, as one statement of its own (its text is in the event)
q "ALTER TABLE app.accounts ADD COLUMN note text" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --messages --log-level warning \
    --endpos "$(q 'SELECT pg_current_wal_lsn()')" 2>>"$log" || fail "capture exited with $?"

eq "identity index: the snapshot, insert, updates and delete are keyed by the index, an update by its new row" \
   "SELECT string_agg(op || ' ' || coalesce(key::text, 'NULL') || ' ' || coalesce(old::text, '-'), E'\n' ORDER BY id)
    FROM pgtrail.events WHERE table_name = 'ri' AND op <> 'schema'" \
'snapshot {"a":"1","b":"x"} -
insert {"a":"2","b":"y"} -
update {"a":"2","b":"y"} {"a":"2","b":"y"}
update {"a":"3","b":"y"} {"a":"2","b":"y"}
delete {"a":"1","b":"x"} {"a":"1","b":"x"}'
eq "REPLICA IDENTITY FULL without a key: no key on insert, the old row on update and delete" \
   "SELECT string_agg(op || ' ' || coalesce(key::text, 'NULL'), E'\n' ORDER BY id)
    FROM pgtrail.events WHERE table_name = 'rf' AND op <> 'schema'" \
'insert NULL
update {"a":"1","v":"one"}
delete {"a":"1","v":"uno"}'

# replay and the point queries still find the rows by key
new_target target
replay_ok --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for target)" --create-tables --log-level warning
eq "replay --create-tables rebuilt the identity-keyed table" \
   "SELECT string_agg(v || ' ' || a || ' ' || b, ', ' ORDER BY a) FROM ri" "two again 3 y"
[ "$(qdb target "SELECT string_agg(v || ' ' || a || ' ' || b, ', ' ORDER BY a) FROM ri")" = "two again 3 y" ] ||
    fail "target: $(qdb target "SELECT string_agg(v || ' ' || a || ' ' || b, ', ' ORDER BY a) FROM ri")"
echo "ok: target holds the source's rows"
replay --events "$PGTRAIL_TEST_DSN" --as-of "$t_insert" --table public.ri --key '{"a": 2, "b": "y"}'
[ "$rc" = 0 ] && grep -q '"two"' <<<"$out" || fail "--as-of for the inserted row (exit $rc): $out $(cat "$err_file")"
echo "ok: --as-of finds the row as inserted"
replay --events "$PGTRAIL_TEST_DSN" --history --table public.ri --key '{"a": 2, "b": "y"}'
[ "$rc" = 0 ] && [ "$(grep -o '"op":"[a-z]*"' <<<"$out" | tr '\n' ' ')" = '"op":"insert" "op":"update" "op":"update" ' ] ||
    fail "--history of the row (exit $rc): $out $(cat "$err_file")"
echo "ok: --history shows the row's insert, update, and its key change away"
replay --events "$PGTRAIL_TEST_DSN" --history --table public.ri --key '{"a": 3, "b": "y"}'
[ "$rc" = 0 ] && grep -q '"row":{"v":"two again","a":"3","b":"y"}' <<<"$out" ||
    fail "--history under the new key (exit $rc): $out $(cat "$err_file")"
echo "ok: --history under the new key shows the update that moved the row there"

# FORMAT.md's examples: the stored text of a message and of a ddl event
eq "a message row is stored as FORMAT.md shows it" \
   "SELECT row::text FROM pgtrail.events WHERE op = 'message'" \
   '{"prefix":"app","content":"hello \"w\" \nx"}'
grep -qF '| `message` | NULL | NULL | `{"prefix":"...","content":"..."}`' "$here/../../docs/FORMAT.md" ||
    fail "FORMAT.md does not show a message row as stored"
echo "ok: FORMAT.md shows the message row's spacing"
# the ddl example: the line after "ddl-example" in FORMAT.md, OIDs aside
stored=$(q "SELECT row::text FROM pgtrail.events WHERE op = 'ddl' AND row->>'command_tag' = 'ALTER TABLE'
            AND row->>'object_identity' = 'app.accounts'")
shown=$(sed -n '/^```ddl-example$/{n;p;q}' "$here/../../docs/FORMAT.md")
no_oids() { sed -E 's/"oid" : "?[0-9]+"?/"oid" : N/g'; }
[ -n "$shown" ] && [ "$(no_oids <<<"$stored")" = "$(no_oids <<<"$shown")" ] ||
    fail "FORMAT.md's ddl example differs from the stored text (OIDs aside):
stored: $stored
shown:  $shown"
echo "ok: FORMAT.md's ddl example is the stored text, byte for byte (OIDs aside)"
# catching up after the tables were renamed and dropped
q "CREATE TABLE later_r (id int NOT NULL, v text); CREATE UNIQUE INDEX later_r_id ON later_r (id);
   ALTER TABLE later_r REPLICA IDENTITY USING INDEX later_r_id;
   CREATE TABLE later_d (id int NOT NULL, v text); CREATE UNIQUE INDEX later_d_id ON later_d (id);
   ALTER TABLE later_d REPLICA IDENTITY USING INDEX later_d_id" >/dev/null
q "INSERT INTO later_r VALUES (1, 'a'); UPDATE later_r SET v = 'b'; INSERT INTO later_d VALUES (7, 'a'); DELETE FROM later_d" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
q "ALTER TABLE later_r RENAME TO later_r2; DROP TABLE later_d" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$end" --log-level warning 2>>"$log" ||
    fail "catch-up capture failed"
keys=$(q "SELECT string_agg(table_name || ' ' || op || ' ' || coalesce(key::text, 'null'), ', ' ORDER BY id)
          FROM pgtrail.events WHERE table_name IN ('later_r', 'later_d') AND op IN ('insert', 'update', 'delete')")
[ "$keys" = 'later_r insert {"id":"1"}, later_r update {"id":"1"}, later_d insert {"id":"7"}, later_d delete {"id":"7"}' ] ||
    fail "keys after the tables were renamed and dropped: [$keys]"
echo "ok: a table keyed by its identity index keeps its key when capture catches up after a rename or a drop"
echo "PASS test_identity_key"

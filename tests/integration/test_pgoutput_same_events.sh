#!/usr/bin/env bash
# test_pgoutput_same_events.sh BIN_DIR — the same WAL read through a wal2json
# slot and a pgoutput slot ([capture] decoder) into two event stores gives
# the same event table, every column of every event (but the hashes and the
# seal, drawn at random per store in format 2), and the
# same schema versions; then a NaN and infinities, which wal2json sends as
# null: the wal2json store has null and counts the loss, the pgoutput store
# has the values and no loss; a message holding a NUL byte, which wal2json
# cuts there, is kept whole; a stored generated column, which pgoutput sends
# only from 18 on: before, its values are counted as lost, the versions
# still list it, and replay computes it again. A full replay of the pgoutput
# store (NaN, -Infinity, "char", an enum array of a quoted schema) equals
# the source; where the server can refuse wal2json (output_plugin_libraries
# without it: as if not installed), capture through pgoutput still runs (run
# inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE DATABASE store_wal2json" >/dev/null
q "CREATE DATABASE store_pgoutput" >/dev/null
q "CREATE SCHEMA \"Odd Schema\"; CREATE TYPE \"Odd Schema\".\"Mood\" AS ENUM ('ok', 'sad')" >/dev/null
q "CREATE TABLE t (id int PRIMARY KEY, n numeric(10,2), f float8, c \"char\", m \"Odd Schema\".\"Mood\"[],
     v varchar(5), b bytea, ok boolean, j jsonb, ts timestamptz, big text)" >/dev/null
q "ALTER TABLE t ALTER big SET STORAGE EXTERNAL" >/dev/null
q "CREATE TABLE \"Odd Schema\".full_t (a int, b text); ALTER TABLE \"Odd Schema\".full_t REPLICA IDENTITY FULL" >/dev/null
q "CREATE TABLE ri (a int NOT NULL, b text, k int PRIMARY KEY); CREATE UNIQUE INDEX ri_a ON ri (a);
   ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_a" >/dev/null
q "CREATE TABLE two (x int, y int, z text, PRIMARY KEY (y, x))" >/dev/null
q "CREATE TABLE nokey (a int, b text)" >/dev/null

dsn_of() { echo "${PGTRAIL_TEST_DSN/dbname=postgres/dbname=$1}"; }
capture() {
    local decoder=$1 endpos=$2
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$(dsn_of "store_$decoder")" \
        --decoder "$decoder" --slot "slot_$decoder" --snapshot never --messages --endpos "$endpos" \
        --log-level warning
}
capture wal2json 0/1
# a FOR ALL TABLES publication would make the application's UPDATEs of nokey fail: refused
rc=0
capture pgoutput 0/1 2> "$PGTRAIL_TEST_DIR/refused.err" || rc=$?
[ "$rc" = 2 ] || fail "capture made a publication that breaks UPDATE on public.nokey (exit $rc)"
grep -q 'would make UPDATE and DELETE fail on 1 table(s) without a usable replica identity: public.nokey' \
    "$PGTRAIL_TEST_DIR/refused.err" || fail "refusal not said: $(cat "$PGTRAIL_TEST_DIR/refused.err")"
[ "$(q "SELECT count(*) FROM pg_publication")" = 0 ] || fail "a publication was made anyway"
q "UPDATE nokey SET b = 'still updatable'" >/dev/null
echo "ok: no publication while a table has no replica identity (its UPDATEs would fail)"
q "ALTER TABLE nokey REPLICA IDENTITY FULL" >/dev/null
capture pgoutput 0/1
echo "ok: capture made a wal2json slot and a pgoutput slot (and its publication)"
[ "$(q "SELECT plugin FROM pg_replication_slots WHERE slot_name = 'slot_pgoutput'")" = pgoutput ] ||
    fail "the pgoutput slot is not a pgoutput slot"
[ "$(q "SELECT puballtables FROM pg_publication WHERE pubname = 'pgtrail'")" = t ] ||
    fail "no publication pgtrail FOR ALL TABLES"

q "INSERT INTO t VALUES (1, 1.50, '-0', 'x', '{ok,sad}', 'héllo', '\\x00ff', true, '{\"a\": [1, 2.50]}',
     '2026-12-05 10:00:00.123456+00', repeat(md5('x'), 5000))" >/dev/null
q "INSERT INTO t (id, n, f) VALUES (3, NULL, 1e-300)" >/dev/null
q "UPDATE t SET v = 'b' WHERE id = 1" >/dev/null
q "UPDATE t SET id = 4 WHERE id = 3" >/dev/null
q "INSERT INTO \"Odd Schema\".full_t VALUES (1, 'x'), (1, 'x'), (2, NULL)" >/dev/null
q "UPDATE \"Odd Schema\".full_t SET b = 'y' WHERE a = 2; DELETE FROM \"Odd Schema\".full_t WHERE a = 1" >/dev/null
q "INSERT INTO ri VALUES (1, 'one', 10); UPDATE ri SET b = 'uno'; UPDATE ri SET a = 2; DELETE FROM ri" >/dev/null
q "INSERT INTO two VALUES (1, 2, 'z'); UPDATE two SET x = 5; UPDATE two SET z = NULL" >/dev/null
q "INSERT INTO nokey VALUES (1, 'a')" >/dev/null
q "BEGIN; INSERT INTO two VALUES (9, 9, 'gone'); ROLLBACK" >/dev/null
q "BEGIN; INSERT INTO two VALUES (7, 7, 'a'); SELECT pg_logical_emit_message(true, 'app', 'plain text');
   SELECT pg_logical_emit_message(true, 'app', '\\x41c3'::bytea); DELETE FROM two WHERE x = 7; COMMIT" >/dev/null
q "BEGIN; SELECT pgtrail.set_context('alice', 'review', '{\"ticket\": 7}'); INSERT INTO two VALUES (8, 8, 'ctx'); COMMIT" >/dev/null
q "INSERT INTO t (id, big) SELECT g, repeat('y', 3000) FROM generate_series(100, 1099) g" >/dev/null
q "UPDATE t SET n = id / 7.0 WHERE id >= 100" >/dev/null
q "TRUNCATE \"Odd Schema\".full_t, two" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
capture wal2json "$end"
capture pgoutput "$end"

# the newest protocol version the server speaks: 3 on 15, 4 on 16 and later
want=3; [ "${PGTRAIL_TEST_PG_VERSION:-15}" -ge 16 ] && want=4
grep -q "START_REPLICATION SLOT \"slot_pgoutput\" LOGICAL .*\"proto_version\" '$want'" "$PGTRAIL_TEST_DIR/server.log" ||
    fail "capture did not ask for pgoutput protocol version $want: $(grep -o 'START_REPLICATION SLOT "slot_pgoutput".*' "$PGTRAIL_TEST_DIR/server.log" | head -1)"
echo "ok: pgoutput protocol version $want"

dump() { psql -qXAt -d "$1" -c "COPY ($2) TO STDOUT"; }
events="SELECT id, lsn, commit_lsn, xid, committed_at, schema_name, table_name, schema_version, op, key, row, old,
  unchanged, actor, action, metadata, sealed, erased FROM pgtrail.events ORDER BY id"
n=$(dump store_wal2json "SELECT count(*) FROM pgtrail.events")
[ "$n" -gt 2000 ] || fail "only $n events in the wal2json store"
diff <(dump store_wal2json "$events") <(dump store_pgoutput "$events") > "$PGTRAIL_TEST_DIR/events.diff" ||
    { head -c 3000 "$PGTRAIL_TEST_DIR/events.diff"; fail "the two stores' events differ"; }
echo "ok: $n events, the same in both stores, byte for byte (but the random seals and the hashes)"
versions="SELECT schema_name, table_name, version, columns, primary_key, first_event_id, details
  FROM pgtrail.schemas ORDER BY schema_name, table_name, version"
diff <(dump store_wal2json "$versions") <(dump store_pgoutput "$versions") ||
    fail "the two stores' schema versions differ"
echo "ok: the same schema versions"

# what wal2json 2.5 cannot carry
q "INSERT INTO t (id, n, f) VALUES (2, 'NaN', '-Infinity')" >/dev/null
q "SELECT pg_logical_emit_message(true, 'nul', '\\x41c300'::bytea)" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
capture wal2json "$end" 2>/dev/null
capture pgoutput "$end"
last="SELECT row->>'n', row->>'f' FROM pgtrail.events WHERE key->>'id' = '2'"
[ "$(dump store_pgoutput "$last")" = "$(printf 'NaN\t-Infinity')" ] || fail "pgoutput store: [$(dump store_pgoutput "$last")]"
[ "$(dump store_wal2json "$last")" = "$(printf '\\N\t\\N')" ] || fail "wal2json store: [$(dump store_wal2json "$last")]"
values_lost="SELECT count(*) FROM pgtrail.losses WHERE kind LIKE '%nan%'"
[ "$(dump store_pgoutput "$values_lost")" = 0 ] || fail "the pgoutput store counts a lost value"
[ "$(dump store_wal2json "$values_lost")" -gt 0 ] || fail "the wal2json store counts no lost value"
echo "ok: NaN and -Infinity kept by pgoutput, null and counted as a loss with wal2json"
nul="SELECT row->>'content' FROM pgtrail.events WHERE row->>'prefix' = 'nul'"
[ "$(dump store_pgoutput "$nul")" = '\\x41c300' ] || fail "pgoutput store: message [$(dump store_pgoutput "$nul")]"
echo "ok: a message holding a NUL byte kept whole by pgoutput (wal2json cuts it there)"
"$bin/pgtrail-verify" --events "$(dsn_of store_pgoutput)" --full --log-level warning || fail "verify failed on the pgoutput store"
echo "ok: the pgoutput store's chain verifies"

# a stored generated column: pgoutput sends it from 18 on (the publication
# made with publish_generated_columns = stored); before, the versions still
# list it, the events lack it, and the loss is counted
q "CREATE TABLE gen (id int PRIMARY KEY, b int, s int GENERATED ALWAYS AS (b * 3) STORED)" >/dev/null
q "INSERT INTO gen (id, b) VALUES (1, 10), (2, 20); UPDATE gen SET b = 11 WHERE id = 1" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
capture wal2json "$end"
capture pgoutput "$end" 2> "$PGTRAIL_TEST_DIR/gen.err"
gen_versions="SELECT columns FROM pgtrail.schemas WHERE table_name = 'gen'"
[ "$(dump store_wal2json "$gen_versions")" = "$(dump store_pgoutput "$gen_versions")" ] ||
    fail "versions of gen differ: $(dump store_pgoutput "$gen_versions")"
rows="SELECT string_agg(row::text, ' ' ORDER BY id) FROM pgtrail.events WHERE table_name = 'gen' AND op <> 'schema'"
gen_lost="SELECT count FROM pgtrail.losses WHERE kind = 'generated_not_sent' AND table_name = 'gen' AND detail = 's'"
if [ "${PGTRAIL_TEST_PG_VERSION:-15}" -ge 18 ]; then
    [ "$(dump store_wal2json "$rows")" = "$(dump store_pgoutput "$rows")" ] ||
        fail "gen rows differ: $(dump store_pgoutput "$rows")"
    [ -z "$(dump store_pgoutput "$gen_lost")" ] || fail "a loss counted on 18"
    echo "ok: a stored generated column in pgoutput's events as in wal2json's (18)"
else
    [ "$(dump store_pgoutput "$rows")" = '{"id":"1","b":"10"} {"id":"2","b":"20"} {"id":"1","b":"11"}' ] ||
        fail "gen rows in the pgoutput store: $(dump store_pgoutput "$rows")"
    [ "$(dump store_pgoutput "$gen_lost")" = 3 ] || fail "pgoutput store: generated_not_sent [$(dump store_pgoutput "$gen_lost")]"
    grep -q 'stored generated column "s" is not in the events' "$PGTRAIL_TEST_DIR/gen.err" ||
        fail "the loss was not said: $(cat "$PGTRAIL_TEST_DIR/gen.err")"
    echo "ok: a stored generated column pgoutput does not send: listed in the version, 3 values counted lost and said"
fi
q "CREATE DATABASE gen_target" >/dev/null
"$bin/pgtrail-replay" --events "$(dsn_of store_pgoutput)" --target "$(dsn_of gen_target)" --create-tables \
    --tables public.gen --log-level warning || fail "replay of gen failed"
[ "$(dump gen_target "SELECT string_agg(id || ':' || b || ':' || s, ' ' ORDER BY id) FROM gen")" = "1:11:33 2:20:60" ] ||
    fail "replayed gen: $(dump gen_target "SELECT string_agg(id || ':' || b || ':' || s, ' ' ORDER BY id) FROM gen")"
echo "ok: replay from the pgoutput store rebuilds gen with its generated column"

# a full replay of the pgoutput store equals the source, NaN and all
q "CREATE DATABASE replayed" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d replayed -c "CREATE SCHEMA \"Odd Schema\"; CREATE TYPE \"Odd Schema\".\"Mood\" AS ENUM ('ok', 'sad')" >/dev/null
"$bin/pgtrail-replay" --events "$(dsn_of store_pgoutput)" --target "$(dsn_of replayed)" --create-tables \
    --tables 'public.t,public.two,"Odd Schema".full_t' --log-level warning 2> "$PGTRAIL_TEST_DIR/replay.err" ||
    fail "replay of the pgoutput store failed: $(cat "$PGTRAIL_TEST_DIR/replay.err")"
# its nulls are nulls: no NaN was lost, and replay does not say one may have been
grep -q "may have been NaN" "$PGTRAIL_TEST_DIR/replay.err" && fail "replay of the pgoutput store warns of lost NaN"
for table in t two '"Odd Schema".full_t'; do
    rows="SELECT * FROM $table ORDER BY 1, 2"
    cols="SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute
          WHERE attrelid = '$table'::regclass AND attnum > 0 AND NOT attisdropped"
    diff <(psql -qXAt -c "$rows") <(psql -qXAt -d replayed -c "$rows") > "$PGTRAIL_TEST_DIR/replay.diff" ||
        fail "replayed $table differs from the source: $(head -c 600 "$PGTRAIL_TEST_DIR/replay.diff")"
    [ "$(psql -qXAt -c "$cols")" = "$(psql -qXAt -d replayed -c "$cols")" ] ||
        fail "replayed $table has other column types: $(psql -qXAt -d replayed -c "$cols")"
done
[ "$(psql -qXAt -d replayed -c "SELECT count(*) FROM t WHERE n = 'NaN' AND f = '-Infinity'")" = 1 ] ||
    fail "NaN and -Infinity did not come back"
echo "ok: a full replay of the pgoutput store equals the source (NaN, -Infinity, \"char\", a quoted schema's enum array)"

# a server that refuses wal2json: capture through pgoutput runs
if [ "$(q "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")" = 1 ]; then
    q "ALTER SYSTEM SET output_plugin_libraries = pgoutput" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null
    q "CREATE DATABASE store_only_pgoutput" >/dev/null
    q "INSERT INTO t (id, f) VALUES (5000, 'Infinity')" >/dev/null
    rc=0
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$(dsn_of store_only_pgoutput)" --slot no_w2j \
        --snapshot never --endpos 0/1 --log-level warning 2> "$PGTRAIL_TEST_DIR/no_w2j.err" || rc=$?
    [ "$rc" != 0 ] && grep -q "output_plugin_libraries" "$PGTRAIL_TEST_DIR/no_w2j.err" ||
        fail "wal2json was not refused (exit $rc): $(cat "$PGTRAIL_TEST_DIR/no_w2j.err")"
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$(dsn_of store_only_pgoutput)" --slot only_pgo \
        --decoder pgoutput --snapshot initial --endpos 0/1 --log-level warning || fail "pgoutput capture failed without wal2json"
    q "UPDATE t SET f = '-Infinity' WHERE id = 5000" >/dev/null
    end=$(q "SELECT pg_current_wal_lsn()")
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$(dsn_of store_only_pgoutput)" --slot only_pgo \
        --decoder pgoutput --endpos "$end" --log-level warning || fail "pgoutput capture failed without wal2json"
    got=$(dump store_only_pgoutput "SELECT string_agg(op || ' ' || (row->>'f'), ', ' ORDER BY id) FROM pgtrail.events
                                    WHERE key->>'id' = '5000'")
    [ "$got" = "snapshot Infinity, update -Infinity" ] || fail "without wal2json: [$got]"
    q "ALTER SYSTEM RESET output_plugin_libraries" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null
    echo "ok: wal2json refused by the server, capture through pgoutput snapshots and streams"
else
    echo "ok: (this server has no output_plugin_libraries: wal2json cannot be refused here)"
fi

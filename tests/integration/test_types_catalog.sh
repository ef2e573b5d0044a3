#!/usr/bin/env bash
# test_types_catalog.sh BIN_DIR — column types come from the type OID and
# the catalog, never from the name wal2json prints (issue 16, items 3 and 9;
# run inside tests/harness/with_pg.sh).
#
# wal2json 2.5 prints format_type() in the walsender's search_path and then
# drops the quotes of a name that begins with one: a "char" column arrives
# as "char" -> char (character(1) to --create-tables), an enum "Mood" as
# Mood, a type in a schema off the search_path unqualified or, when the
# schema's name needs quotes, as JSON that does not even parse. The
# columns below are all of these: "char", an enum and a domain with
# mixed-case names in a schema whose name needs quoting, an array of that
# enum, a mixed-case enum in public, varchar(10), numeric(10,2),
# timestamp(3), interval year to month.
#
# Twice, in two databases: with DDL capture off (one table seen first by
# the snapshot, one first by the stream), the database's search_path
# holding "My Schema" (so wal2json prints Mood, Dom: unqualified, quotes
# dropped), and with DDL capture on (one table seen first by the snapshot,
# one by CREATE TABLE), the default search_path (wal2json prints
# "My Schema"."Mood" bare, a line that is not JSON). Each time:
#  - each table has exactly one schema version (no spurious version when
#    stream, snapshot and DDL name the same types);
#  - the recorded types equal the catalog's format_type(atttypid,
#    atttypmod) under search_path = pg_catalog (qualified wherever needed);
#  - pgtrail-replay --create-tables into a fresh database holding only the
#    types gives tables whose columns and sorted rows equal the source's.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"

cat >"$work/types.sql" <<'SQL'
CREATE SCHEMA "My Schema";
CREATE TYPE "My Schema"."Mood" AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN "My Schema"."Dom" AS numeric(10,2) CHECK (VALUE > 0);
CREATE TYPE public."Pub" AS ENUM ('x', 'y');
SQL

cols='id int PRIMARY KEY, c "char", m "My Schema"."Mood", d "My Schema"."Dom", ma "My Schema"."Mood"[],
      p "Pub", v varchar(10), n numeric(10,2), ts timestamp(3), iv interval year to month'

# the catalog's own names, as a version must record them
catalog_types() {
    qdb "$1" "SET search_path = pg_catalog; SELECT string_agg(format_type(atttypid, atttypmod), ' | ' ORDER BY attnum)
              FROM pg_attribute WHERE attrelid = 'public.$2'::regclass AND attnum > 0 AND NOT attisdropped" | tail -n 1
}

scenario() {
    local db=$1 ddl=$2 first=$3 t
    new_target "$db" "$work/types.sql"
    [ "$first" = stream ] && q "ALTER DATABASE $db SET search_path = public, \"My Schema\"" >/dev/null
    qdb "$db" "CREATE TABLE snap ($cols);
               INSERT INTO snap VALUES (1, 'a', 'ok', 1.5, '{ok,happy}', 'x', 'abc', 1.25, '2024-01-02 03:04:05.678', '1 year'),
                                       (2, NULL, NULL, NULL, '{sad,NULL}', NULL, NULL, NULL, NULL, NULL)" >/dev/null
    [ "$first" = stream ] && qdb "$db" "CREATE TABLE live ($cols)" >/dev/null
    qdb "$db" "CREATE TABLE grow (id int PRIMARY KEY, v varchar(4), n numeric(5,1))" >/dev/null
    log=$work/capture-$db.log
    "$bin/pgtrail-capture" --source "$(dsn_for "$db")" --slot "pt_$db" --ddl "$ddl" --endpos 0/1 --log-level warning 2>"$log" ||
        fail "$db: capture could not start"
    [ "$first" = ddl ] && qdb "$db" "CREATE TABLE live ($cols)" >/dev/null
    qdb "$db" "INSERT INTO live SELECT * FROM snap;
               INSERT INTO live VALUES (3, 'z', 'happy', 99999999.99, '{}', 'y', '0123456789', -12345678.9, '1999-12-31 23:59:59.999', '-2 years 3 mons');
               INSERT INTO snap VALUES (3, 'q', 'sad', 2, NULL, 'y', 'def', 0.5, NULL, '5 mons');
               UPDATE snap SET c = 'b', m = 'happy', ma = ma || 'ok'::\"My Schema\".\"Mood\" WHERE id = 1;
               UPDATE live SET d = 7.77, v = 'new' WHERE id = 1;
               DELETE FROM live WHERE id = 2;
               DELETE FROM snap WHERE id = 2;
               INSERT INTO grow VALUES (1, 'abcd', 1234.5);
               ALTER TABLE grow ALTER v TYPE varchar(6), ALTER n TYPE numeric(6,1);
               INSERT INTO grow VALUES (2, 'abcdef', 12345.6)" >/dev/null
    "$bin/pgtrail-capture" --source "$(dsn_for "$db")" --slot "pt_$db" --ddl "$ddl" --log-level warning \
        --endpos "$(qdb "$db" 'SELECT pg_current_wal_lsn()')" 2>>"$log" || fail "$db: capture exited with $?"
    ! grep -Ei "error|warning" "$log" || fail "$db: capture logged an error or a warning"
    [ "$(qdb "$db" "SELECT string_agg(table_name || ' ' || n, ', ' ORDER BY table_name)
                    FROM (SELECT table_name, count(*) n FROM pgtrail.events
                          WHERE op IN ('insert', 'update', 'delete') AND table_name <> 'grow' GROUP BY 1) e")" = "live 5, snap 3" ] ||
        fail "$db: row events: $(qdb "$db" "SELECT string_agg(op || ' ' || table_name, ', ' ORDER BY id) FROM pgtrail.events")"
    for t in snap live; do
        [ "$(qdb "$db" "SELECT count(*) FROM pgtrail.schemas WHERE table_name = '$t'")" = 1 ] ||
            fail "$db ($first): table $t has $(qdb "$db" "SELECT count(*) FROM pgtrail.schemas WHERE table_name = '$t'") schema versions, expected 1: $(qdb "$db" "SELECT string_agg(version || ' ' || columns::text, E'\n') FROM pgtrail.schemas WHERE table_name = '$t'")"
        echo "ok: $db: table $t has one schema version"
        got=$(qdb "$db" "SELECT string_agg(c->>'type', ' | ' ORDER BY o) FROM pgtrail.schemas s,
                         json_array_elements(s.columns) WITH ORDINALITY x(c, o) WHERE table_name = '$t'")
        want=$(catalog_types "$db" "$t")
        [ "$got" = "$want" ] || fail "$db: types recorded for $t: [$got], the catalog's: [$want]"
        echo "ok: $db: table $t records the catalog's types ($got)"
    done
    # a typmod that changes opens a version (same OID, another typmod)
    got=$(qdb "$db" "SELECT string_agg(version || ': ' || (columns->1->>'type') || ', ' || (columns->2->>'type'), ' / '
                     ORDER BY version) FROM pgtrail.schemas WHERE table_name = 'grow'")
    [ "$got" = "1: character varying(4), numeric(5,1) / 2: character varying(6), numeric(6,1)" ] ||
        fail "$db: versions of grow: $got"
    echo "ok: $db: a changed typmod opens a version ($got)"
    dump_db "$db" "$work/$db.dump"
    new_target "${db}_replayed" "$work/types.sql"
    # (the dump prints types in the database's search_path: the same on both sides)
    [ "$first" = stream ] &&
        q "ALTER DATABASE ${db}_replayed SET search_path = public, \"My Schema\"" >/dev/null
    replay_ok --events "$(dsn_for "$db")" --target "$(dsn_for "${db}_replayed")" --create-tables --log-level warning
    dump_db "${db}_replayed" "$work/${db}_replayed.dump"
    same_dump "$db: replay --create-tables gives the source's columns and rows" "$work/$db.dump" "$work/${db}_replayed.dump"
}

scenario d_off off stream

# a store written before: its versions hold the names wal2json printed
# (char, Mood, Dom, "Mood"[] for types off the search_path, unqualified):
# capture going on from it opens no version for the same types
qdb d_off "UPDATE pgtrail.schemas SET columns = replace(replace(replace(replace(columns::text,
             '\"\\\"char\\\"\"', '\"char\"'), '\"\\\"My Schema\\\".\\\"Mood\\\"\"', '\"Mood\"'),
             '\"\\\"My Schema\\\".\\\"Dom\\\"\"', '\"Dom\"'), 'public.\\\"Pub\\\"', 'Pub')::json
           WHERE table_name = 'snap'" >/dev/null
eqdb() { local got; got=$(qdb "$1" "$3"); [ "$got" = "$4" ] || fail "$2: expected [$4], got [$got]"; echo "ok: $2"; }
eqdb d_off "d_off: the store's version holds wal2json's printed names" \
   "SELECT string_agg(c->>'type', ' | ' ORDER BY o) FROM pgtrail.schemas s, json_array_elements(s.columns) WITH ORDINALITY x(c, o)
    WHERE table_name = 'snap'" 'integer | char | Mood | Dom | "My Schema"."Mood"[] | Pub | character varying(10) | numeric(10,2) | timestamp(3) without time zone | interval year to month'
qdb d_off "UPDATE snap SET c = 'c', m = 'sad', d = 3, p = 'y' WHERE id = 1" >/dev/null
"$bin/pgtrail-capture" --source "$(dsn_for d_off)" --slot pt_d_off --ddl off --log-level warning \
    --endpos "$(qdb d_off 'SELECT pg_current_wal_lsn()')" 2>>"$log" || fail "d_off: capture exited with $?"
eqdb d_off "d_off: capture went on from the older version without opening another" \
   "SELECT count(*) || ' ' || (SELECT count(*) FROM pgtrail.events WHERE table_name = 'snap' AND op = 'update')
    FROM pgtrail.schemas WHERE table_name = 'snap'" "1 2"
scenario d_on on ddl
echo "PASS test_types_catalog"

#!/usr/bin/env bash
# test_replay_review.sh BIN_DIR — reproductions of replay bugs found in
# review (run inside tests/harness/with_pg.sh), each kept as a regression
# test. Every check runs; each failing one says FAIL and the script exits 1
# at the end.
#
# One source log (capture --ddl on), one schema per case, one target
# database per case, replays restricted with --tables:
#   R1 app1  an UPDATE that changes 0 rows fails the run, yet the batch and
#            the position are committed (the next run says all is well)
#   R2 app2  ALTER TABLE on a partitioned parent, --create-tables
#   R3 app3  ALTER COLUMN TYPE ... USING on a partitioned parent (rewrite):
#            the leaves are not emptied before their re-snapshot
#   R4 app4  DROP COLUMN b, ADD COLUMN b in one statement, --create-tables
#   R5 app5  RENAME TO t_old + CREATE TABLE t, into an existing schema
#   R6 app6  DROP TABLE + CREATE TABLE of the same name, existing schema
#   R7 app7  a table dropped before the stop point, existing schema
#   R8 app8  --as-of after a key change: REPLICA IDENTITY FULL with a key;
#            an unchanged TOAST column
#   R9 map   (second source, no DDL capture) a mapping rule with --create-tables
#            is refused; into a restored schema it routes the old column
#   R10 app10 SQL text from the schemas table (outside the chain) is run
#   R11 app11 after a chain break, the replay up to the transaction before
#            it skips a column added in the rolled-back batch
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
log=$work/capture.log
[ -x "$bin/pgtrail-replay" ] || fail "pgtrail-replay is not built ($bin/pgtrail-replay)"
failures=0
# lib.sh's replay turns set -e on: every check here runs, so keep it off
replay() {
    err_file=$PGTRAIL_TEST_DIR/replay.err
    out=$("$bin/pgtrail-replay" "$@" 2>"$err_file" </dev/null)
    rc=$?
}
bad() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
good() { echo "ok: $*"; }
run() { psql -qX -v ON_ERROR_STOP=1 >/dev/null 2>&1 || fail "workload step failed"; }
capture_to_now() {
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --ddl on --endpos "$(q "SELECT pg_current_wal_lsn()")" \
        --log-level warning 2>>"$log" || fail "capture --endpos exited with $?"
}
all_schemas="app1 app2 app3 app4 app5 app6 app7 app8 app10 app11 public"
# dump_only DB SCHEMA FILE: dump_db of one schema's tables
dump_only() {
    local s skip=""
    for s in $all_schemas; do [ "$s" = "$2" ] || skip="$skip $s"; done
    dump_skip_schemas=$skip dump_db "$1" "$3"
}
same() { if cmp -s "$2" "$3"; then good "$1"; else bad "$1"; diff "$2" "$3" | head -n 12 >&2 || true; fi; }
schema_target() { # DB SCHEMA: a target with the source's final schema of SCHEMA restored
    new_target "$1"
    pg_dump --schema-only -n "$2" postgres | psql -qX -d "$1" >/dev/null 2>&1
}
src=$PGTRAIL_TEST_DSN

for s in $all_schemas; do [ "$s" = public ] || q "CREATE SCHEMA $s" >/dev/null; done
"$bin/pgtrail-capture" --source "$src" --ddl on --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture --ddl on could not start"

run <<'SQL'
CREATE TABLE app1.t (id int PRIMARY KEY, v text);
INSERT INTO app1.t VALUES (1, 'a'), (2, 'b');
SQL
capture_to_now
r1_first=$(q "SELECT max(id) FROM pgtrail.events")
run <<'SQL'
UPDATE app1.t SET v = 'a2' WHERE id = 1;
INSERT INTO app1.t VALUES (3, 'c');

CREATE TABLE app2.p (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE app2.p1 PARTITION OF app2.p FOR VALUES FROM (0) TO (100);
CREATE TABLE app2.p2 PARTITION OF app2.p FOR VALUES FROM (100) TO (200);
INSERT INTO app2.p VALUES (1, 5, 'a'), (2, 150, 'b');
ALTER TABLE app2.p ADD COLUMN extra int;
INSERT INTO app2.p VALUES (3, 6, 'c', 7);

CREATE TABLE app3.p (id int, k int, v int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE app3.p1 PARTITION OF app3.p FOR VALUES FROM (0) TO (100);
INSERT INTO app3.p VALUES (1, 5, 10), (2, 6, 20);
ALTER TABLE app3.p ALTER COLUMN v TYPE bigint USING v * 1000;

CREATE TABLE app4.t (id int PRIMARY KEY, a int, b text);
INSERT INTO app4.t VALUES (1, 10, 'x');
ALTER TABLE app4.t DROP COLUMN b, ADD COLUMN b int;
INSERT INTO app4.t VALUES (2, 20, 200);

CREATE TABLE app5.t (id int PRIMARY KEY, v text);
INSERT INTO app5.t VALUES (1, 'old-1'), (2, 'old-2');
ALTER TABLE app5.t RENAME TO t_old;
CREATE TABLE app5.t (id int PRIMARY KEY, v text);
INSERT INTO app5.t VALUES (5, 'new-5');

CREATE TABLE app6.d (id int PRIMARY KEY, v text);
INSERT INTO app6.d VALUES (10, 'first incarnation');
DROP TABLE app6.d;
CREATE TABLE app6.d (id int PRIMARY KEY, v text);
INSERT INTO app6.d VALUES (20, 'second incarnation');

CREATE TABLE app7.keep (id int PRIMARY KEY);
CREATE TABLE app7.gone (id int PRIMARY KEY);
INSERT INTO app7.gone VALUES (1);
INSERT INTO app7.keep VALUES (1);
DROP TABLE app7.gone;

CREATE TABLE app8.f (id int PRIMARY KEY, v text);
ALTER TABLE app8.f REPLICA IDENTITY FULL;
CREATE TABLE app8.big (id int PRIMARY KEY, small text, doc text);
INSERT INTO app8.f VALUES (1, 'one');
UPDATE app8.f SET id = 2 WHERE id = 1;
INSERT INTO app8.big VALUES (1, 's', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 20000) g));
UPDATE app8.big SET id = 2, small = 't' WHERE id = 1;

CREATE TABLE app10.t (id int PRIMARY KEY, a int);
INSERT INTO app10.t VALUES (1, 10);

CREATE TABLE app11.t (id int PRIMARY KEY, v text);
INSERT INTO app11.t VALUES (1, 'a');
SQL
capture_to_now
r11_first=$(q "SELECT max(id) FROM pgtrail.events")
sleep 1.1
as_of=$(q "SELECT now()")
run <<'SQL'
ALTER TABLE app11.t ADD COLUMN c text;
INSERT INTO app11.t VALUES (2, 'b', 'cval');
SQL
for s in app1 app2 app3 app4 app5 app6 app7 app11; do dump_only postgres $s "$work/src_$s.dump"; done
run <<'SQL'
INSERT INTO app11.t VALUES (3, 'to be tampered with', 'x');
SQL
capture_to_now

# ---- R1
schema_target r1 app1
replay --events "$src" --target "$(dsn_for r1)" --tables 'app1.*' --until-event "$r1_first"
[ "$rc" = 0 ] || fail "R1: first replay exited $rc: $(cat "$err_file")"
qdb r1 "DELETE FROM app1.t WHERE id = 1" >/dev/null      # the target drifted
replay --events "$src" --target "$(dsn_for r1)" --tables 'app1.*'
pos=$(qdb r1 "SELECT last_event_id FROM pgtrail_replay.position")
if [ "$rc" != 0 ] && [ "$pos" = "$r1_first" ] && [ "$(qdb r1 "SELECT count(*) FROM app1.t WHERE id = 3")" = 0 ]; then
    good "R1: a run failing on 'changed 0 rows' leaves the target at its last position"
else
    bad "R1: the run exited $rc, yet the target's position is $pos (was $r1_first) and the batch is committed"
fi

# ---- R2
new_target r2
replay --events "$src" --target "$(dsn_for r2)" --tables 'app2.*' --create-tables
[ "$rc" = 0 ] || bad "R2: ALTER TABLE ADD COLUMN on a partitioned parent: exit $rc: $(grep error "$err_file")"
dump_only r2 app2 "$work/r2.dump"; same "R2: partitioned table after ADD COLUMN" "$work/src_app2.dump" "$work/r2.dump"

# ---- R3
schema_target r3 app3
replay --events "$src" --target "$(dsn_for r3)" --tables 'app3.*'
[ "$rc" = 0 ] || bad "R3: rewrite of a partitioned parent: exit $rc: $(grep error "$err_file")"
dump_only r3 app3 "$work/r3.dump"; same "R3: partitioned table after ALTER TYPE USING" "$work/src_app3.dump" "$work/r3.dump"

# ---- R4
new_target r4
replay --events "$src" --target "$(dsn_for r4)" --tables 'app4.*' --create-tables
[ "$rc" = 0 ] || bad "R4: exit $rc"
dump_only r4 app4 "$work/r4.dump"; same "R4: DROP COLUMN b, ADD COLUMN b in one statement" "$work/src_app4.dump" "$work/r4.dump"

# ---- R5
schema_target r5 app5
replay --events "$src" --target "$(dsn_for r5)" --tables 'app5.*'
[ "$rc" = 0 ] || bad "R5: rename + recreate into an existing schema: exit $rc: $(grep error "$err_file")"
dump_only r5 app5 "$work/r5.dump"; same "R5: RENAME TO t_old + CREATE TABLE t" "$work/src_app5.dump" "$work/r5.dump"

# ---- R6
schema_target r6 app6
replay --events "$src" --target "$(dsn_for r6)" --tables 'app6.*'
[ "$rc" = 0 ] || bad "R6: exit $rc: $(grep error "$err_file")"
dump_only r6 app6 "$work/r6.dump"; same "R6: dropped and re-created table, existing schema" "$work/src_app6.dump" "$work/r6.dump"

# ---- R7
schema_target r7 app7
replay --events "$src" --target "$(dsn_for r7)" --tables 'app7.*'
[ "$rc" = 0 ] && good "R7: a table dropped before the stop point is not needed" ||
    bad "R7: a table dropped before the stop point: exit $rc: $(grep error "$err_file")"

# ---- R8
got=$("$bin/pgtrail-replay" --events "$src" --as-of "$as_of" --table app8.f --key '{"id":1}' 2>&1)
[ "$got" = null ] && good "R8: --as-of of a key changed away (REPLICA IDENTITY FULL) is null" ||
    bad "R8: --as-of of key 1 after it became 2 (REPLICA IDENTITY FULL): $got, expected null"
got=$("$bin/pgtrail-replay" --events "$src" --as-of "$as_of" --table app8.big --key '{"id":2}' 2>&1)
case "$got" in
    *'"doc"'*) good "R8: --as-of after a key change keeps the unchanged TOAST column" ;;
    *) bad "R8: --as-of after a key change lost the unchanged TOAST column: $(echo "$got" | cut -c1-100)" ;;
esac

# ---- R9: a second source without DDL capture
q "CREATE DATABASE src2" >/dev/null
src2=$(dsn_for src2)
psql -qX -d src2 -v ON_ERROR_STOP=1 -c "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, title text)" >/dev/null
"$bin/pgtrail-capture" --source "$src2" --slot pgtrail_src2 --ddl off --endpos 0/1 --log-level warning 2>>"$log" || fail "capture src2"
psql -qX -d src2 -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO app.t VALUES (1, 'first'), (2, 'second');
ALTER TABLE app.t RENAME title TO name;
INSERT INTO app.t VALUES (3, 'third');
SQL
"$bin/pgtrail-capture" --source "$src2" --slot pgtrail_src2 --ddl off --log-level warning \
    --endpos "$(psql -d src2 -qXAt -c "SELECT pg_current_wal_lsn()")" 2>>"$log" || fail "capture src2"
# mapping rules are for a restored schema; with --create-tables they are
# refused rather than silently dropping the renamed column's values
new_target r9
replay --events "$src2" --target "$(dsn_for r9)" --create-tables --map 'column app.t.title = name @1'
[ "$rc" = 2 ] && grep -q 'mapping rules and --create-tables do not go together' "$err_file" &&
    good "R9: a mapping rule with --create-tables is refused (exit 2)" ||
    bad "R9: --map with --create-tables: exit $rc, $(cat "$err_file")"
psql -d r9 -qX -c "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, name text)" >/dev/null
replay --events "$src2" --target "$(dsn_for r9)" --map 'column app.t.title = name @1'
got=$(qdb r9 "SELECT string_agg(id || '=' || coalesce(name, '-'), ' ' ORDER BY id) FROM app.t")
[ "$got" = "1=first 2=second 3=third" ] && good "R9: the same rule into a restored schema" ||
    bad "R9: mapping rule 'column app.t.title = name @1' into a restored schema: got $got"

# ---- the log so far (partitions, DDL that opens several versions at once) is proven whole
"$bin/pgtrail-verify" --events "$src" --full >"$work/verify.out" 2>&1 &&
    grep -q "^schema versions: [1-9][0-9]* match their schema events, 0 recorded before" "$work/verify.out" &&
    good "verify proves every schema version, DDL-opened ones included" ||
    bad "verify on the DDL log: $(cat "$work/verify.out")"
python3 "$here/../checker/pgtrail_check.py" --dsn "$src" >"$work/check.out" 2>&1 &&
    good "the independent checker agrees: $(cat "$work/check.out")" || bad "the checker on the DDL log: $(cat "$work/check.out")"

# ---- R10: the schemas table is not in the chain, and its text is run as SQL
q "CREATE TABLE r10_saved AS SELECT * FROM pgtrail.schemas WHERE schema_name = 'app10'" >/dev/null
q "UPDATE pgtrail.schemas SET columns = replace(columns::text, '\"type\":\"integer\",\"typeoid\":23,\"attnum\":2',
   '\"type\":\"integer); CREATE TABLE public.pwned AS SELECT current_user AS who; CREATE TABLE app10.x (id int, y int\",\"typeoid\":23,\"attnum\":2')::json
   WHERE schema_name = 'app10' AND table_name = 't'" >/dev/null
new_target r10
replay --events "$src" --target "$(dsn_for r10)" --tables 'app10.*' --create-tables
[ "$(qdb r10 "SELECT to_regclass('public.pwned') IS NULL")" = t ] && good "R10: no SQL from the schemas table" ||
    bad "R10: a statement stacked into pgtrail.schemas ran in the target (public.pwned made by $(qdb r10 "SELECT who FROM public.pwned")), replay exit $rc"
[ "$rc" = 1 ] && grep -q 'schema version 1 of table "app10"."t" differs from its schema event' "$err_file" &&
    good "R10: replay refuses a schemas table that differs from the chain" ||
    bad "R10: a changed schemas table: exit $rc, $(cat "$err_file")"
q "UPDATE pgtrail.schemas s SET columns = r.columns FROM r10_saved r WHERE s.schema_name = r.schema_name
   AND s.table_name = r.table_name AND s.version = r.version; DROP TABLE r10_saved" >/dev/null

# ---- R11: a chain break; the batch before it had a schema change
bad_id=$(q "SELECT max(id) FROM pgtrail.events WHERE schema_name = 'app11'")
q "UPDATE pgtrail.events SET row = jsonb_set(row::jsonb, '{v}', '\"tampered\"')::json WHERE id = $bad_id" >/dev/null
new_target r11
replay --events "$src" --target "$(dsn_for r11)" --tables 'app11.*' --create-tables --until-event "$r11_first"
[ "$rc" = 0 ] || fail "R11: first replay exited $rc: $(cat "$err_file")"
replay --events "$src" --target "$(dsn_for r11)" --tables 'app11.*' --create-tables
[ "$rc" = 1 ] || bad "R11: a tampered event: exit $rc, expected 1"
dump_only r11 app11 "$work/r11.dump"
same "R11: after a chain break the target holds everything before the bad transaction" "$work/src_app11.dump" "$work/r11.dump"

[ "$failures" = 0 ] || { echo "$failures checks failed" >&2; exit 1; }
echo "all review checks passed"

#!/usr/bin/env bash
# test_replay_partitions.sh BIN_DIR — partitioning that changes over time
# (issue 16, item 2; run inside tests/harness/with_pg.sh).
#
# wal2json names the leaf partition of every change, never the parent, and
# a leaf's bounds in the target need not be the ones it had when the log
# named it. The workload, captured with DDL capture (database ddl) and
# without (database noddl):
#   - rows go into m's DEFAULT partition (one updated, one moved to a key
#     that stays in it), are deleted from it, and a standalone table holding
#     a row is then ATTACHed for their range; rows are then written,
#     updated and moved between partitions;
#   - a 2-level tree: r partitioned by list, one partition of it itself
#     partitioned by range (with its own DEFAULT), a hash-partitioned one;
#   - a partition with rows DETACHed from d, then written as a plain table.
# Checked: a full replay into the final schema (pg_dump --schema-only) and,
# with DDL capture, --create-tables (the partition tree and bounds, and
# every table's rows by sorted COPY, equal to the source's), and
# --create-tables stopped before the ATTACH and DETACH (the tree as it was).
# Without DDL capture --create-tables cannot see a DETACH: exit 2 with a hint.
# A partition emptied (TRUNCATE) under bounds the target does not have: a warning.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR

# the partition tree: every table, its parent and bound (relispartition)
tree() {
    qdb "$1" "SELECT string_agg(c.relname || ' ' || c.relkind::text || coalesce(' of ' || p.relname || ' ' ||
                pg_get_expr(c.relpartbound, c.oid), '') || coalesce(' by ' || pg_get_partkeydef(c.oid), ''), E'\n'
                ORDER BY c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
}
same_tree() {   # NAME DB_A DB_B
    local a b
    a=$(tree "$2") && b=$(tree "$3") || fail "$1: could not read the partition trees"
    [ "$a" = "$b" ] ||
        fail "$1: partition trees differ: $(diff <(tree "$2") <(tree "$3") | head -20)"
    echo "ok: $1: same partition tree"
}
capture_to_end() {   # DB
    "$bin/pgtrail-capture" --source "$(dsn_for "$1")" --slot "$1" --ddl "$(ddl_of "$1")" \
        --endpos "$(qdb "$1" 'SELECT pg_current_wal_lsn()')" --log-level warning ||
        fail "capture of $1 failed"
}
ddl_of() { [ "$1" = ddl ] && echo on || echo off; }
run_sql() { psql -d "$1" -qX -v ON_ERROR_STOP=1 >/dev/null || fail "workload step failed in $1"; }

for db in ddl noddl; do
    q "CREATE DATABASE $db" >/dev/null
    "$bin/pgtrail-capture" --source "$(dsn_for "$db")" --slot "$db" --ddl "$(ddl_of "$db")" --endpos 0/1 \
        --log-level warning
    run_sql "$db" <<'SQL'
CREATE TABLE m (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE m_low PARTITION OF m FOR VALUES FROM (0) TO (100);
CREATE TABLE m_default PARTITION OF m DEFAULT;
INSERT INTO m VALUES (1, 'a'), (2, 'b'), (150, 'c'), (160, 'd'), (500, 'e');
UPDATE m SET v = 'c2' WHERE id = 150;
-- within m_default at the source, out of m_high into m_default in the final target
UPDATE m SET id = 210 WHERE id = 160;
DELETE FROM m WHERE id >= 100 AND id < 200;
CREATE TABLE m_high (id int PRIMARY KEY, v text);
INSERT INTO m_high VALUES (170, 'standalone');
-- the 2-level tree
CREATE TABLE r (region text, id int, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE r_eu PARTITION OF r FOR VALUES IN ('eu') PARTITION BY RANGE (id);
CREATE TABLE r_eu_1 PARTITION OF r_eu FOR VALUES FROM (0) TO (10);
CREATE TABLE r_eu_d PARTITION OF r_eu DEFAULT;
CREATE TABLE r_us PARTITION OF r FOR VALUES IN ('us') PARTITION BY HASH (id);
CREATE TABLE r_us_0 PARTITION OF r_us FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE r_us_1 PARTITION OF r_us FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO r VALUES ('eu', 1, 'x'), ('eu', 50, 'y'), ('us', 1, 'z'), ('us', 2, 'w');
UPDATE r SET id = 60 WHERE region = 'eu' AND id = 1;
-- the partition that will be detached
CREATE TABLE d (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE d_1 PARTITION OF d FOR VALUES FROM (0) TO (100);
CREATE TABLE d_2 PARTITION OF d FOR VALUES FROM (100) TO (200);
INSERT INTO d VALUES (1, 'one'), (101, 'hundred one');
SQL
    qdb "$db" "SELECT pg_current_wal_lsn()" >"$work/before.$db"
    dump_db "$db" "$work/source_before.$db"
    tree "$db" >"$work/tree_before.$db"
    capture_to_end "$db"
    run_sql "$db" <<'SQL'
ALTER TABLE m ATTACH PARTITION m_high FOR VALUES FROM (100) TO (200);
INSERT INTO m VALUES (180, 'f'), (250, 'g');
UPDATE m SET v = 'g2' WHERE id = 250;
UPDATE m SET id = 120 WHERE id = 2;
UPDATE m_high SET v = 'attached' WHERE id = 170;
ALTER TABLE d DETACH PARTITION d_2;
INSERT INTO d_2 VALUES (300, 'out of its old bounds');
UPDATE d_2 SET v = 'detached' WHERE id = 101;
INSERT INTO d VALUES (2, 'two');
SQL
    capture_to_end "$db"
    dump_db "$db" "$work/source.$db"
done

# ---- into the final schema: rows are routed by the target's bounds
for db in ddl noddl; do
    new_target "final_$db"
    pg_dump --schema-only -n public -d "$db" | grep -v "^CREATE SCHEMA public;" | psql -d "final_$db" -qX -v ON_ERROR_STOP=1 >/dev/null
    replay --events "$(dsn_for "$db")" --target "$(dsn_for "final_$db")"
    [ "$rc" = 0 ] || fail "replay into the final schema ($db) exited $rc: $(cat "$err_file")"
    dump_db "final_$db" "$work/final.$db"
    same_dump "replay into the final schema ($db): every table's rows" "$work/source.$db" "$work/final.$db"
    same_tree "replay into the final schema ($db)" "$db" "final_$db"
done

# ---- --create-tables with DDL capture: the tree as it was at the stop point
new_target create_ddl
replay --events "$(dsn_for ddl)" --target "$(dsn_for create_ddl)" --create-tables
[ "$rc" = 0 ] || fail "--create-tables exited $rc: $(cat "$err_file")"
dump_db create_ddl "$work/create.ddl"
same_dump "--create-tables (DDL capture): every table's shape and rows" "$work/source.ddl" "$work/create.ddl"
same_tree "--create-tables (DDL capture)" ddl create_ddl

new_target create_before
replay_ok --events "$(dsn_for ddl)" --target "$(dsn_for create_before)" --create-tables --until-lsn "$(cat "$work/before.ddl")"
dump_db create_before "$work/create_before.ddl"
same_dump "--create-tables (DDL capture) before the ATTACH and DETACH: shape and rows" "$work/source_before.ddl" \
    "$work/create_before.ddl"
[ "$(tree create_before)" = "$(cat "$work/tree_before.ddl")" ] ||
    fail "--create-tables before the ATTACH and DETACH: $(diff <(tree create_before) "$work/tree_before.ddl")"
echo "ok: --create-tables (DDL capture) before the ATTACH and DETACH: the tree as it was"
# and the same target carried on to the end: attached and detached there
replay_ok --events "$(dsn_for ddl)" --target "$(dsn_for create_before)" --create-tables
dump_db create_before "$work/create_after.ddl"
same_dump "--create-tables (DDL capture) continued to the end" "$work/source.ddl" "$work/create_after.ddl"
same_tree "--create-tables (DDL capture) continued to the end" ddl create_before

# ---- without DDL capture, --create-tables cannot know of the DETACH: a row
# outside d_2's old bounds is refused by the tree replay made, and replay says
# why and what to do (exit 2), instead of a bare server error
new_target create_noddl
replay --events "$(dsn_for noddl)" --target "$(dsn_for create_noddl)" --create-tables
[ "$rc" = 2 ] || fail "--create-tables without DDL capture: expected exit 2, got $rc: $(cat "$err_file")"
grep -q 'no partition of relation "d" found for row' "$err_file" && grep -q 'only with DDL capture on' "$err_file" ||
    fail "--create-tables without DDL capture: no hint: $(cat "$err_file")"
echo "ok: --create-tables without DDL capture: a row the stale tree refuses is exit 2 with the way out"

# ---- a partition emptied under other bounds than the target's: said, not silent
# (the rows the source held in m2_default went to m2_high in the final target,
# and TRUNCATE m2_default cannot reach them there)
q "CREATE DATABASE tr" >/dev/null
"$bin/pgtrail-capture" --source "$(dsn_for tr)" --slot tr --endpos 0/1 --log-level warning
run_sql tr <<'SQL'
CREATE TABLE m2 (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE m2_default PARTITION OF m2 DEFAULT;
INSERT INTO m2 VALUES (150);
TRUNCATE m2_default;
CREATE TABLE m2_high PARTITION OF m2 FOR VALUES FROM (100) TO (200);
SQL
"$bin/pgtrail-capture" --source "$(dsn_for tr)" --slot tr --endpos "$(qdb tr 'SELECT pg_current_wal_lsn()')" \
    --log-level warning
new_target final_tr
pg_dump --schema-only -n public -d tr | grep -v "^CREATE SCHEMA public;" | psql -d final_tr -qX -v ON_ERROR_STOP=1 >/dev/null
replay_ok --events "$(dsn_for tr)" --target "$(dsn_for final_tr)"
grep -q 'partition "public"."m2_default" is emptied (TRUNCATE or re-snapshot); its bound in the target (DEFAULT)' \
    "$err_file" || fail "TRUNCATE of a partition under other bounds: not said: $(cat "$err_file")"
echo "ok: a partition emptied when the target's bounds may differ is said"

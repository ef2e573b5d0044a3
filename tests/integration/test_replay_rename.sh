#!/usr/bin/env bash
# test_replay_rename.sh BIN_DIR — a table renamed and moved to another
# schema at the source (run inside with_pg.sh). Versions carry the table's
# oid, so replay knows the table under its new name is the old one:
#   - with DDL capture and --create-tables, the target table is renamed and
#     moved at that point of the log (a replay stopped before it has the
#     old name), and its rows follow;
#   - into today's schema (pg_dump --schema-only), events written under the
#     old name land in the table's new name;
#   - without DDL capture (a second database), the same, from the stream.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR

workload() {
    psql -d "$1" -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE a.items (id int PRIMARY KEY, label text, qty int);
INSERT INTO a.items VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3);
UPDATE a.items SET qty = 10 WHERE id = 1;
SQL
    psql -d "$1" -qXAt -c "SELECT pg_current_wal_lsn()" >"$work/before_rename.$1"
    # capture follows the source (in life it runs all along): it reads the
    # table's catalog details, oid included, before the rename
    capture_to_end "$1"
    psql -d "$1" -qX -v ON_ERROR_STOP=1 <<'SQL'
ALTER TABLE a.items RENAME TO goods;
ALTER TABLE a.goods SET SCHEMA b;
ALTER TABLE b.goods RENAME COLUMN label TO name;
UPDATE b.goods SET qty = 20 WHERE id = 2;
DELETE FROM b.goods WHERE id = 3;
INSERT INTO b.goods VALUES (4, 'four', 4);
SQL
}

for db in withddl noddl; do
    q "CREATE DATABASE $db" >/dev/null
    psql -d "$db" -qX -c "CREATE SCHEMA a; CREATE SCHEMA b" >/dev/null
done
"$bin/pgtrail-capture" --source "$(dsn_for withddl)" --slot withddl --ddl on --endpos 0/1 --log-level warning
"$bin/pgtrail-capture" --source "$(dsn_for noddl)" --slot noddl --endpos 0/1 --log-level warning
capture_to_end() {
    local end extra=""
    end=$(psql -d "$1" -qXAt -c "SELECT pg_current_wal_lsn()")
    [ "$1" = withddl ] && extra="--ddl on"
    # shellcheck disable=SC2086
    "$bin/pgtrail-capture" --source "$(dsn_for "$1")" --slot "$1" $extra --endpos "$end" --log-level warning
}
workload withddl
workload noddl
capture_to_end withddl
capture_to_end noddl
want="1|one|10 2|two|20 4|four|4"
rows() { qdb "$1" "SELECT string_agg(id || '|' || name || '|' || qty, ' ' ORDER BY id) FROM b.goods"; }
[ "$(rows withddl)" = "$want" ] || fail "source rows: $(rows withddl)"

# ---- DDL capture + --create-tables: renamed and moved where the log says
new_target t_create
replay_ok --events "$(dsn_for withddl)" --target "$(dsn_for t_create)" --create-tables
[ "$(rows t_create)" = "$want" ] || fail "--create-tables: $(rows t_create)"
[ "$(qdb t_create "SELECT count(*) FROM pg_tables WHERE tablename IN ('items', 'goods')")" = 1 ] ||
    fail "--create-tables left the old table behind"
grep -q 'renamed table "a"."items" to "a"."goods"' "$err_file" && grep -q 'renamed table "a"."goods" to "b"."goods"' "$err_file" || fail "rename not logged: $(cat "$err_file")"
echo "ok: DDL capture + --create-tables: a.items renamed to b.goods in the target, rows follow"

new_target t_before
replay_ok --events "$(dsn_for withddl)" --target "$(dsn_for t_before)" --create-tables \
    --until-lsn "$(cat "$work/before_rename.withddl")" --log-level warning
[ "$(qdb t_before "SELECT string_agg(id || '|' || label || '|' || qty, ' ' ORDER BY id) FROM a.items")" = "1|one|10 2|two|2 3|three|3" ] ||
    fail "replay before the rename should have a.items"
replay_ok --events "$(dsn_for withddl)" --target "$(dsn_for t_before)" --create-tables --log-level warning
[ "$(rows t_before)" = "$want" ] || fail "continuing across the rename: $(rows t_before)"
echo "ok: stopped before the rename the table has its old name; a second run renames it and continues"

# ---- into today's schema: events of a.items land in b.goods (label -> name by attnum)
for db in withddl noddl; do
    new_target "t_today_$db"
    pg_dump --schema-only -n a -n b -d "$db" | psql -d "t_today_$db" -qX -v ON_ERROR_STOP=1 >/dev/null
    replay_ok --events "$(dsn_for "$db")" --target "$(dsn_for "t_today_$db")"
    if [ "$db" = withddl ]; then
        [ "$(rows "t_today_$db")" = "$want" ] || fail "today's schema, $db: $(rows "t_today_$db")"
    else
        # without DDL capture the column rename is not known: name is empty for
        # rows last written before it (row 2 was rewritten whole after it), and
        # replay says which rule would fix it
        [ "$(qdb "t_today_$db" "SELECT string_agg(id || '|' || coalesce(name, '-') || '|' || qty, ' ' ORDER BY id) FROM b.goods")" = "1|-|10 2|two|20 4|four|4" ] ||
            fail "today's schema, noddl: $(qdb "t_today_$db" "SELECT string_agg(id || '|' || coalesce(name, '-') || '|' || qty, ' ' ORDER BY id) FROM b.goods")"
        grep -q "column a.items.label = NEWNAME" "$err_file" || fail "no rule suggested: $(cat "$err_file")"
    fi
    echo "ok: into today's schema ($db): events written as a.items land in b.goods"
done
replay_ok --events "$(dsn_for noddl)" --target "$(dsn_for t_today_noddl)" --clean --map 'column a.items.label = name'
[ "$(rows t_today_noddl)" = "$want" ] || fail "with the rule: $(rows t_today_noddl)"
echo "ok: without DDL capture, the table rename is followed by oid and the column rename by a rule"

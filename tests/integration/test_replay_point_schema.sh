#!/usr/bin/env bash
# test_replay_point_schema.sh BIN_DIR — a replay stopped at a point uses
# the names and columns the log had there, and a column keeps its values
# across a rename (issue 16, item 8; run inside tests/harness/with_pg.sh).
#
#   1. CREATE TABLE t (a int PRIMARY KEY, b int); INSERT (1, 2) — point P —
#      then a later DROP COLUMN b, RENAME b, RENAME of the key a, or of the
#      table (another t created in its place). Replayed
#      --until-lsn P into the schema restored as of P (pg_dump then), the
#      row is (1, 2), exit 0, no warning: never (1, NULL) or exit 2. With
#      DDL capture and without (the later version then opens from the stream).
#   2. CREATE TABLE t (id int PRIMARY KEY, a text); INSERT (1, 'one'); then
#      capture starts (its snapshot), ALTER TABLE t RENAME a TO b; INSERT
#      (2, 'two'), DDL capture on: --create-tables gives 1|one 2|two with no
#      warning, and --as-of gives {"id":"1","b":"one"} (the snapshot's
#      version records attnums, so the rename is followed).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR

capture_to_end() {   # DB DDL(on|off)
    "$bin/pgtrail-capture" --source "$(dsn_for "$1")" --slot "$1" --ddl "$2" \
        --endpos "$(qdb "$1" 'SELECT pg_current_wal_lsn()')" --log-level warning ||
        fail "capture of $1 failed"
}

# ---- 1. later DDL is not applied to a replay stopped before it
point_case() {   # NAME DDL LATER_SQL
    local db="src_$1_$2" p
    q "CREATE DATABASE $db" >/dev/null
    "$bin/pgtrail-capture" --source "$(dsn_for "$db")" --slot "$db" --ddl "$2" --endpos 0/1 --log-level warning
    psql -d "$db" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE t (a int PRIMARY KEY, b int)" \
        -c "INSERT INTO t VALUES (1, 2)" >/dev/null
    p=$(qdb "$db" "SELECT pg_current_wal_lsn()")
    pg_dump --schema-only -t t -d "$db" >"$work/$db.p.sql"
    # a row written after the DDL makes capture open the next version from
    # the stream, when DDL capture is off
    psql -d "$db" -qX -v ON_ERROR_STOP=1 -c "$3" -c "INSERT INTO t VALUES (3)" >/dev/null
    capture_to_end "$db" "$2"
    new_target "t_$db" "$work/$db.p.sql"
    replay --events "$(dsn_for "$db")" --target "$(dsn_for "t_$db")" --until-lsn "$p"
    [ "$rc" = 0 ] || fail "$1 ($2 DDL capture): replay --until-lsn P exited $rc: $(cat "$err_file")"
    [ "$(qdb "t_$db" "SELECT a || '|' || coalesce(b::text, 'NULL') FROM t")" = "1|2" ] ||
        fail "$1 ($2 DDL capture): replay to P gave $(qdb "t_$db" "SELECT a || '|' || coalesce(b::text, 'NULL') FROM t")"
    ! grep -q "warning" "$err_file" || fail "$1 ($2 DDL capture): warned: $(cat "$err_file")"
    echo "ok: $1 after P ($2 DDL capture): replay to P into P's schema gives (1, 2), exit 0, no warning"
}
for ddl in on off; do
    point_case drop "$ddl" "ALTER TABLE t DROP COLUMN b"
    point_case rename "$ddl" "ALTER TABLE t RENAME COLUMN b TO c"
    point_case renamekey "$ddl" "ALTER TABLE t RENAME COLUMN a TO k"
    # the table renamed after P (and another t made): P's t is still t
    point_case renametable "$ddl" "ALTER TABLE t RENAME TO t_old; CREATE TABLE t (a int PRIMARY KEY, b int)"
done

# the full replay into the final schema still follows the later DDL
db=src_rename_on
new_target t_final
pg_dump --schema-only -t t -d "$db" | psql -d t_final -qX -v ON_ERROR_STOP=1 >/dev/null
replay_ok --events "$(dsn_for "$db")" --target "$(dsn_for t_final)"
[ "$(qdb t_final "SELECT string_agg(a || '|' || coalesce(c::text, 'NULL'), ' ' ORDER BY a) FROM t")" = "1|2 3|NULL" ] ||
    fail "full replay into the final schema: $(qdb t_final "SELECT string_agg(a || '|' || coalesce(c::text, 'NULL'), ' ' ORDER BY a) FROM t")"
echo "ok: a full replay into the final schema lands b's values in c"

# ---- 2. --create-tables across a rename, capture started after the table
q "CREATE DATABASE src2" >/dev/null
psql -d src2 -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE t (id int PRIMARY KEY, a text)" \
    -c "INSERT INTO t VALUES (1, 'one')" >/dev/null
"$bin/pgtrail-capture" --source "$(dsn_for src2)" --slot src2 --ddl on --endpos 0/1 --log-level warning
before=$(qdb src2 "SELECT pg_current_wal_lsn()")
psql -d src2 -qX -v ON_ERROR_STOP=1 -c "ALTER TABLE t RENAME a TO b" -c "INSERT INTO t VALUES (2, 'two')" >/dev/null
capture_to_end src2 on
new_target t2
replay --events "$(dsn_for src2)" --target "$(dsn_for t2)" --create-tables
[ "$rc" = 0 ] || fail "--create-tables exited $rc: $(cat "$err_file")"
[ "$(qdb t2 "SELECT string_agg(id || '|' || coalesce(b, 'NULL'), ' ' ORDER BY id) FROM t")" = "1|one 2|two" ] ||
    fail "--create-tables across the rename: $(qdb t2 "SELECT string_agg(id || '|' || coalesce(b, 'NULL'), ' ' ORDER BY id) FROM t")"
! grep -q "warning" "$err_file" || fail "--create-tables warned: $(cat "$err_file")"
echo "ok: --create-tables renames the column: 1|one 2|two, exit 0, no warning"
new_target t2p
replay_ok --events "$(dsn_for src2)" --target "$(dsn_for t2p)" --create-tables --until-lsn "$before"
[ "$(qdb t2p "SELECT string_agg(id || '|' || a, ' ' ORDER BY id) FROM t")" = "1|one" ] ||
    fail "--create-tables before the rename: $(qdb t2p "SELECT string_agg(id || '|' || a, ' ' ORDER BY id) FROM t")"
echo "ok: --create-tables stopped before the rename has column a with its value"
got=$("$bin/pgtrail-replay" --events "$(dsn_for src2)" --as-of "$(qdb src2 'SELECT now()')" --table public.t --key '{"id":"1"}')
json_eq "--as-of follows the rename" "$got" '{"id":"1","b":"one"}'

# ---- 3. without DDL capture a rename cannot be told from a drop: said, not silent
q "CREATE DATABASE src3" >/dev/null
"$bin/pgtrail-capture" --source "$(dsn_for src3)" --slot src3 --ddl off --endpos 0/1 --log-level warning
psql -d src3 -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE t (id int PRIMARY KEY, a text)" -c "INSERT INTO t VALUES (1, 'one')" \
    -c "ALTER TABLE t RENAME a TO b" -c "INSERT INTO t VALUES (2, 'two')" >/dev/null
capture_to_end src3 off
new_target t3
replay_ok --events "$(dsn_for src3)" --target "$(dsn_for t3)" --create-tables
[ "$(qdb t3 "SELECT string_agg(id || '|' || coalesce(b, 'NULL'), ' ' ORDER BY id) FROM t")" = "1|NULL 2|two" ] ||
    fail "--create-tables without DDL capture: $(qdb t3 "SELECT string_agg(id || '|' || coalesce(b, 'NULL'), ' ' ORDER BY id) FROM t")"
grep -q 'column "a" of version 1 is not in version 2.*a rename cannot be told from a drop' "$err_file" ||
    fail "--create-tables without DDL capture: the possible rename was not said: $(cat "$err_file")"
echo "ok: without DDL capture, --create-tables says that column a may have been renamed"

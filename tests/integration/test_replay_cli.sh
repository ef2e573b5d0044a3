#!/usr/bin/env bash
# test_replay_cli.sh BIN_DIR — pgtrail-replay's edges (run inside with_pg.sh):
#   - schema evolution without DDL capture: mapping rules land version-1
#     events of a renamed column in today's name, drop a dropped column,
#     rename a table; without the rule the old values are not written (and
#     that is said);
#   - --dry-run says what it would do and changes nothing;
#   - a table the log needs missing from the target: a clear error naming
#     it, exit 2, no row written;
#   - --create-tables with a user-defined type missing: exit 2, the type
#     named, the pg_dump hint;
#   - a role that may not set session_replication_role: exit 2 with the fix;
#   - --clean empties the replayed tables and replays from the start;
#   - NaN in a NOT NULL numeric column (sent as null by wal2json 2.5) is
#     reported as a known loss for its table; --create-tables leaves such a
#     column nullable (the rest keep their NOT NULL), in a partition tree its
#     parent's too;
#   - the point queries are served by the event store's index;
#   - bad usage: two stop points, no target, --history without --key.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"
work=$PGTRAIL_TEST_DIR
src=$PGTRAIL_TEST_DSN
log=$work/capture.log

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA app;
CREATE TYPE app.color AS ENUM ('red', 'green');
CREATE TABLE app.posts (id int PRIMARY KEY, title text, legacy text);
CREATE TABLE app.paint (id int PRIMARY KEY, c app.color);
CREATE TABLE app.readings (id int PRIMARY KEY, v numeric NOT NULL, f float8 NOT NULL);
CREATE TABLE app.bulk (id int PRIMARY KEY, v text);
SQL
"$bin/pgtrail-capture" --source "$src" --endpos 0/1 --log-level warning 2>"$log" || fail "capture could not start"

# version 1 of posts: title and legacy; then renamed and dropped without DDL capture
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO app.posts VALUES (1, 'first', 'x'), (2, 'second', 'y');
UPDATE app.posts SET title = 'first!' WHERE id = 1;
INSERT INTO app.paint VALUES (1, 'red');
INSERT INTO app.readings VALUES (1, 'NaN', 1.5), (2, 2.5, 'Infinity'), (3, 3, 3);
INSERT INTO app.bulk SELECT g, 'v' || g FROM generate_series(1, 40000) g;
UPDATE app.bulk SET v = 'changed' WHERE id % 1000 = 0;
INSERT INTO app.bulk SELECT g, 'w' || g FROM generate_series(40001, 40100) g;
ALTER TABLE app.posts RENAME COLUMN title TO name;
ALTER TABLE app.posts DROP COLUMN legacy;
INSERT INTO app.posts VALUES (3, 'third');
UPDATE app.posts SET name = 'second!' WHERE id = 2;
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$src" --endpos "$end" --log-level warning 2>>"$log" || fail "capture failed"
eq "posts has two versions (the stream saw the rename at the next insert)" \
   "SELECT string_agg(version::text, ',' ORDER BY version) FROM pgtrail.schemas WHERE table_name = 'posts'" "1,2"

# today's schema, as pg_dump --schema-only of the source would restore it
schema_sql=$work/schema.sql
pg_dump --schema-only -n app -d postgres >"$schema_sql"

# ---- NOT NULL in the target and NaN in the log: refused with the reason and the fix
new_target t_plain "$schema_sql"
replay --events "$src" --target "$(dsn_for t_plain)"
[ "$rc" = 2 ] || fail "NaN into a NOT NULL column: expected exit 2, got $rc: $(cat "$err_file")"
grep -q 'error: \(event [0-9]*\|one of events [0-9]* to [0-9]* (inserted together)\): "app"."readings": null value in column "v"' "$err_file" &&
    grep -q 'hint: .*NaN or Infinity' "$err_file" && grep -q 'stopped: the target is at event 0' "$err_file" ||
    fail "NaN into NOT NULL: $(cat "$err_file")"
[ "$(qdb t_plain "SELECT count(*) FROM app.posts")" = 0 ] || fail "the failed batch left rows behind"
echo "ok: NaN into a NOT NULL target column: exit 2, event named, hint, nothing half-applied"

# ---- without a mapping rule: title's values cannot land anywhere, and that is said
replay --events "$src" --target "$(dsn_for t_plain)" --tables 'app.posts,app.paint'
[ "$rc" = 0 ] || fail "replay into today's schema exited $rc: $(cat "$err_file")"
grep -q 'column "title" of version 1 is gone from later versions .*column app.posts.title = NEWNAME @1' "$err_file" || fail "no warning about the column the target lacks: $(cat "$err_file")"
got=$(qdb t_plain "SELECT string_agg(id || '=' || coalesce(name, '-'), ' ' ORDER BY id) FROM app.posts")
[ "$got" = "1=- 2=second! 3=third" ] || fail "without the rule, version-1 values should be missing: $got"
echo "ok: without a rule, version-1 values of the renamed column are not written, and that is said"

# ---- with the rules: version-1 title lands in name, legacy is not written, no warning
new_target t_map "$schema_sql"
replay --events "$src" --target "$(dsn_for t_map)" --tables 'app.posts,app.paint' \
    --map 'column app.posts.title = name @1; drop app.posts.legacy @1'
[ "$rc" = 0 ] || fail "replay with mapping rules exited $rc: $(cat "$err_file")"
grep -q 'is gone from later versions\|has no column' "$err_file" && fail "a warning although every column was mapped: $(cat "$err_file")"
[ "$(qdb t_map "SELECT string_agg(id || '=' || name, ' ' ORDER BY id) FROM app.posts")" = "1=first! 2=second! 3=third" ] ||
    fail "mapping rules: $(qdb t_map "SELECT string_agg(id || '=' || coalesce(name, '-'), ' ' ORDER BY id) FROM app.posts")"
echo "ok: 'column app.posts.title = name @1' routes version-1 events into today's column"

# a table rule: posts -> articles (target has only articles)
new_target t_rename
qdb t_rename "CREATE SCHEMA app; CREATE TYPE app.color AS ENUM ('red', 'green');
              CREATE TABLE app.articles (id int PRIMARY KEY, name text);
              CREATE TABLE app.paint (id int PRIMARY KEY, c app.color);
              CREATE TABLE app.readings (id int PRIMARY KEY, v numeric, f float8);
              CREATE TABLE app.bulk (id int PRIMARY KEY, v text)" >/dev/null
replay --events "$src" --target "$(dsn_for t_rename)" \
    --map 'table app.posts = app.articles; column app.posts.title = name @1; drop app.posts.legacy'
[ "$rc" = 0 ] || fail "replay with a table rule exited $rc: $(cat "$err_file")"
[ "$(qdb t_rename "SELECT string_agg(id || '=' || name, ' ' ORDER BY id) FROM app.articles")" = "1=first! 2=second! 3=third" ] ||
    fail "table rule: events of app.posts did not land in app.articles"
echo "ok: 'table app.posts = app.articles' renames the table"

# ---- a bad rule is a usage error
replay --events "$src" --target "$(dsn_for t_rename)" --map 'rename app.posts to x'
[ "$rc" = 2 ] && grep -q 'map' "$err_file" || fail "a malformed rule: exit $rc, $(cat "$err_file")"
echo "ok: a malformed mapping rule is exit 2, with the rule named"

# ---- NaN / Infinity arrive as null: a known loss, reported per table
new_target t_nan
replay --events "$src" --target "$(dsn_for t_nan)" --create-tables --tables 'app.readings'
[ "$rc" = 0 ] || fail "replay of readings exited $rc: $(cat "$err_file")"
grep -q '"app"."readings": 2 values of NOT NULL numeric or float columns arrived as null' "$err_file" ||
    fail "NaN/Infinity not reported as a known loss: $(cat "$err_file")"
[ "$(qdb t_nan "SELECT count(*) FROM app.readings WHERE v IS NULL OR f IS NULL")" = 2 ] || fail "readings rows"
nn=$(qdb t_nan "SELECT string_agg(attname || ':' || attnotnull, ' ' ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = 'app.readings'::regclass AND attnum > 0")
[ "$nn" = "id:true v:false f:false" ] || fail "readings: NOT NULL of the columns that hold NaN-as-null not left out: $nn"
[ "$(qdb t_nan "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")" = 1 ] ||
    fail "--tables app.readings created other tables too"
echo "ok: NaN and Infinity (null from wal2json 2.5) reported as a known loss, their columns created nullable; --tables restricts the replay"

# ---- the same in a partition tree captured with DDL capture: the parent (rows go in
# through it) loses that NOT NULL too, the sibling without NaN keeps it
q "CREATE DATABASE nan_src" >/dev/null
"$bin/pgtrail-capture" --source "$(dsn_for nan_src)" --slot nan_src --ddl on --endpos 0/1 --log-level warning \
    2>>"$log" || fail "capture of nan_src could not start"
qdb nan_src "CREATE TABLE pr (id int PRIMARY KEY, v numeric NOT NULL) PARTITION BY RANGE (id);
    CREATE TABLE pr_1 PARTITION OF pr FOR VALUES FROM (0) TO (100);
    CREATE TABLE pr_2 PARTITION OF pr FOR VALUES FROM (100) TO (200);
    INSERT INTO pr VALUES (1, 'NaN'), (150, 2)"
"$bin/pgtrail-capture" --source "$(dsn_for nan_src)" --slot nan_src --ddl on --log-level warning \
    --endpos "$(qdb nan_src "SELECT pg_current_wal_lsn()")" 2>>"$log" || fail "capture of nan_src failed"
new_target t_nan_tree
replay --events "$(dsn_for nan_src)" --target "$(dsn_for t_nan_tree)" --create-tables
[ "$rc" = 0 ] || fail "replay of the tree with NaN exited $rc: $(cat "$err_file")"
nn=$(qdb t_nan_tree "SELECT string_agg(c.relname || '.' || attname || ':' || attnotnull, ' ' ORDER BY c.relname, attnum)
                     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                     WHERE c.relname IN ('pr', 'pr_1', 'pr_2') AND attnum > 0")
[ "$nn" = "pr.id:true pr.v:false pr_1.id:true pr_1.v:false pr_2.id:true pr_2.v:true" ] ||
    fail "the tree's NOT NULL: $nn"
echo "ok: a partition's NaN-as-null column is nullable in it and its parent, a sibling's keeps its NOT NULL"

# ---- 40,100 inserts of one table: sent as multi-row INSERTs across many
# pipeline syncs, each row exactly once
new_target t_bulk
replay --events "$src" --target "$(dsn_for t_bulk)" --create-tables --tables 'app.bulk'
[ "$rc" = 0 ] || fail "bulk replay exited $rc: $(cat "$err_file")"
[ "$(qdb t_bulk "SELECT count(*), count(*) FILTER (WHERE v = 'changed'), sum(id) FROM app.bulk")" = "40100|40|804025050" ] ||
    fail "bulk: $(qdb t_bulk "SELECT count(*), count(*) FILTER (WHERE v = 'changed'), sum(id) FROM app.bulk")"
echo "ok: 40,100 inserts and 40 updates of one table, each applied once"

# ---- on a terminal: a progress line (events done of total, events/s, position, time left)
new_target t_tty
script -qec "$bin/pgtrail-replay --events '$src' --target '$(dsn_for t_tty)' --create-tables --tables app.bulk \
    --batch-size 1000" "$work/tty.out" >/dev/null </dev/null || fail "replay on a terminal failed: $(cat "$work/tty.out")"
tr '\r' '\n' <"$work/tty.out" | grep -Eq '^pgtrail-replay: [0-9]+ of [0-9]+ events \([0-9]+%\), [0-9]+ events/s, at [0-9A-F]+/[0-9A-F]+ .*, [0-9]+ s left' ||
    fail "no progress line on a terminal: $(tr '\r' '\n' <"$work/tty.out")"
grep -q 'replayed [0-9]* events' "$work/tty.out" || fail "no summary line on a terminal"
echo "ok: on a terminal, a progress line and the summary"

# ---- --dry-run: says what it would do, changes nothing
new_target t_dry "$schema_sql"
replay --events "$src" --target "$(dsn_for t_dry)" --dry-run --log-level warning
[ "$rc" = 0 ] || fail "--dry-run exited $rc: $(cat "$err_file")"
total=$(q "SELECT max(id) FROM pgtrail.events")
echo "$out" | grep -q "would apply events 1 to $total ($total events)" || fail "--dry-run output: $out"
echo "$out" | grep -q '"app"."posts"' || fail "--dry-run does not list the tables: $out"
[ "$(qdb t_dry "SELECT count(*) FROM app.posts") $(qdb t_dry "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgtrail_replay'")" = "0 0" ] ||
    fail "--dry-run changed the target"
echo "ok: --dry-run lists $total events and the tables, target untouched"

# ---- a missing table: clear error before anything is written
new_target t_missing
qdb t_missing "CREATE SCHEMA app; CREATE TYPE app.color AS ENUM ('red', 'green');
               CREATE TABLE app.posts (id int PRIMARY KEY, name text); CREATE TABLE app.bulk (id int PRIMARY KEY, v text)" >/dev/null
replay --events "$src" --target "$(dsn_for t_missing)"
[ "$rc" = 2 ] || fail "missing tables: expected exit 2, got $rc: $(cat "$err_file")"
grep -q 'error: 2 of the 4 tables the log needs are missing in the target: "app"."paint", "app"."readings"' "$err_file" ||
    grep -q 'error: 2 of the 4 tables the log needs are missing in the target: "app"."readings", "app"."paint"' "$err_file" ||
    fail "missing tables message: $(cat "$err_file")"
grep -q 'hint: .*pg_dump --schema-only' "$err_file" || fail "missing tables hint: $(cat "$err_file")"
[ "$(qdb t_missing "SELECT count(*) FROM app.posts")" = 0 ] || fail "rows were written before the missing tables were found"
echo "ok: missing tables named before anything is written (exit 2, pg_dump hint)"

# ---- --create-tables without the user-defined type
new_target t_notype
replay --events "$src" --target "$(dsn_for t_notype)" --create-tables --tables 'app.paint'
[ "$rc" = 2 ] || fail "missing type: expected exit 2, got $rc: $(cat "$err_file")"
grep -q 'type "app.color" does not exist' "$err_file" || fail "missing type not named: $(cat "$err_file")"
grep -q 'hint: user-defined types must exist in the target .*pg_dump --schema-only' "$err_file" ||
    fail "missing type hint: $(cat "$err_file")"
echo "ok: a missing user-defined type is exit 2, named, with the pg_dump line"

# ---- a role that may not set session_replication_role
q "CREATE ROLE plain LOGIN; GRANT ALL ON DATABASE t_plain TO plain; GRANT USAGE ON SCHEMA pgtrail TO plain;
   GRANT SELECT ON ALL TABLES IN SCHEMA pgtrail TO plain" >/dev/null
replay --events "$src" --target "$(dsn_for t_plain) user=plain"
[ "$rc" = 2 ] || fail "no replica role: expected exit 2, got $rc: $(cat "$err_file")"
grep -q 'session_replication_role' "$err_file" && grep -q 'hint: .*GRANT SET ON PARAMETER session_replication_role' "$err_file" ||
    fail "no replica role message: $(cat "$err_file")"
echo "ok: a role that may not skip triggers gets exit 2 and the GRANT that fixes it"

# ---- --clean: the target emptied and replayed from the first event
qdb t_map "INSERT INTO app.posts VALUES (99, 'stray')" >/dev/null
replay --events "$src" --target "$(dsn_for t_map)" --tables 'app.posts,app.paint' \
    --map 'column app.posts.title = name @1; drop app.posts.legacy @1'
[ "$rc" = 0 ] && [ "$(qdb t_map "SELECT count(*) FROM app.posts WHERE id = 99")" = 1 ] ||
    fail "a second run should have had nothing to do: $rc $(cat "$err_file")"
replay --events "$src" --target "$(dsn_for t_map)" --clean --log-level info --tables 'app.posts,app.paint' \
    --map 'column app.posts.title = name @1; drop app.posts.legacy @1'
[ "$rc" = 0 ] || fail "--clean exited $rc: $(cat "$err_file")"
[ "$(qdb t_map "SELECT string_agg(id || '=' || name, ' ' ORDER BY id) FROM app.posts")" = "1=first! 2=second! 3=third" ] ||
    fail "--clean did not rebuild posts: $(qdb t_map "SELECT string_agg(id::text, ' ') FROM app.posts")"
grep -q "replayed $total events" "$err_file" || fail "--clean did not replay from the first event: $(cat "$err_file")"
echo "ok: --clean empties the replayed tables and replays all $total events"

# ---- point queries use the store's indexes
# the query pgtrail-replay sends, as the server plans it on a log of 40,000+ events
plan=$(psql -qXAt -c "EXPLAIN SELECT id FROM pgtrail.events WHERE (key::text = '{\"id\":\"1\"}'
          OR key::text = '{\"id\": 1}') AND schema_name = 'app' AND table_name = 'bulk'" | tr '\n' ' ')
echo "$plan" | grep -q 'events_key_hash' || fail "the key index is not used: $plan"
replay --events "$src" --history --table app.posts --key '{"id": 1}'
[ "$rc" = 0 ] && [ "$(echo "$out" | wc -l)" = 2 ] || fail "--history of posts 1: $rc $out"
replay --events "$src" --as-of '2100-01-01' --table app.bulk --key '{"id": 40000}'
[ "$rc" = 0 ] && [ "$out" = '{"id":"40000","v":"changed"}' ] || fail "--as-of of bulk 40000: $rc $out"
echo "ok: point queries find a row's events through events_key_hash"

# a store made with the point-query indexes off has none of them; point queries still answer
"$bin/pgtrail-capture" --source "$src" --schema plain_store --slot plain_slot --point-query-indexes=off \
    --endpos 0/1 --log-level warning || fail "capture with --point-query-indexes=off failed"
[ "$(q "SELECT count(*) FROM pg_indexes WHERE schemaname = 'plain_store' AND indexname IN ('events_key_hash', 'events_old_key', 'events_resets')")" = 0 ] ||
    fail "--point-query-indexes=off still made indexes"
[ "$(q "SELECT count(*) FROM pg_indexes WHERE schemaname = 'pgtrail' AND indexname IN ('events_key_hash', 'events_old_key', 'events_resets')")" = 3 ] ||
    fail "the default store lacks its 3 point-query indexes"
# (its initial snapshot copied the tables)
replay --events "$src" --schema plain_store --as-of '2100-01-01' --table app.bulk --key '{"id": 1}'
[ "$rc" = 0 ] && [ "$out" = '{"id":"1","v":"v1"}' ] || fail "--as-of on a store without the indexes: $rc $out"
echo "ok: --point-query-indexes=off makes none; point queries still answer"

# ---- usage errors
replay --events "$src" --target "$(dsn_for t_plain)" --until-event 3 --until-xid 5
[ "$rc" = 2 ] && grep -q 'more than one stop point' "$err_file" || fail "two stop points: $rc $(cat "$err_file")"
replay --events "$src"
[ "$rc" = 2 ] && grep -q 'no target database' "$err_file" || fail "no target: $rc $(cat "$err_file")"
replay --events "$src" --history --table app.posts
[ "$rc" = 2 ] && grep -q 'needs --table and --key' "$err_file" || fail "--history without --key: $rc $(cat "$err_file")"
replay --events "$src" --target "$(dsn_for t_plain)" --until-xid 1
[ "$rc" = 2 ] && grep -q 'transaction 1 is not in the event log' "$err_file" || fail "unknown xid: $rc $(cat "$err_file")"
echo "ok: usage errors are exit 2 with a one-line error"

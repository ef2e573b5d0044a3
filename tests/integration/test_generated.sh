#!/usr/bin/env bash
# test_generated.sh BIN_DIR — generated columns on every PostgreSQL version
# (run inside with_pg.sh, whichever version it started).
#
# Stored generated columns (12+): in the WAL, so in every event; replay
# --create-tables makes them STORED again and never writes them.
# Virtual generated columns (18+, the default kind there): not in the WAL
# (wal2json sends null), so in no event, snapshot or stream, key or old row;
# the schema version lists them, marked "virtual"; adding one opens a new
# version; replay --create-tables makes them VIRTUAL again, and the rebuilt
# table reads exactly as the source; verify --drift finds no difference.
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
log=$PGTRAIL_TEST_DIR/capture.log
version=$PGTRAIL_TEST_PG_VERSION
virtual=false
[ "$version" -ge 18 ] && virtual=true

# the generated kinds this server has; both tables exist on every version
if $virtual; then
    kind_v=VIRTUAL
else
    kind_v=STORED
fi
psql -qX -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE g (id int PRIMARY KEY, b int, v int GENERATED ALWAYS AS (b * 2) $kind_v,
                s int GENERATED ALWAYS AS (b * 3) STORED, t text GENERATED ALWAYS AS ('x' || b) $kind_v);
CREATE TABLE f (id int PRIMARY KEY, b int, v int GENERATED ALWAYS AS (b + 1) $kind_v);
ALTER TABLE f REPLICA IDENTITY FULL;
INSERT INTO g (id, b) VALUES (1, 10), (2, 20);
INSERT INTO f (id, b) VALUES (1, 1);
SQL

# snapshot of the rows above, then the stream
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 --log-level warning 2>"$log"
psql -qX -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO g (id, b) VALUES (3, 30);
UPDATE g SET b = 11 WHERE id = 1;
DELETE FROM g WHERE id = 2;
UPDATE f SET b = 2;
DELETE FROM f;
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning 2>>"$log"

eq "every change is an event" \
    "SELECT string_agg(op || ':' || table_name, ' ' ORDER BY id) FROM pgtrail.events WHERE op <> 'schema'" \
    "snapshot:f snapshot:g snapshot:g insert:g update:g delete:g update:f delete:f"
eq "stored generated values are in the events" \
    "SELECT string_agg(row->>'s', ',' ORDER BY id) FROM pgtrail.events WHERE table_name = 'g' AND row IS NOT NULL" \
    "30,60,90,33"

if ! $virtual; then
    eq "no virtual columns before 18: v is stored and in the events" \
        "SELECT string_agg(row->>'v', ',' ORDER BY id) FROM pgtrail.events WHERE table_name = 'g' AND row IS NOT NULL" \
        "20,40,60,22"
else
    eq "no event carries a virtual column, in row, old or key" \
        "SELECT count(*) FROM pgtrail.events WHERE op <> 'schema' AND (
           coalesce(row::jsonb, '{}') ?| array['v','t'] OR coalesce(old::jsonb, '{}') ?| array['v','t']
           OR coalesce(key::jsonb, '{}') ?| array['v','t'])" "0"
    eq "the REPLICA IDENTITY FULL old row has the other columns" \
        "SELECT string_agg(old::text, ' ' ORDER BY id) FROM pgtrail.events WHERE table_name = 'f' AND old IS NOT NULL" \
        '{"id":"1","b":"1"} {"id":"1","b":"2"}'
    eq "the version lists the virtual columns, marked, in their place" \
        "SELECT string_agg(c->>'name' || coalesce(':' || (c->>'virtual'), ''), ',')
           FROM pgtrail.schemas, json_array_elements(columns) c WHERE table_name = 'g'" \
        "id,b,v:true,s,t:true"
    eq "the version's details keep the expressions" \
        "SELECT string_agg(c->>'name' || '=' || (c->>'generated'), ',')
           FROM pgtrail.schemas, json_array_elements(details->'columns') c
           WHERE table_name = 'g' AND c->>'generated' IS NOT NULL" \
        "v=(b * 2),s=(b * 3),t=('x'::text || b)"
    # a virtual column added: a new version, still in no event
    q "ALTER TABLE g ADD COLUMN w int GENERATED ALWAYS AS (b - 1) VIRTUAL" >/dev/null
    q "INSERT INTO g (id, b) VALUES (4, 40)" >/dev/null
    end=$(q "SELECT pg_current_wal_lsn()")
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning 2>>"$log"
    eq "adding a virtual column opens version 2, which lists it" \
        "SELECT version || ':' || (SELECT string_agg(c->>'name', ',') FROM json_array_elements(columns) c
           WHERE c->>'virtual' = 'true') FROM pgtrail.schemas WHERE table_name = 'g' ORDER BY version DESC LIMIT 1" \
        "2:v,t,w"
    eq "the insert after it has no virtual column" \
        "SELECT row::text FROM pgtrail.events WHERE table_name = 'g' AND op = 'insert' ORDER BY id DESC LIMIT 1" \
        '{"id":"4","b":"40","s":"120"}'
    # a virtual column dropped: a new version without it
    q "ALTER TABLE g DROP COLUMN t" >/dev/null
    q "UPDATE g SET b = 41 WHERE id = 4" >/dev/null
    end=$(q "SELECT pg_current_wal_lsn()")
    "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos "$end" --log-level warning 2>>"$log"
    eq "dropping a virtual column opens version 3, without it" \
        "SELECT version || ':' || (SELECT string_agg(c->>'name', ',') FROM json_array_elements(columns) c)
           FROM pgtrail.schemas WHERE table_name = 'g' ORDER BY version DESC LIMIT 1" \
        "3:id,b,v,s,w"
fi
grep -q "error" "$log" && fail "capture logged an error: $(cat "$log")"

# replay into a new database: the same kinds, the same rows
q "CREATE DATABASE target" >/dev/null
target="$PGTRAIL_TEST_DSN dbname=target"
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$target" --create-tables --log-level warning \
    2>"$PGTRAIL_TEST_DIR/replay.log" || fail "replay: $(cat "$PGTRAIL_TEST_DIR/replay.log")"
kinds() { psql -qXAt -d "$1" -c "SELECT string_agg(c.relname || '.' || a.attname || '=' || a.attgenerated::text, ','
    ORDER BY c.relname, a.attnum) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relname IN ('g', 'f') AND c.relkind = 'r' AND a.attnum > 0 AND a.attgenerated <> ''"; }
src_kinds=$(kinds postgres) && [ -n "$src_kinds" ] || fail "no generated columns in the source"
[ "$src_kinds" = "$(kinds target)" ] ||
    fail "generated kinds differ: source [$(kinds postgres)], target [$(kinds target)]"
echo "ok: replay --create-tables gives each generated column its kind: $(kinds target)"
rows() { psql -qXAt -d "$1" -c "SELECT string_agg(g::text, ' ' ORDER BY id) FROM g"; }
[ "$(rows postgres)" = "$(rows target)" ] || fail "rows differ: source [$(rows postgres)], target [$(rows target)]"
echo "ok: the rebuilt table reads as the source: $(rows target)"

"$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --drift --source "$PGTRAIL_TEST_DSN" \
    --log-level error >"$PGTRAIL_TEST_DIR/verify.out" 2>&1 || fail "verify: $(cat "$PGTRAIL_TEST_DIR/verify.out")"
echo "ok: verify --full --drift is clean"

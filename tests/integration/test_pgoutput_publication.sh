#!/usr/bin/env bash
# test_pgoutput_publication.sh BIN_DIR — the publication capture makes for
# pgoutput covers what [capture] tables selects, and follows it (run inside
# tests/harness/with_pg.sh).
#
# Patterns that name their schemas give FOR TABLES IN SCHEMA those schemas:
# the event store's tables and other schemas are not in it (a keyless table
# elsewhere neither blocks it nor has its UPDATEs refused), a table created
# later in a covered schema is captured. Patterns naming other schemas at
# the next start SET the publication to them; patterns that select tables
# in any schema stop capture (exit 2, a hint) rather than leave tables out.
# A publication capture did not make is left as it is.
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
log=$PGTRAIL_TEST_DIR/capture.log

q "CREATE SCHEMA shop; CREATE SCHEMA app; CREATE SCHEMA other;
   CREATE TABLE shop.orders (id int PRIMARY KEY, v text);
   CREATE TABLE app.x (id int PRIMARY KEY, v text);
   CREATE TABLE other.nokey (a int, b text); INSERT INTO other.nokey VALUES (1, 'x')" >/dev/null
capture() { "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --decoder pgoutput --snapshot never --log-level info "$@"; }
covered() { q "SELECT string_agg(n.nspname, ',' ORDER BY n.nspname) FROM pg_publication_namespace pn
               JOIN pg_namespace n ON n.oid = pn.pnnspid JOIN pg_publication p ON p.oid = pn.pnpubid
               WHERE p.pubname = '$1'"; }

capture --tables 'shop.*, app.x' --endpos 0/1 2>"$log" || fail "capture failed: $(cat "$log")"
[ "$(covered pgtrail)" = "app,shop" ] || fail "publication covers [$(covered pgtrail)], expected app,shop"
[ "$(q "SELECT puballtables FROM pg_publication WHERE pubname = 'pgtrail'")" = f ] || fail "FOR ALL TABLES made"
[ "$(q "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pgtrail' AND schemaname IN ('pgtrail', 'other')")" = 0 ] ||
    fail "the store's or another schema's tables are published"
q "UPDATE other.nokey SET b = 'still updatable'" >/dev/null
echo "ok: FOR TABLES IN SCHEMA app, shop: neither the store nor other schemas, a keyless table elsewhere untouched"

q "INSERT INTO shop.orders VALUES (1, 'a'); INSERT INTO app.x VALUES (1, 'a');
   CREATE TABLE shop.later (id int PRIMARY KEY); INSERT INTO shop.later VALUES (7)" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
capture --tables 'shop.*, app.x' --endpos "$end" 2>>"$log" || fail "capture failed: $(tail -5 "$log")"
got=$(q "SELECT string_agg(schema_name || '.' || table_name, ' ' ORDER BY id) FROM pgtrail.events WHERE op = 'insert'")
[ "$got" = "shop.orders app.x shop.later" ] || fail "inserts captured: [$got]"
echo "ok: changes of both schemas captured, and of a table created later in one"

capture --tables 'shop.*' --endpos "$end" 2>>"$log" || fail "capture failed: $(tail -5 "$log")"
[ "$(covered pgtrail)" = "shop" ] || fail "publication not kept in step: covers [$(covered pgtrail)], expected shop"
grep -q 'publication "pgtrail" now covers the schemas' "$log" || fail "the change was not said"
echo "ok: patterns naming fewer schemas: the publication follows at the next start"

rc=0
capture --tables '*' --endpos "$end" 2> "$PGTRAIL_TEST_DIR/wide.err" || rc=$?
[ "$rc" = 2 ] || fail "patterns selecting every schema: exit $rc, expected 2: $(cat "$PGTRAIL_TEST_DIR/wide.err")"
grep -q "hint: name each table's schema" "$PGTRAIL_TEST_DIR/wide.err" || fail "no hint: $(cat "$PGTRAIL_TEST_DIR/wide.err")"
[ "$(covered pgtrail)" = "shop" ] || fail "the publication changed: [$(covered pgtrail)]"
echo "ok: patterns selecting tables in any schema: exit 2 with a hint, the publication unchanged"

q "CREATE PUBLICATION theirs FOR TABLE shop.orders" >/dev/null
capture --tables 'app.*' --slot theirs_slot --schema theirs_store --publication theirs --endpos "$end" 2>>"$log" ||
    fail "capture with their publication failed: $(tail -5 "$log")"
[ "$(q "SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'theirs'")" = orders ] ||
    fail "a publication capture did not make was changed"
echo "ok: a publication capture did not make is left as it is"
echo "PASS test_pgoutput_publication"

#!/usr/bin/env bash
# test_verify_drift.sh BIN_DIR — pgtrail-verify --drift (run inside
# tests/harness/with_pg.sh).
#
# Four tables: one with a key, one with a composite key, one without a key
# (rows compare as a multiset), one whose TOASTed value capture sent as
# "unchanged". A log is made by capture with --endpos. Then:
#   clean        the live tables are the log's state: exit 0, no drift rows,
#                and the temporary database is gone afterwards
#   settle       capture stopped with changes not yet captured: verify
#                waits, capture is restarted, the second round is clean
#   bypass       capture stopped, its slot dropped, one row changed, one
#                deleted, one inserted: exit 1, exactly those three rows
#                with the right kind and key, and a note that the log is
#                behind; the same with the source given as a URI; at most
#                --drift-max-rows listed; a dropped live column is a finding
#   no CREATEDB  exit 2 with the hint; --drift-scratch then works, and the
#                scratch database is empty again afterwards; a scratch that
#                is not empty is refused
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
work=$PGTRAIL_TEST_DIR
log=$work/capture.log
[ -x "$bin/pgtrail-verify" ] || fail "pgtrail-verify is not built ($bin/pgtrail-verify)"

dsn=$PGTRAIL_TEST_DSN
out=$work/verify.json
err_file=$work/verify.err

# verify ARGS...: run pgtrail-verify --drift --format json; exit status in $rc
verify() {
    rc=0
    "$bin/pgtrail-verify" --drift --source "$dsn" --events "$dsn" --format json "$@" >"$out" 2>"$err_file" || rc=$?
}
# py EXPR: evaluate a Python expression over the report (as r), print it
py() { python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print(($1))" "$out"; }
expect_rc() {
    [ "$rc" = "$1" ] || { cat "$err_file" >&2; cat "$out" >&2; fail "$2: exit $rc, expected $1"; }
}
drift_dbs() { q "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgtrail\_drift\_%'"; }

q "CREATE SCHEMA app" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "setup failed"
CREATE TABLE app.accounts (id int PRIMARY KEY, owner text, balance numeric(12,2));
CREATE TABLE app.lines (order_id int, line_no int, item text, qty int, PRIMARY KEY (order_id, line_no));
CREATE TABLE app.notes (body text, n int);
ALTER TABLE app.notes REPLICA IDENTITY FULL;
CREATE TABLE app.docs (id int PRIMARY KEY, flag bool, big text);
ALTER TABLE app.docs ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO app.accounts SELECT i, 'owner ' || i, i * 10.5 FROM generate_series(1, 50) i;
INSERT INTO app.lines SELECT o, l, 'item ' || o || '/' || l, o * l FROM generate_series(1, 10) o, generate_series(1, 3) l;
INSERT INTO app.notes VALUES ('same', 1), ('same', 1), ('tab	and "quote"', 2), (NULL, 3);
INSERT INTO app.docs SELECT i, false, repeat(md5(i::text), 400) FROM generate_series(1, 3) i;
SQL
# first start: slot, event store, snapshot of the rows above
"$bin/pgtrail-capture" --source "$dsn" --endpos 0/1 --log-level warning 2>"$log" ||
    fail "capture could not start"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "workload failed"
UPDATE app.accounts SET balance = balance + 1 WHERE id <= 10;
DELETE FROM app.accounts WHERE id = 50;
UPDATE app.lines SET qty = qty + 100 WHERE order_id = 3;
DELETE FROM app.lines WHERE order_id = 4 AND line_no = 3;
INSERT INTO app.notes VALUES ('same', 1);
DELETE FROM app.notes WHERE n = 3;
UPDATE app.docs SET flag = true WHERE id = 2;  -- big is not sent: unchanged TOAST
SQL
end=$(q "SELECT pg_current_wal_lsn()")
"$bin/pgtrail-capture" --source "$dsn" --endpos "$end" --log-level warning 2>>"$log" ||
    fail "capture --endpos exited with an error"
[ "$(q "SELECT count(*) FROM pgtrail.events WHERE unchanged <> '{}'")" -ge 1 ] ||
    fail "the log has no event with an unchanged TOAST value (the test needs one)"

# ---- clean: the live tables are the log's state
start=$(date +%s.%N)
verify
secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$(date +%s.%N)")
expect_rc 0 "clean drift run"
[ "$(py 'r["drift_rows"], len(r["drift"]), r["drift_tables"]')" = "(0, 0, 4)" ] ||
    fail "clean run: expected 0 drift rows over 4 tables, got $(py 'r["drift_rows"], r["drift"], r["drift_tables"]')"
echo "ok: clean log and tables: exit 0, 4 tables compared, no drift ($secs s)"
[ "$(drift_dbs)" = 0 ] || fail "the temporary drift database was left behind"
echo "ok: the temporary database was dropped"

# ---- settle: changes made while capture is stopped are not in the log yet;
# verify waits for capture, which is started once verify says it waits
q "UPDATE app.accounts SET owner = 'late' WHERE id = 7" >/dev/null
rc=0
"$bin/pgtrail-verify" --drift --source "$dsn" --events "$dsn" --format json --drift-wait-s 60 \
    --log-level info >"$out" 2>"$err_file" &
verifier=$!
for _ in $(seq 1 600); do
    grep -q "waiting up to" "$err_file" && break
    kill -0 "$verifier" 2>/dev/null || break
    sleep 0.1
done
grep -q "waiting up to" "$err_file" || { cat "$err_file" >&2; fail "verify did not wait for capture"; }
"$bin/pgtrail-capture" --source "$dsn" --heartbeat-interval-ms 200 --status-interval-ms 200 \
    --log-level warning 2>>"$log" &
capture=$!
wait "$verifier" || rc=$?
expect_rc 0 "settle round"
[ "$(py 'r["drift_rows"], r["notes"]')" = "(0, [])" ] || fail "settle round: $(cat "$out")"
grep -q "capture caught up" "$err_file" || fail "settle round: no second round"
echo "ok: changes capture had not seen yet: verify waited, capture caught up, the second round is clean"
kill -TERM "$capture"
wait "$capture" || fail "capture exited with an error"
capture=""

# ---- bypass: capture stopped and its slot dropped, then rows changed
q "SELECT pg_drop_replication_slot('pgtrail')" >/dev/null
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "bypassing changes failed"
UPDATE app.accounts SET balance = 999.99 WHERE id = 2;
DELETE FROM app.lines WHERE order_id = 5 AND line_no = 2;
INSERT INTO app.notes VALUES ('sneaked in', 42);
SQL
verify --drift-wait-s 1
expect_rc 1 "drift after changes that bypassed the log"
got=$(py 'sorted((d["kind"], d["schema"], d["table"], json.dumps(d["key"], sort_keys=True)) for d in r["drift"])')
want="[('changed', 'app', 'accounts', '{\"id\": \"2\"}'), ('extra', 'app', 'notes', '{\"body\": \"sneaked in\", \"n\": \"42\"}'), ('missing', 'app', 'lines', '{\"line_no\": \"2\", \"order_id\": \"5\"}')]"
[ "$got" = "$want" ] || fail "drift rows: expected $want, got $got"
echo "ok: exit 1, the changed, deleted and inserted rows are listed with their kind and key"
[ "$(py '[(d["live"]["balance"], d["log"]["balance"]) for d in r["drift"] if d["kind"] == "changed"]')" = "[('999.99', '22.00')]" ] ||
    fail "changed row: live and log values wrong: $(cat "$out")"
[ "$(py '[(d["live"], d["log"]["item"]) for d in r["drift"] if d["kind"] == "missing"]')" = "[(None, 'item 5/2')]" ] ||
    fail "missing row: expected no live row and the log's row: $(cat "$out")"
[ "$(py 'r["drift_rows"], sorted(f["message"] for f in r["findings"] if f["kind"] == "drift")')" = \
  "(3, ['table \"app\".\"accounts\": 1 rows differ from the log (1 changed, 0 missing, 0 extra)', 'table \"app\".\"lines\": 1 rows differ from the log (0 changed, 1 missing, 0 extra)', 'table \"app\".\"notes\": 1 rows differ from the log (0 changed, 0 missing, 1 extra)'])" ] ||
    fail "drift findings: $(py 'r["drift_rows"], r["findings"]')"
echo "ok: one finding per table with its counts, drift_rows 3"
py 'r["notes"]' | grep -q "the log is behind the source by" || fail "no note that the log is behind: $(py 'r["notes"]')"
echo "ok: the log never caught up: a note says so"
[ "$(drift_dbs)" = 0 ] || fail "the temporary drift database was left behind after drift"

# the source as a URI: the temporary database's conninfo is built from it
dsn="postgresql://postgres@/postgres?host=$PGHOST&port=$PGPORT"
verify --drift-wait-s 0
expect_rc 1 "drift with the source given as a URI"
[ "$(py 'r["drift_rows"], r["drift_tables"]')" = "(3, 4)" ] || fail "source as a URI: $(cat "$err_file" "$out")"
echo "ok: the source as a URI: the same three rows"
dsn=$PGTRAIL_TEST_DSN

q "INSERT INTO app.notes VALUES ('one more', 43)" >/dev/null
verify --drift-wait-s 0 --drift-max-rows 1
expect_rc 1 "drift with --drift-max-rows 1"
[ "$(py 'r["drift_rows"], sum(1 for d in r["drift"] if d["table"] == "notes")')" = "(4, 1)" ] ||
    fail "--drift-max-rows 1: expected 4 rows counted, 1 listed for notes: $(cat "$out")"
echo "ok: --drift-max-rows lists one row per table and counts them all"
q "DELETE FROM app.notes WHERE n = 43" >/dev/null

q "ALTER TABLE app.docs DROP COLUMN flag" >/dev/null
verify --drift-wait-s 0
expect_rc 1 "a live column missing"
[ "$(py 'sum(f["message"] == "table \"app\".\"docs\": column \"flag\" of the log\x27s state is not in the live table" for f in r["findings"])')" = 1 ] ||
    fail "no finding for the dropped column: $(py 'r["findings"]')"
echo "ok: a column of the log's state missing in the live table is a finding"

# ---- no CREATEDB: the hint; then --drift-scratch
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "role setup failed"
CREATE ROLE auditor LOGIN NOCREATEDB;
GRANT USAGE ON SCHEMA app, pgtrail TO auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA app, pgtrail TO auditor;
GRANT SET ON PARAMETER session_replication_role TO auditor;  -- replay sets it
CREATE DATABASE scratch OWNER auditor;
SQL
dsn="$PGTRAIL_TEST_DSN user=auditor"
verify --drift-wait-s 0
expect_rc 2 "a role without CREATEDB"
grep -q "give the role CREATEDB, or pass --drift-scratch DSN" "$err_file" ||
    fail "no hint for a role without CREATEDB: $(cat "$err_file")"
echo "ok: a role without CREATEDB: exit 2 with the hint"

psql -qX -d scratch -c "CREATE SCHEMA app AUTHORIZATION auditor; CREATE TABLE public.stray (x int)" >/dev/null
verify --drift-wait-s 0 --drift-scratch "${PGTRAIL_TEST_DSN/dbname=postgres/dbname=scratch} user=auditor"
expect_rc 2 "a scratch database that is not empty"
grep -q 'not empty: it holds "public"."stray"' "$err_file" || fail "non-empty scratch: $(cat "$err_file")"
[ "$(psql -qXAt -d scratch -c "SELECT to_regclass('public.stray') IS NOT NULL AND to_regnamespace('app') IS NOT NULL")" = t ] ||
    fail "a refused scratch database was changed"
echo "ok: a scratch database with tables is refused, and left as it was"
psql -qX -d scratch -c "DROP TABLE public.stray" >/dev/null

verify --drift-wait-s 0 --drift-scratch "${PGTRAIL_TEST_DSN/dbname=postgres/dbname=scratch} user=auditor"
expect_rc 1 "drift with --drift-scratch"
[ "$(py 'r["drift_rows"], r["drift_tables"]')" = "(3, 3)" ] ||
    fail "--drift-scratch: expected 3 rows over 3 compared tables: $(cat "$out")"
echo "ok: --drift-scratch: the same three rows (and the docs finding)"
[ "$(psql -qXAt -d scratch -c "SELECT string_agg(nspname || '.' || relname, ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname !~ '^(pg_|information_schema)'")" = "" ] ||
    fail "the scratch database was not emptied"
[ "$(psql -qXAt -d scratch -c "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^(pg_|information_schema)'")" = "app,public" ] ||
    fail "the scratch database's own schemas were not kept (or replay's were not dropped)"
echo "ok: the scratch database is empty again, its own schemas kept"

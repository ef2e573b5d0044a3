#!/usr/bin/env bash
# test_least_privilege.sh BIN_DIR — capture runs as the least-privilege role
# docs/OPERATIONS.md describes, with exactly the grants listed there (run
# inside with_pg.sh).
#
# The SQL is read from OPERATIONS.md itself, so the page cannot drift from
# what works. The application is a plain role that owns its database and
# tables; CONNECT is revoked from PUBLIC, as on a hardened server.
#  - With the documented grants: the first start snapshots the tables, the
#    application's changes and its set_context() reach the log, a table the
#    application creates later is readable by capture (default privileges),
#    CREATE ON DATABASE can be revoked after the first start, and the
#    application cannot write the event table.
#  - The optional EXECUTE grants on the replication-origin functions make
#    capture filter its own writes by origin (without them: by table).
#  - decoder = pgoutput: without the publication the first start fails
#    (exit 2, a hint giving CREATE PUBLICATION, no slot left); once a
#    superuser ran the documented block, the same grants suffice.
#  - Each documented grant is needed: leave out one (REPLICATION, CONNECT,
#    SELECT, CREATE) and the first start fails with a one-line error and a
#    hint naming that grant, exit 2 (3 for the refused connection), and no slot left behind; once the
#    grant is given, the same start snapshots the tables.
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/../harness/testlib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# the Nth ```sql block under "### A least-privilege capture role": 1 the
# grants, 2 the optional replication-origin grants, 3 the publication for
# decoder = pgoutput
sql_block() {
    awk -v want="$1" '/^### A least-privilege capture role/ { in_section = 1; next }
         in_section && /^#/ { exit }
         in_section && /^```sql/ { n++; if (n == want) { in_code = 1; next } }
         in_code && /^```/ { exit }
         in_code { print }' "$src/docs/OPERATIONS.md"
}
sql_block 3 > "$out/publication.sql"
grep -q "CREATE PUBLICATION pgtrail FOR ALL TABLES" "$out/publication.sql" || fail "no publication block in OPERATIONS.md"
sql_block 1 > "$out/grants.sql"
sql_block 2 > "$out/origin.sql"
grep -q "CREATE ROLE pgtrail_capture" "$out/grants.sql" || fail "no CREATE ROLE in OPERATIONS.md's grants"
grep -q "pg_replication_origin_session_setup" "$out/origin.sql" ||
    fail "no optional replication-origin grant in OPERATIONS.md"

# same NAME EXPECTED GOT
same() { [ "$3" = "$2" ] || fail "$1: expected [$2], got [$3]"; echo "ok: $1"; }
dsn_for() { echo "host=$PGHOST port=$PGPORT dbname=$1 user=$2"; }

# new_app DB: a database owned by the application role, two tables with rows
new_app() {
    psql -qX -v ON_ERROR_STOP=1 <<SQL
CREATE DATABASE $1 OWNER app;
REVOKE CONNECT ON DATABASE $1 FROM PUBLIC;
GRANT CONNECT ON DATABASE $1 TO app;
SQL
    psql -qX -v ON_ERROR_STOP=1 "$(dsn_for "$1" app)" <<'SQL'
CREATE TABLE public.accounts (id int PRIMARY KEY, owner text, balance numeric);
CREATE TABLE public.notes (body text);
ALTER TABLE public.notes REPLICA IDENTITY FULL;
INSERT INTO public.accounts SELECT g, 'owner ' || g, g * 1.50 FROM generate_series(1, 20) g;
INSERT INTO public.notes VALUES ('first');
SQL
}
# grants DB [SED]: the documented grants for database DB, optionally edited by SED
grants() {
    sed -e "s/ON DATABASE app /ON DATABASE $1 /; ${2:-}" "$out/grants.sql" > "$out/g.sql"
    psql -qX -v ON_ERROR_STOP=1 -d "$1" -f "$out/g.sql" >/dev/null
}

q "CREATE ROLE app LOGIN"
new_app app
grants app
same "capture role is no superuser" f "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = 'pgtrail_capture'")"

cap_dsn=$(dsn_for app pgtrail_capture)
app_dsn=$(dsn_for app app)
run_capture() { "$bin/pgtrail-capture" --source "$cap_dsn" "$@"; }
in_app() { psql -qXAt -v ON_ERROR_STOP=1 -d "$app_dsn" -c "$1"; }
as_admin() { psql -qXAt -v ON_ERROR_STOP=1 -d app -c "$1"; }
events() { as_admin "SELECT count(*) FROM pgtrail.events WHERE $1"; }

# 1. first start with the documented grants: slot, store, snapshot
run_capture --endpos 0/1 --log-level debug > "$out/first.log" 2>&1 ||
    { cat "$out/first.log" >&2; fail "capture as pgtrail_capture could not start"; }
same "snapshot events" 21 "$(events "op = 'snapshot'")"
grep -q "own writes filtered by table" "$out/first.log" ||
    fail "without the origin grants capture should filter its writes by table: $(cat "$out/first.log")"
same "event store owner" pgtrail_capture "$(in_app "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'pgtrail'")"

# 2. the application, as itself, writes with context; a table it makes later
in_app "BEGIN; SELECT pgtrail.set_context('alice', 'pay', '{\"ticket\": 7}');
        UPDATE accounts SET balance = balance - 1 WHERE id <= 5;
        INSERT INTO notes VALUES ('paid'); COMMIT" >/dev/null
in_app "CREATE TABLE public.later (id int PRIMARY KEY, v text); INSERT INTO later VALUES (1, 'x')"
same "capture may read a table the application made later" t \
    "$(in_app "SELECT has_table_privilege('pgtrail_capture', 'public.later', 'SELECT')")"
end=$(q "SELECT pg_current_wal_lsn()")
run_capture --endpos "$end" --log-level warning
same "changes with context" 6 "$(events "actor = 'alice' AND action = 'pay' AND metadata::text = '{\"ticket\": 7}'")"
same "the later table's insert" 1 "$(events "table_name = 'later' AND op = 'insert'")"

# 3. the application cannot alter the log
if in_app "UPDATE pgtrail.events SET actor = 'mallory' WHERE id = 1" > "$out/upd.log" 2>&1; then
    fail "the application role could update pgtrail.events"
fi
grep -q "permission denied" "$out/upd.log" || fail "unexpected error: $(cat "$out/upd.log")"

# 4. CREATE ON DATABASE revoked after the first start: capture still runs
q "REVOKE CREATE ON DATABASE app FROM pgtrail_capture"
in_app "INSERT INTO accounts VALUES (100, 'late', 0)"
end=$(q "SELECT pg_current_wal_lsn()")
run_capture --endpos "$end" --log-level warning
same "insert after revoking CREATE" 1 "$(events "op = 'insert' AND key->>'id' = '100'")"

# 5. the optional origin grants: own writes are filtered by replication origin
psql -qX -v ON_ERROR_STOP=1 -d app -f "$out/origin.sql" >/dev/null
in_app "INSERT INTO accounts VALUES (101, 'origin', 0)"
end=$(q "SELECT pg_current_wal_lsn()")
run_capture --endpos "$end" --log-level debug > "$out/origin.log" 2>&1 ||
    { cat "$out/origin.log" >&2; fail "capture with the origin grants failed"; }
grep -q "own writes carry replication origin" "$out/origin.log" ||
    fail "with the origin grants capture should use a replication origin: $(cat "$out/origin.log")"
same "insert with origin filter" 1 "$(events "op = 'insert' AND key->>'id' = '101'")"
ids=$(as_admin "SELECT count(*) = max(id) FROM pgtrail.events")
same "ids gapless" t "$ids"

# 6. decoder = pgoutput: the same grants and the publication a superuser made
new_app app_pgo
grants app_pgo "s/pgtrail_capture/app_pgo/g"
pgo() { "$bin/pgtrail-capture" --source "$(dsn_for app_pgo app_pgo)" --decoder pgoutput --slot app_pgo "$@"; }
rc=0
pgo --endpos 0/1 --log-level warning > "$out/pgo.out" 2> "$out/pgo.err" || rc=$?
[ "$rc" = 2 ] || fail "pgoutput without a publication: exit $rc, expected 2: $(cat "$out/pgo.err")"
grep -q 'hint: .*CREATE PUBLICATION "pgtrail" FOR ALL TABLES' "$out/pgo.err" ||
    fail "pgoutput without a publication: no hint giving it: $(cat "$out/pgo.err")"
same "pgoutput refused: no slot left behind" 0 "$(q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'app_pgo'")"
if [ "$PGTRAIL_TEST_PG_VERSION" -ge 18 ]; then
    psql -qX -v ON_ERROR_STOP=1 -d app_pgo -f "$out/publication.sql" >/dev/null
else  # the ALTER's option is 18's
    grep -v "publish_generated_columns" "$out/publication.sql" | psql -qX -v ON_ERROR_STOP=1 -d app_pgo >/dev/null
fi
pgo --endpos 0/1 --log-level warning || fail "pgoutput capture with the documented publication failed"
psql -qX -v ON_ERROR_STOP=1 "$(dsn_for app_pgo app)" -c "UPDATE accounts SET balance = 0 WHERE id = 1" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
pgo --endpos "$end" --log-level warning || fail "pgoutput capture of a change failed"
same "pgoutput: snapshot and the change, as the least-privilege role" "21 1" \
    "$(psql -qXAt -d app_pgo -c "SELECT count(*) FILTER (WHERE op = 'snapshot') || ' ' || count(*) FILTER (WHERE op = 'update') FROM pgtrail.events")"

# 7. each grant is needed: without it the first start fails, naming the fix
# refused DB SED WANT FIX RC: capture on a fresh database, as a fresh role (named
# as the database) given the documented grants with one left out (SED); then
# the grant given (FIX), the same start succeeds. A missing grant exits 2
# (configuration: systemd's unit does not retry it); a refused connection 3.
refused() {
    local db=$1 edit=$2 want=$3 fix=$4 want_rc=$5 rc=0
    new_app "$db"
    grants "$db" "s/pgtrail_capture/$db/g; $edit"
    start() { "$bin/pgtrail-capture" --source "$(dsn_for "$db" "$db")" --slot "$db" --endpos 0/1 --log-level warning; }
    start > "$out/$db.out" 2> "$out/$db.err" || rc=$?
    [ "$rc" = "$want_rc" ] || fail "$db: exit $rc, expected $want_rc: $(cat "$out/$db.err")"
    [ "$(grep -c "^pgtrail-capture: error: " "$out/$db.err")" = 1 ] || fail "$db: not one error line: $(cat "$out/$db.err")"
    grep -q "hint: .*$want" "$out/$db.err" || fail "$db: the hint does not name \"$want\": $(cat "$out/$db.err")"
    same "$db: no slot left behind" 0 "$(q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$db'")"
    echo "ok: without $want, exit $rc: $(head -n 1 "$out/$db.err")"
    psql -qX -v ON_ERROR_STOP=1 -d "$db" -c "$fix"
    start || fail "$db: capture failed after: $fix"
    same "$db: snapshot after the fix" 21 \
        "$(psql -qXAt -d "$db" -c "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot'")"
}
refused app_norepl 's/ LOGIN REPLICATION / LOGIN /' "REPLICATION" "ALTER ROLE app_norepl REPLICATION" 2
refused app_noconnect '/^GRANT CONNECT/d' "CONNECT" "GRANT CONNECT ON DATABASE app_noconnect TO app_noconnect" 3
refused app_noselect '/^GRANT SELECT ON ALL TABLES/d' "GRANT SELECT" \
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_noselect" 2
refused app_nocreate '/^GRANT CREATE ON DATABASE/d' "GRANT CREATE ON DATABASE" \
    "GRANT CREATE ON DATABASE app_nocreate TO app_nocreate" 2
echo "PASS: least-privilege capture role"

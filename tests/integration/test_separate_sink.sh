#!/usr/bin/env bash
# test_separate_sink.sh BIN_DIR — the event store in another database: events,
# schema versions and state land there, nothing in the source but
# set_context(), and the chain is valid (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../harness/testlib.sh"

q "CREATE DATABASE audit" >/dev/null
q "CREATE TABLE t (id int PRIMARY KEY, v text)" >/dev/null
q "INSERT INTO t VALUES (1, 'before')" >/dev/null
sink="${PGTRAIL_TEST_DSN/dbname=postgres/dbname=audit}"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$sink" --endpos 0/1 --log-level warning
q "INSERT INTO t VALUES (2, 'after'); UPDATE t SET v = 'changed' WHERE id = 1" >/dev/null
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$sink" --endpos "$(q "SELECT pg_current_wal_lsn()")" \
    --log-level warning
got=$(psql -qXAt -d audit -c "SELECT string_agg(op || ':' || (key->>'id'), ' ' ORDER BY id) FROM pgtrail.events")
[ "$got" = "snapshot:1 insert:2 update:1" ] || fail "events in the sink: [$got]"
echo "ok: events are in the sink database"
[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'pgtrail'")" = 0 ] || fail "event tables in the source"
echo "ok: the source holds no event tables"
PGDATABASE=audit python3 "$here/../checker/pgtrail_check.py" || fail "checker rejected the sink's chain"

#!/usr/bin/env bash
# test_failover_slot.sh BIN_DIR — [capture] failover_slot on every
# PostgreSQL version (run inside with_pg.sh, whichever version it started).
#
# 17+: capture creates the slot as a failover slot, and makes an existing
# slot one; off leaves the slot as it is. Before 17: the setting is refused
# with exit 2 and a hint, and nothing is created.
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
version=$PGTRAIL_TEST_PG_VERSION

q "CREATE TABLE t (id int PRIMARY KEY)" >/dev/null

if [ "$version" -lt 17 ]; then
    rc=0
    err=$(PGTRAIL_CAPTURE_FAILOVER_SLOT=on "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --endpos 0/1 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "failover_slot on $version: expected exit 2, got $rc: $err"
    echo "$err" | grep -q "error: failover slots need PostgreSQL 17 or later, the source runs $version\." ||
        fail "no clear error: $err"
    echo "$err" | grep -q "hint: set \[capture\] failover_slot = off" || fail "no hint: $err"
    eq "nothing was created" "SELECT count(*) FROM pg_replication_slots" "0"
    exit 0
fi

"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --failover-slot --endpos 0/1 --log-level warning
eq "--failover-slot creates a failover slot" \
    "SELECT failover FROM pg_replication_slots WHERE slot_name = 'pgtrail'" "t"

# a slot made without it: off leaves it, on turns it into one
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot plain --schema plain --endpos 0/1 --log-level warning
eq "off leaves the slot as it is" "SELECT failover FROM pg_replication_slots WHERE slot_name = 'plain'" "f"
q "INSERT INTO t VALUES (1)" >/dev/null
end=$(q "SELECT pg_current_wal_lsn()")
out=$(PGTRAIL_CAPTURE_FAILOVER_SLOT=on "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --slot plain \
    --schema plain --endpos "$end" --log-level info 2>&1) || fail "capture: $out"
echo "$out" | grep -q 'replication slot "plain" is now a failover slot' || fail "not said: $out"
eq "on makes the existing slot a failover slot" \
    "SELECT failover FROM pg_replication_slots WHERE slot_name = 'plain'" "t"
eq "and capture went on from where it was" \
    "SELECT string_agg(op || ':' || (row->>'id'), ',') FROM plain.events WHERE op <> 'schema'" "insert:1"

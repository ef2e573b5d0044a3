#!/usr/bin/env bash
# test_withhold.sh BIN_DIR — [capture] withhold: columns whose values never
# enter the log (inside with_pg.sh).
#
# Capture with --withhold writes those columns as null from the first
# snapshot on, in snapshot, insert, update and delete events; each batch
# that had such values ends in an erasure event signed with capture's key.
# Then: no withheld value is in any table of the event store, verify --full
# with the public key is green and reports them in one note, the
# independent checker agrees, replay equals the source with those columns
# NULL, and an event whose withheld value is put back by hand is caught.
# A malformed list and a format 1 store are usage errors (exit 2).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../harness/testlib.sh"
. "$here/replay/lib.sh"

work=$(mktemp -d)
chmod 755 "$work"
trap 'for p in $capture $writer; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
log=$work/log
openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/public.pem"
withhold="shop.customers.email, shop.customers.phone"
cap=(--source "$PGTRAIL_TEST_DSN" --log-level warning --signing-key "$work/signing.pem" --checkpoint-events 50
     --withhold "$withhold")

q "CREATE SCHEMA shop;
   CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, phone text);
   ALTER TABLE shop.customers REPLICA IDENTITY FULL;
   CREATE TABLE shop.orders (id int PRIMARY KEY, item text)
   ;INSERT INTO shop.customers SELECT g, 'Name ' || g, 'mail' || g || '@example.com', '+49-555-' || g
   FROM generate_series(1, 20) g"
"$bin/pgtrail-capture" "${cap[@]}" --endpos 0/1 2>>"$log" || fail "first start failed: $(cat "$log")"
q "INSERT INTO shop.customers SELECT g, 'Name ' || g, 'mail' || g || '@example.com', NULL FROM generate_series(21, 40) g"
q "UPDATE shop.customers SET email = 'new' || id || '@example.com', phone = '+49-777-' || id WHERE id % 3 = 0"
q "UPDATE shop.customers SET name = 'Renamed ' || id WHERE id % 5 = 0"
q "DELETE FROM shop.customers WHERE id IN (7, 8)"
q "INSERT INTO shop.orders SELECT g, 'item ' || g FROM generate_series(1, 10) g"
"$bin/pgtrail-capture" "${cap[@]}" --endpos "$(q 'SELECT pg_current_wal_lsn()')" 2>>"$log" ||
    fail "capture failed: $(cat "$log")"

q "SELECT string_agg(format('SELECT %L, t::text FROM pgtrail.%I t', c.relname, c.relname), ' UNION ALL ')
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pgtrail' AND c.relkind = 'r'" \
    > "$work/all.sql"
psql -qXAt -v ON_ERROR_STOP=1 -f "$work/all.sql" > "$work/store.txt"
for v in '@example.com' '+49-555-' '+49-777-'; do
    ! grep -qF -- "$v" "$work/store.txt" || fail "withheld value '$v' is in the event store: $(grep -F -- "$v" "$work/store.txt" | head -2)"
done
grep -qF 'Renamed 10' "$work/store.txt" || fail "the other columns are missing from the store"
echo "ok: no withheld value in any table of the event store ($(wc -c < "$work/store.txt") bytes searched)"
eq "every customer event withholds, every orders event does not" \
    "SELECT count(*) FILTER (WHERE table_name = 'customers' AND op <> 'schema' AND sealed IS NULL),
            count(*) FILTER (WHERE table_name = 'orders' AND sealed IS NOT NULL),
            count(*) FILTER (WHERE table_name = 'customers' AND op = 'delete' AND 'old.email' = ANY (erased))
     FROM pgtrail.events" "0|0|2"
eq "erasure events by capture, each signed" \
    "SELECT count(*) > 0, count(*) = count(*) FILTER (WHERE length(metadata->>'signature') = 128
       AND actor = 'pgtrail-capture' AND row->>'request' = '[capture] withhold')
     FROM pgtrail.events WHERE op = 'erasure'" "t|t"

set +e
out=$("$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --public-key "$work/public.pem" --save=off --log-level error)
rc=$?
set -e
[ "$rc" = 0 ] || fail "verify: exit $rc: $out"
echo "$out" | grep -q "values of .* events were kept out of the log by capture (\[capture\] withhold)" ||
    fail "verify does not say what was withheld: $out"
[ "$(echo "$out" | grep -c '^note: event')" = 0 ] || fail "verify lists each withholding: $out"
echo "ok: verify --full with the public key: clean, one note for what capture withheld"
python3 "$here/../checker/pgtrail_check.py" >/dev/null || fail "the independent checker rejects the log"
echo "ok: the independent checker agrees"

new_target held
"$bin/pgtrail-replay" --events "$PGTRAIL_TEST_DSN" --target "$(dsn_for held)" --create-tables --log-level warning ||
    fail "replay failed"
q "ALTER TABLE shop.customers ALTER COLUMN email DROP NOT NULL; UPDATE shop.customers SET email = NULL, phone = NULL"
dump_db postgres "$work/source.dump"
dump_db held "$work/held.dump"
same_dump "replay equals the source with the withheld columns NULL" "$work/source.dump" "$work/held.dump"

# a withheld value put back by hand: what the event holds no longer matches its erasure's digest
id=$(q "SELECT min(id) FROM pgtrail.events WHERE table_name = 'customers' AND op = 'insert'")
q "UPDATE pgtrail.events SET row = json_build_object('id', row->>'id', 'name', row->>'name',
     'email', 'back@example.com', 'phone', NULL) WHERE id = $id"
set +e
out=$("$bin/pgtrail-verify" --events "$PGTRAIL_TEST_DSN" --full --public-key "$work/public.pem" --save=off --log-level error)
rc=$?
set -e
[ "$rc" = 1 ] && echo "$out" | grep -q "event $id: changed after erasure event" || fail "a value put back: exit $rc: $out"
echo "ok: a withheld value put back by hand is a finding"

set +e
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --withhold "shop.customers" --endpos 0/1 2>"$work/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'is not schema.table.column' "$work/bad.err" || fail "a malformed withhold: exit $rc: $(cat "$work/bad.err")"
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --schema v1store --slot v1slot --endpos 0/1 --log-level warning
q "UPDATE v1store.meta SET value = '1' WHERE key = 'format_version'"
set +e
"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --schema v1store --slot v1slot --withhold shop.customers.email \
    --endpos 0/1 2>"$work/v1.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'withhold needs an event store of format 2' "$work/v1.err" ||
    fail "withhold on a format 1 store: exit $rc: $(cat "$work/v1.err")"
echo "ok: a malformed list and a format 1 store are usage errors (exit 2)"

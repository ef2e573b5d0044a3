#!/usr/bin/env bash
# test_errors.sh BIN_DIR — pgtrail-capture's one-line errors: each names the
# problem and the fix, with exit 2 (configuration) or 3 (could not run)
# (run inside tests/harness/with_pg.sh).
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
expect() { # expect EXIT_CODE TEXT -- ARGS...: capture fails with that code, a message with TEXT, one error line
    local code=$1 text=$2 out rc
    shift 3
    set +e
    out=$("$bin/pgtrail-capture" "$@" 2>&1)
    rc=$?
    set -e
    [ "$rc" = "$code" ] || fail "expected exit $code for [$text], got $rc: $out"
    case "$out" in *"$text"*) ;; *) fail "expected [$text] in: $out" ;; esac
    [ "$(printf '%s\n' "$out" | grep -c 'error:')" = 1 ] || fail "more than one error line: $out"
    echo "ok: exit $code: $(printf '%s\n' "$out" | grep 'error:' | head -1)"
}

# (not piped into grep -q: grep stops reading at the first match, and a help
# text longer than a pipe write then ends the program with SIGPIPE)
help=$("$bin/pgtrail-capture" --help)
grep -q -- '--source VALUE' <<<"$help" || fail "--help lists no --source"
"$bin/pgtrail-capture" --version | grep -qx 'pgtrail-capture (pgtrail) [0-9.]*' || fail "--version"
PGTRAIL_CAPTURE_SLTO=x "$bin/pgtrail-capture" --help >/dev/null || fail "--help hidden by a bad environment"
echo "ok: --help and --version"
expect 2 'invalid value "sometimes" for key "snapshot"' -- --snapshot sometimes
expect 2 'unknown option --sluot' -- --sluot x
expect 3 'could not connect to the database' -- --source "host=127.0.0.1 port=1 connect_timeout=2 password=hunter2"
out=$("$bin/pgtrail-capture" --source "host=127.0.0.1 port=1 connect_timeout=2 password=hunter2" 2>&1 || true)
case "$out" in *hunter2*) fail "the password was printed: $out" ;; esac
echo "ok: the password is not printed"

if [ "$(q "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")" = 1 ]; then
    q "ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
    expect 2 "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" -- --source "$PGTRAIL_TEST_DSN"
    q "ALTER SYSTEM RESET output_plugin_libraries" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
fi

q "CREATE ROLE app LOGIN; GRANT CREATE ON DATABASE postgres TO app" >/dev/null
expect 2 'ALTER ROLE "app" REPLICATION' -- --source "$PGTRAIL_TEST_DSN user=app"
q "ALTER ROLE app REPLICATION" >/dev/null
q "CREATE TABLE secret (id int PRIMARY KEY)" >/dev/null
expect 2 'permission denied for table secret' -- --source "$PGTRAIL_TEST_DSN user=app" --slot app_slot --schema app_store --tables 'public.*'
eq "the failed first snapshot dropped its new slot" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'app_slot'" 0

"$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --log-level error &
capture=$!
for _ in $(seq 1 50); do [ "$(q "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ] && break; sleep 0.1; done
expect 3 'replication slot "pgtrail" is held by another pgtrail-capture' -- --source "$PGTRAIL_TEST_DSN"
kill -TERM "$capture"; wait "$capture"; capture=""
# held by another program (no pgtrail lock): the slot's active_pid says so
pg_recvlogical -d "$PGTRAIL_TEST_DSN" -S pgtrail --start -f /dev/null &
writer=$!
for _ in $(seq 1 50); do [ "$(q "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ] && break; sleep 0.1; done
expect 3 'replication slot "pgtrail" is active in another process' -- --source "$PGTRAIL_TEST_DSN"
kill -TERM "$writer"; wait "$writer" || true; writer=""

q "ALTER SYSTEM SET wal_level = replica" >/dev/null
q "SELECT pg_drop_replication_slot('pgtrail')" >/dev/null
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m fast -w restart >/dev/null
expect 2 'set wal_level = logical' -- --source "$PGTRAIL_TEST_DSN"

# a signing key others may read: a warning that says who, before anything connects
key=$PGTRAIL_TEST_DIR/signing.pem
openssl genpkey -algorithm ed25519 -out "$key" 2>/dev/null
key_warning() { chmod "$1" "$key"; "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --signing-key "$key" 2>&1 | grep 'signing key' || true; }
w=$(key_warning 644)
case "$w" in *"can be read by every user; chmod 600 it"*) ;; *) fail "0644 key: [$w]" ;; esac
w=$(key_warning 640)
case "$w" in *"can be read by group \"$(stat -c %G "$key")\""*) ;; *) fail "0640 key: [$w]" ;; esac
w=$(key_warning 600)
[ -z "$w" ] || fail "0600 key: unexpected [$w]"
echo "ok: signing key readable by others, by the group, by its owner only: two warnings, then none"

# the event store lost in the middle of a first start's snapshot: capture
# stops at once with exit 3 (it used to spin for ever on the half-read COPY)
# and drops the slot it made, so the next start can take a snapshot again
q "ALTER SYSTEM RESET wal_level" >/dev/null
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m fast -w restart >/dev/null
q "CREATE DATABASE lost_sink" >/dev/null
q "CREATE TABLE big (id int PRIMARY KEY, pad text); INSERT INTO big SELECT g, repeat('x', 50) FROM generate_series(1, 1000000) g" >/dev/null
timeout 120 "$bin/pgtrail-capture" --source "$PGTRAIL_TEST_DSN" --sink "$PGTRAIL_TEST_DSN dbname=lost_sink" \
    --slot lost --tables public.big --endpos 0/1 --log-level warning >"$PGTRAIL_TEST_DIR/lost.out" 2>&1 &
capture=$!
copying() {
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgtrail-capture snapshot'
            AND query LIKE 'COPY%' AND state = 'active'")" = 1 ]
}
until=$((SECONDS + 60))
until copying; do
    [ "$SECONDS" -lt "$until" ] || fail "the snapshot did not start: $(cat "$PGTRAIL_TEST_DIR/lost.out")"
    kill -0 "$capture" 2>/dev/null || fail "capture ended before its snapshot: $(cat "$PGTRAIL_TEST_DIR/lost.out")"
    sleep 0.05
done
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'lost_sink' AND application_name = 'pgtrail-capture'" >/dev/null
rc=0
wait "$capture" || rc=$?
capture=""
[ "$rc" = 3 ] || fail "event store lost mid-snapshot: exit $rc, expected 3 (124: it hung): $(cat "$PGTRAIL_TEST_DIR/lost.out")"
grep -q "error: initial snapshot" "$PGTRAIL_TEST_DIR/lost.out" || fail "not stopped in the snapshot: $(cat "$PGTRAIL_TEST_DIR/lost.out")"
eq "the failed first start dropped its slot" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'lost'" 0
echo "ok: event store lost mid-snapshot: exit 3 at once, slot dropped"

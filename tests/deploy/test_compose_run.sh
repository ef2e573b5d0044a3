#!/usr/bin/env bash
# test_compose_run.sh SOURCE_DIR BIN_DIR — docker-compose.yml's pgtrail
# settings, run for real without Docker (inside with_pg.sh).
#
# There is no Docker engine to run the file, so this test runs what it says
# outside containers: the postgres service's server settings and init script
# on the test cluster, capture with exactly the capture service's environment
# (env -i: nothing else), its health check command, its stop signal within
# its grace period, and the verify job with its entrypoint, command and
# environment. Only addresses and paths are mapped, by a fixed table: the
# postgres and kafka host names to the test cluster and a mock Kafka cluster,
# /run/secrets/NAME to the secret's file, the anchor volume to a directory,
# port 9187 to a free port. A value the table cannot map, or a PGTRAIL_*
# setting no check below covers, fails the test: a setting added to the file
# must be exercised here.
set -euo pipefail
src=$(cd "$1" && pwd) bin=$(cd "$2" && pwd)
. "$src/tests/harness/testlib.sh"
. "$src/tests/kafka/lib.sh"
work=$(mktemp -d)
trap 'for p in $capture; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
log=$work/capture.err

# --- the resolved file, as docker-compose reads it -------------------------------
(cd "$src" && docker-compose -f docker-compose.yml config) > "$work/resolved.yml" ||
    fail "docker-compose config rejects docker-compose.yml"
# dump SERVICE FIELD: one item a line (environment as NAME=VALUE; lists as items)
dump() {
    python3 - "$work/resolved.yml" "$1" "$2" <<'PY'
import sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]]
v = svc.get(sys.argv[3])
if v is None:
    sys.exit(0)
if isinstance(v, dict) and sys.argv[3] == "environment":
    v = ["%s=%s" % kv for kv in v.items()]
elif isinstance(v, dict) and sys.argv[3] == "healthcheck":
    v = v["test"]
elif isinstance(v, dict):
    v = ["%s=%s" % kv for kv in v.items()]
elif isinstance(v, str):
    v = [v]
for item in v:
    assert "\n" not in str(item), "multi-line value in %s.%s" % (sys.argv[2], sys.argv[3])
    print(item)
PY
}
secret_file() {
    python3 - "$work/resolved.yml" "$1" <<'PY'
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["secrets"][sys.argv[2]]["file"])
PY
}

# --- the map: compose's addresses and paths to this machine's ---------------------
kafka_start
metrics_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/secrets" "$work/anchor"
# the secrets, made as the compose file's header says (next to the file, here in $work)
openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/signing.pub.pem"
for name in signing_key verify_public_key; do
    file=$(secret_file "$name")
    cp "$work/$(basename "$file")" "$work/secrets/$name" || fail "secret $name: no file $(basename "$file")"
done
map() {
    sed -e "s|@postgres:5432/|@127.0.0.1:$PGPORT/|g" \
        -e "s|=kafka:9092\$|=$KAFKA_BOOTSTRAP|; s|^kafka:9092\$|$KAFKA_BOOTSTRAP|" \
        -e "s|/run/secrets/|$work/secrets/|g" \
        -e "s|/var/lib/pgtrail-anchor/|$work/anchor/|g" \
        -e "s|:9187\$|:$metrics_port|; s|127.0.0.1/9187|127.0.0.1/$metrics_port|g"
}
# mapped SERVICE FIELD: dump, mapped, into $work/SERVICE.FIELD; fails on what the
# map left pointing into compose (called in this shell, not in a $(...), so it can)
mapped() {
    dump "$1" "$2" | map > "$work/$1.$2"
    if grep -nE '(@|^|=)(postgres|kafka):[0-9]|/run/secrets|/var/lib/pgtrail-anchor|(^|[:/])9187($|[^0-9])' \
        "$work/$1.$2" >&2; then
        fail "$1.$2: the value above is not mapped to this machine: extend map() in $0"
    fi
}

# --- postgres: the server settings and the init script ----------------------------
mapfile -t pg_command < <(dump postgres command)
[ "${pg_command[0]}" = postgres ] || fail "postgres command does not start with postgres: ${pg_command[*]}"
settings=()
for ((i = 1; i < ${#pg_command[@]}; i++)); do
    [ "${pg_command[i]}" = -c ] && settings+=(-c "${pg_command[i + 1]}") && i=$((i + 1))
done
[ ${#settings[@]} -gt 0 ] || fail "postgres command sets nothing"
# the init script runs on a server that does not allow wal2json yet (where the setting exists)
has_opl=$(q "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")
if [ "$has_opl" = 1 ]; then
    q "ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding" >/dev/null
fi
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m fast -w \
    -o "${settings[*]}" restart >/dev/null
for s in "${settings[@]}"; do
    [ "$s" = -c ] && continue
    eq "postgres setting ${s%%=*}" "SHOW ${s%%=*}" "${s#*=}"
done
mapfile -t pg_env < <(dump postgres environment)
env_of() { local kv; for kv in "${@:2}"; do if [ "${kv%%=*}" = "$1" ]; then echo "${kv#*=}"; fi; done; }
db=$(env_of POSTGRES_DB "${pg_env[@]}")
user=$(env_of POSTGRES_USER "${pg_env[@]}")
[ -n "$db" ] && [ "$user" = postgres ] || fail "postgres environment: POSTGRES_DB=$db POSTGRES_USER=$user"
q "CREATE DATABASE \"$db\""
init=$(sed -n 's|^COPY \([^ ]*\) /docker-entrypoint-initdb.d/.*|\1|p' "$src/deploy/docker/postgres.Dockerfile")
POSTGRES_USER=$user POSTGRES_DB=$db bash "$src/$init" > "$work/init.out" ||
    fail "$init failed: $(cat "$work/init.out")"
# the image restarts the server after its init scripts
pg_ctl -D "$PGTRAIL_TEST_DIR/data" -m fast -w \
    -o "${settings[*]}" restart >/dev/null
if [ "$has_opl" = 1 ]; then
    eq "init script allows wal2json" "SHOW output_plugin_libraries" "pgoutput, test_decoding, wal2json"
fi
echo "ok: postgres: ${settings[*]}, database $db, $(tail -n 1 "$work/init.out")"

in_db() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
in_db "CREATE TABLE public.orders (id int PRIMARY KEY, item text);
       INSERT INTO public.orders SELECT g, 'before ' || g FROM generate_series(1, 5) g"

# --- capture, with the service's environment and nothing else --------------------
mapped capture environment
mapfile -t cap_env < "$work/capture.environment"
entry=$(sed -n 's/^ENTRYPOINT \["\([a-z-]*\)".*/\1/p' "$src/Dockerfile")
mapped capture command
mapfile -t cap_cmd < "$work/capture.command"
[ -x "$bin/$entry" ] || fail "the image's entrypoint $entry is not a program built here"
env -i PATH="$PATH" "${cap_env[@]}" "$bin/$entry" "${cap_cmd[@]}" > "$work/capture.out" 2> "$log" &
capture=$!
covered=()
check() { covered+=("$1"); echo "ok: $1: $2"; }
val() { env_of "$1" "${cap_env[@]}"; }

until=$((SECONDS + 60))
until [ "$(in_db "SELECT count(*) FROM pg_replication_slots WHERE active" 2>/dev/null || echo 0)" = 1 ] &&
      [ "$(in_db "SELECT count(*) FROM pgtrail.events" 2>/dev/null || echo 0)" -ge 5 ]; do
    [ "$SECONDS" -lt "$until" ] || fail "capture did not start streaming"
    kill -0 "$capture" 2>/dev/null || fail "capture exited: $(cat "$log")"
    sleep 0.2
done
in_db "BEGIN; SELECT pgtrail.set_context('alice', 'compose', NULL);
       INSERT INTO public.orders SELECT g, 'after ' || g FROM generate_series(6, 10) g; COMMIT" >/dev/null
until [ "$(in_db "SELECT count(*) FROM pgtrail.events WHERE op = 'insert'")" = 5 ]; do
    [ "$SECONDS" -lt "$until" ] || fail "the inserts did not reach the event table"
    sleep 0.2
done

eq_db() { local got; got=$(in_db "$2"); [ "$got" = "$3" ] || fail "$1: expected [$3], got [$got]"; }
eq_db "source: events from database $db" "SELECT count(*) FROM pgtrail.events WHERE actor = 'alice'" 5
check PGTRAIL_SOURCE_DSN "capture streams from $db"
eq_db "slot name" "SELECT slot_name FROM pg_replication_slots WHERE active" "$(val PGTRAIL_CAPTURE_SLOT)"
check PGTRAIL_CAPTURE_SLOT "slot \"$(val PGTRAIL_CAPTURE_SLOT)\""
[ "$(val PGTRAIL_CAPTURE_SNAPSHOT)" = initial ] || fail "this test expects --snapshot initial"
eq_db "snapshot" "SELECT count(*) FROM pgtrail.events WHERE op = 'snapshot'" 5
check PGTRAIL_CAPTURE_SNAPSHOT "the 5 rows there before the start are snapshot events"

# the health check, as compose would run it (CMD form)
mapped capture healthcheck
mapfile -t health < "$work/capture.healthcheck"
[ "${health[0]}" = CMD ] || fail "capture's health check is not in CMD form: ${health[*]}"
"${health[@]:1}" || fail "capture's health check failed: ${health[*]:1}"
# ":PORT" is every address, IPv6 too where the host has it (a probe may come over either)
if grep -q '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null; then
    curl -gsf --max-time 5 "http://[::1]:$metrics_port/healthz" >/dev/null ||
        fail "$(val PGTRAIL_CAPTURE_METRICS) does not answer on ::1"
else
    echo "note: no ::1 on this host; :PORT checked over IPv4 only"
fi
check PGTRAIL_CAPTURE_METRICS "the health check passes against $(val PGTRAIL_CAPTURE_METRICS), over IPv4 and IPv6"
# the event table is written before the metrics view is refreshed: wait for the snapshot's count
until curl -sf --max-time 5 "http://127.0.0.1:$metrics_port/metrics" |
        grep -q '^pgtrail_capture_events_total{schema="public",table="orders",op="snapshot"} 5$'; do
    [ "$SECONDS" -lt "$until" ] || fail "/metrics does not count the 5 snapshot events of public.orders"
    sleep 0.2
done

# Kafka: the inserts, in the format asked for
topic=pgtrail.public.orders
until [ "$(kafka_consume "$topic" | wc -l)" -ge 10 ]; do
    [ "$SECONDS" -lt "$until" ] || fail "the events did not reach Kafka"
    sleep 0.5
done
check PGTRAIL_KAFKA_BOOTSTRAP_SERVERS "10 messages in $topic"
[ "$(val PGTRAIL_KAFKA_FORMAT)" = native ] || fail "this test knows the native format only"
kafka_consume "$topic" | python3 -c '
import json, sys
for line in sys.stdin:
    v = json.loads(json.loads(line)["payload"])
    assert v["schema_name"] == "public" and v["table_name"] == "orders" and "hash" in v, v
' || fail "Kafka values are not native events"
check PGTRAIL_KAFKA_FORMAT "values are native events"

# stop as compose does: its stop signal, within its grace period
sig=$(dump capture stop_signal)
grace=$(dump capture stop_grace_period)
grace_s=${grace%s}
[[ $grace_s =~ ^[0-9]+$ ]] || fail "stop_grace_period $grace is not in seconds"
kill -s "${sig#SIG}" "$capture"
rc=0
timeout "$grace_s" tail --pid="$capture" -f /dev/null || fail "capture did not stop within $grace"
wait "$capture" || rc=$?
capture=""
[ "$rc" = 0 ] || fail "capture exited $rc on $sig: $(tail -n 5 "$log")"
echo "ok: capture stopped on $sig, exit 0"

python3 - "$log" <<'PY' || fail "capture's log is not JSON lines: $(head -n 3 "$log")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    json.loads(l)
PY
check PGTRAIL_LOG_FORMAT "$(wc -l < "$log") log lines, each a JSON object"
eq_db "signed checkpoints" "SELECT count(*) > 0 AND bool_and(signature IS NOT NULL) FROM pgtrail.checkpoints" t
check PGTRAIL_CAPTURE_SIGNING_KEY "checkpoints signed"
anchor=$(val PGTRAIL_CAPTURE_ANCHOR_FILE)
[ "$(wc -l < "$anchor")" = "$(in_db "SELECT count(*) FROM pgtrail.checkpoints")" ] ||
    fail "the anchor file does not hold every checkpoint"
check PGTRAIL_CAPTURE_ANCHOR_FILE "$(wc -l < "$anchor") line(s) in the anchor volume"

for kv in "${cap_env[@]}"; do
    name=${kv%%=*}
    [[ $name == PGTRAIL_* ]] || continue
    [[ " ${covered[*]} " == *" $name "* ]] ||
        fail "capture's $name is set in docker-compose.yml but no check here exercises it: add one"
done

# --- verify, as `docker compose run --rm verify` ------------------------------------
mapped verify environment
mapfile -t ver_env < "$work/verify.environment"
mapped verify entrypoint
mapfile -t ver_entry < "$work/verify.entrypoint"
mapped verify command
mapfile -t ver_cmd < "$work/verify.command"
[ -x "$bin/${ver_entry[0]}" ] || fail "verify's entrypoint ${ver_entry[0]} is not a program built here"
verify_job() {
    env -i PATH="$PATH" "${ver_env[@]}" "$bin/${ver_entry[0]}" "${ver_entry[@]:1}" "${ver_cmd[@]}" \
        > "$work/verify.out" 2>&1
}
# a forged event first (the first run checks the whole chain), then the real one back
where="op = 'insert' AND key->>'id' = '6'"
real=$(in_db "SELECT row FROM pgtrail.events WHERE $where")
in_db "UPDATE pgtrail.events SET row = '{\"id\":\"6\",\"item\":\"forged\"}' WHERE $where"
rc=0; verify_job || rc=$?
[ "$rc" = 1 ] || fail "the verify job exited $rc on a forged event: $(cat "$work/verify.out")"
forged_id=$(in_db "SELECT id FROM pgtrail.events WHERE $where")
grep -q "event $forged_id: changed" "$work/verify.out" ||
    fail "verify did not name event $forged_id: $(cat "$work/verify.out")"
echo "ok: the verify job exits 1 on a forged event: $(grep -m 1 changed "$work/verify.out")"
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v real="$real" <<< "UPDATE pgtrail.events SET row = :'real' WHERE $where"
rc=0; verify_job || rc=$?
[ "$rc" = 0 ] || fail "the verify job exited $rc: $(cat "$work/verify.out")"
grep -q "signatures verified" "$work/verify.out" && grep -q "anchors: [1-9]" "$work/verify.out" ||
    fail "the verify job did not check signatures and the anchor: $(cat "$work/verify.out")"
echo "ok: the verify job exits 0: $(tr '\n' ' ' < "$work/verify.out")"
echo "PASS test_compose_run"

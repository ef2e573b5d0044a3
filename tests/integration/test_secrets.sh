#!/usr/bin/env bash
# test_secrets.sh BIN_DIR — passwords in connection strings never reach
# stdout or stderr (issue 14, item 4; run inside tests/harness/with_pg.sh).
#
# The secret is always "Hunter2SECRET" (or "Hunter2" and "SECRET" apart).
# Each of pgtrail-capture (--source, --sink), pgtrail-replay (--events,
# --target) and pgtrail-verify (--events, --source for --drift), given:
# - a malformed URI (a bad percent escape, an unclosed "[", an unencoded "@"
#   or "/" in the password), a malformed key=value string, or a URI of
#   another scheme (jdbc:postgresql://, which libpq would take for a
#   database name): exit 2, one error line and a hint, the secret nowhere
#   (libpq's own parse messages, or the server's, would quote it);
# - a well-formed URI with a password, to a closed port: exit 3, the
#   secret nowhere, and a warning that a password is on the command line;
#   the same URI from the environment or the INI file: no warning;
# - a password to the real server with a database that does not exist:
#   exit 3, the secret nowhere.
# --help with a password in a flag, a running capture's log and its
# /metrics, /healthz and /readyz, and successful runs of verify (drift
# included) and a replay dry run with passwords in every flag, do not show
# it either.
set -euo pipefail
bin=$1
. "$(dirname "$0")/../harness/testlib.sh"
tmp=$(mktemp -d)
trap 'for p in $capture; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

pct='postgresql://u:Hunter2SECRET%zz@host/db'
ipv6='postgresql://u:Hunter2SECRET@[::1/db'
at='postgresql://u:Hunter2@SECRET@127.0.0.1:1/db'
slash='postgresql://u:Hunter2/SECRET@127.0.0.1:1/db'
unquoted="host=127.0.0.1 port=1 password=Hunter2 SECRET"
jdbc='jdbc:postgresql://u:Hunter2SECRET@127.0.0.1:1/db'   # libpq: a database name, quoted by the server's error
closed='postgresql://u:Hunter2SECRET@127.0.0.1:1/db?connect_timeout=2'
good=$PGTRAIL_TEST_DSN

# run PROGRAM ARGS...: $out (stdout and stderr) and $rc
run() {
    local prog=$1
    shift
    set +e
    out=$("$bin/$prog" "$@" 2>&1)
    rc=$?
    set -e
}
no_secret() {
    case "$out" in *Hunter2*|*SECRET*) fail "$1: the password was printed: $out" ;; esac
}
# malformed PROGRAM FLAG REASON ARGS...: exit 2, one error line naming FLAG and REASON, a hint, no secret
malformed() {
    local prog=$1 flag=$2 reason=$3
    shift 3
    run "$prog" "$@"
    no_secret "$prog $flag"
    [ "$rc" = 2 ] || fail "$prog $flag: expected exit 2, got $rc: $out"
    [ "$(grep -c 'error:' <<<"$out")" = 1 ] || fail "$prog $flag: not one error line: $out"
    grep -q "error: invalid connection string for $flag: $reason" <<<"$out" || fail "$prog $flag: [$reason] not in: $out"
    grep -q '^hint: ' <<<"$out" || fail "$prog $flag: no hint: $out"
}
# unreachable PROGRAM WARN ARGS...: exit 3, no secret; the command-line warning when WARN is yes
unreachable() {
    local prog=$1 warn=$2
    shift 2
    run "$prog" "$@"
    no_secret "$prog (unreachable)"
    [ "$rc" = 3 ] || fail "$prog: expected exit 3 for a closed port, got $rc: $out"
    grep -q 'could not connect to the database' <<<"$out" || fail "$prog: no connection error: $out"
    if [ "$warn" = yes ]; then
        grep -q 'warning: a password is on the command line' <<<"$out" || fail "$prog: no warning: $out"
        grep -q '/proc/PID/cmdline' <<<"$out" || fail "$prog: the warning does not say why: $out"
    else
        ! grep -q 'password is on the command line' <<<"$out" || fail "$prog: warned without a flag: $out"
    fi
}

for uri in "$pct" "$ipv6" "$at" "$slash" "$unquoted" "$jdbc"; do
    case "$uri" in
        "$pct") reason='invalid percent-encoded token' ;;
        "$ipv6") reason='unclosed "\[" around an IPv6 host address' ;;
        "$unquoted") reason='a word without "="' ;;
        "$jdbc") reason='neither a postgresql:// URI nor key=value pairs nor a database name' ;;
        *) reason='"@" in the host or database part of the URI' ;;
    esac
    malformed pgtrail-capture --source "$reason" --source "$uri"
    malformed pgtrail-capture --sink "$reason" --source "$good" --sink "$uri"
    malformed pgtrail-replay --events "$reason" --events "$uri" --target "$good"
    malformed pgtrail-replay --target "$reason" --events "$good" --target "$uri"
    malformed pgtrail-verify --events "$reason" --events "$uri"
    malformed pgtrail-verify --source "$reason" --events "$good" --drift --source "$uri"
done
echo "ok: malformed connection strings: exit 2, one error line and a hint, no password, in all three programs"

malformed pgtrail-capture --source 'unterminated quoted string' --source "host=127.0.0.1 password='Hunter2SECRET"
run pgtrail-capture --log-format json --source "$pct"
no_secret "json log"
[ "$rc" = 2 ] || fail "json log: exit $rc"
PGTRAIL_SOURCE_DSN=$ipv6 run pgtrail-capture
no_secret "environment"
grep -q 'invalid connection string for \[source\] dsn (environment variable PGTRAIL_SOURCE_DSN)' <<<"$out" ||
    fail "environment: $out"
[ "$rc" = 2 ] || fail "environment: exit $rc"
printf '[sink]\ndsn = %s\n' "$pct" >"$tmp/bad.conf"
run pgtrail-verify -c "$tmp/bad.conf"
no_secret "config file"
grep -q "invalid connection string for \[sink\] dsn ($tmp/bad.conf:2)" <<<"$out" || fail "config file: $out"
[ "$rc" = 2 ] || fail "config file: exit $rc"
echo "ok: from the environment and the INI file too, and in JSON logs"

unreachable pgtrail-capture yes --source "$closed"
unreachable pgtrail-capture yes --source "$good" --sink "host=127.0.0.1 port=1 connect_timeout=2 password='Hunter2 \\'SECRET'"
unreachable pgtrail-replay yes --events "$closed" --target "$closed"
unreachable pgtrail-verify yes --events "$closed"
PGTRAIL_SOURCE_DSN=$closed unreachable pgtrail-capture no
printf '[sink]\ndsn = %s\n' "$closed" >"$tmp/pw.conf"
unreachable pgtrail-verify no -c "$tmp/pw.conf"
echo "ok: unreachable with a password: exit 3, no password; a warning for flags only"

run pgtrail-capture --source "$good dbname=no_such_db password=Hunter2SECRET"
no_secret "no such database"
[ "$rc" = 3 ] || fail "no such database: exit $rc: $out"
grep -q 'database "no_such_db" does not exist' <<<"$out" || fail "no such database: $out"
grep -q 'detail: connection: .*password=\*\*\*' <<<"$out" || fail "no redacted connection string: $out"
echo "ok: a server's refusal: exit 3, the connection string shown with password=***"

# help ARGS...: --help with passwords in the flags exits 0 and shows none
help() {
    run "$@" --help
    no_secret "$1 --help"
    [ "$rc" = 0 ] || fail "$1 --help: exit $rc"
}
help pgtrail-capture --source "$closed" --sink "$closed"
help pgtrail-replay --events "$closed" --target "$closed"
help pgtrail-verify --events "$closed" --source "$closed" --drift-scratch "$closed"
echo "ok: --help"

# a running capture: its log and every metrics endpoint
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
q "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)" >/dev/null
pwuri="postgresql://postgres:Hunter2SECRET@/postgres?host=$PGHOST&port=$PGPORT"
"$bin/pgtrail-capture" --source "$pwuri" \
    --metrics "127.0.0.1:$port" --log-level debug >"$tmp/capture.log" 2>&1 &
capture=$!
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz" || true)" = 200 ] && break
    kill -0 "$capture" 2>/dev/null || fail "capture exited: $(cat "$tmp/capture.log")"
    sleep 0.1
done
for path in /metrics /healthz /readyz; do
    curl -s --max-time 5 "http://127.0.0.1:$port$path" >>"$tmp/scrape" || fail "GET $path"
done
grep -q '^pgtrail_' "$tmp/scrape" || fail "no metrics scraped"
kill -TERM "$capture"
wait "$capture" || fail "capture did not stop cleanly: $(cat "$tmp/capture.log")"
capture=""
out=$(cat "$tmp/capture.log" "$tmp/scrape")
no_secret "running capture"
grep -q 'warning: a password is on the command line (--source)' "$tmp/capture.log" || fail "no warning: $out"
echo "ok: a running capture's log (debug) and /metrics, /healthz, /readyz hold no password"

# the other two, running for real with a password in every flag: verify
# (text and JSON), its drift check (whose scratch database is reached
# with the source's connection string, password and all), a replay dry run
q "CREATE DATABASE target" >/dev/null
for args in "--events $pwuri" "--events $pwuri --format json" "--events $pwuri --drift --source $pwuri"; do
    # shellcheck disable=SC2086  # (no spaces in $pwuri: the test's socket directory)
    run pgtrail-verify $args
    no_secret "pgtrail-verify $args"
    [ "$rc" = 0 ] || fail "pgtrail-verify $args: exit $rc: $out"
done
run pgtrail-replay --events "$pwuri" --target "postgresql://postgres:Hunter2SECRET@/target?host=$PGHOST&port=$PGPORT" --dry-run --create-tables --log-level debug
no_secret "pgtrail-replay --dry-run"
[ "$rc" = 0 ] || fail "pgtrail-replay --dry-run: exit $rc: $out"
echo "ok: verify (text, JSON, drift) and a replay dry run with passwords in their flags print none"

#!/usr/bin/env bash
# with_pg.sh — run one command against its own throwaway PostgreSQL cluster.
#
#   with_pg.sh COMMAND [ARGS...]
#
# Starts a cluster (pg_cluster.sh) of the version PGTRAIL_TEST_PG_VERSION
# names (15 when unset) in a private temp dir, exports its conninfo as
# PGTRAIL_TEST_DSN (and PGHOST/PGPORT/PGUSER/PGDATABASE so psql works as
# is), puts that version's pg_ctl, pg_dump and pg_recvlogical first on PATH
# (pg_ctl runs as the server's owner), runs the command, and stops and removes the cluster when the
# command ends, whether it passed, failed or was interrupted. The command's
# exit status is passed on. On failure the server log's tail is shown.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/pgtrail-test.XXXXXX")
chmod 755 "$dir"

cleanup() {
    local rc=$?
    if [ "$rc" != 0 ] && [ -f "$dir/server.log" ]; then
        echo "--- server log (tail) ---" >&2
        tail -n 30 "$dir/server.log" >&2
    fi
    "$here/pg_cluster.sh" stop "$dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dsn=$("$here/pg_cluster.sh" start "$dir") || exit 1
"$here/pg_cluster.sh" tools "$dir" "$dir/bin" || exit 1
export PGTRAIL_TEST_DSN="$dsn"
export PGTRAIL_TEST_DIR="$dir"
export PGTRAIL_TEST_PG_VERSION="${PGTRAIL_TEST_PG_VERSION:-15}"
export PATH="$dir/bin:$PATH"
export PGHOST="$dir" PGPORT="$(cat "$dir/port")" PGUSER=postgres PGDATABASE=postgres
"$@"

#!/usr/bin/env bash
# postgres-entrypoint.sh postgres [-c NAME=VALUE ...] — the entrypoint of
# deploy/docker/postgres.Dockerfile (Debian's PostgreSQL 15).
#
# As root: makes the data directory the postgres user's, then runs itself as
# postgres. As postgres, on an empty data directory (no PG_VERSION): initdb
# with UTF-8 and POSTGRES_USER (default postgres) as superuser with
# POSTGRES_PASSWORD (required), trust on the local socket and scram-sha-256
# over TCP from anywhere; then a temporary server on a private socket only
# (so the healthcheck, pg_isready on the default socket, stays unhealthy
# until the real server runs) creates POSTGRES_DB and runs
# /docker-entrypoint-initdb.d/*.sh (executable: run; otherwise sourced) and
# *.sql. Then the server in the foreground, with the command's arguments.
# Any command other than "postgres" is run as is.
set -euo pipefail

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi
shift

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?postgres-entrypoint: set POSTGRES_PASSWORD}"
    export POSTGRES_USER=${POSTGRES_USER:-postgres}
    export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    printf '\n# postgres-entrypoint: password logins over TCP from anywhere\nhost all all all scram-sha-256\n' \
        >> "$PGDATA/pg_hba.conf"
    printf "\n# postgres-entrypoint\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

    initsock=$(mktemp -d)
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$initsock" start >/dev/null
    export PGHOST=$initsock PGUSER=$POSTGRES_USER
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -qX -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) if [ -x "$f" ]; then echo "postgres-entrypoint: running $f"; "$f"
                  else echo "postgres-entrypoint: sourcing $f"; . "$f"; fi ;;
            *.sql) echo "postgres-entrypoint: running $f"; psql -v ON_ERROR_STOP=1 -qX -d "$POSTGRES_DB" -f "$f" ;;
            *) if [ -e "$f" ]; then echo "postgres-entrypoint: ignoring $f"; fi ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    unset PGHOST PGUSER
    rmdir "$initsock"
    echo "postgres-entrypoint: initialized $PGDATA (database $POSTGRES_DB)"
fi

exec postgres -D "$PGDATA" "$@"

#!/usr/bin/env bash
# pg_cluster.sh — start and stop a throwaway PostgreSQL 15 cluster for tests.
#
# Every test gets its own cluster: a fresh data directory under a private
# temp dir, a free TCP port on 127.0.0.1, the unix socket in that dir, and
# wal_level=logical with wal2json allowed as an output plugin (servers from
# 2026 on refuse it unless it is in output_plugin_libraries; older ones do
# not know that setting, so it is detected, never assumed).
#
#   pg_cluster.sh start DIR   initdb + start; prints the conninfo on stdout
#   pg_cluster.sh stop DIR    stop the server (immediate) and remove DIR
#
# Runs the server as "postgres" when invoked as root (initdb refuses root).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg_cluster.sh: error: $*" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

supports_setting() {
    # $1 = data dir, $2 = setting name; asks the (stopped) server's binary
    as_pg "$PGBIN/postgres" -D "$1" -C "$2" >/dev/null 2>&1
}

start() {
    local dir=$1
    [ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 server not found in $PGBIN" \
        "(run scripts/deps.sh to install postgresql-15 and postgresql-15-wal2json)"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    {
        echo "wal_level = logical"
        echo "max_replication_slots = 20"
        echo "max_wal_senders = 20"
        echo "unix_socket_directories = '$dir'"
        echo "listen_addresses = '127.0.0.1'"
        echo "fsync = off"
        echo "synchronous_commit = on"
        echo "full_page_writes = off"
        echo "shared_buffers = 128MB"
        echo "max_wal_size = 2GB"
    } >>"$dir/data/postgresql.conf"
    if supports_setting "$dir/data" output_plugin_libraries; then
        echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" >>"$dir/data/postgresql.conf"
    fi
    local tries port
    for tries in 1 2 3 4 5; do
        port=$(free_port)
        if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -o "-c port=$port" -l "$dir/server.log" -w -t 60 start \
                >"$dir/pg_ctl.log" 2>&1; then
            echo "$port" >"$dir/port"
            echo "host=$dir port=$port user=postgres dbname=postgres"
            return 0
        fi
    done
    cat "$dir/server.log" >&2 || true
    die "could not start PostgreSQL in $dir"
}

stop() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: pg_cluster.sh start DIR"; start "$2" ;;
    stop)  [ $# -eq 2 ] || die "usage: pg_cluster.sh stop DIR"; stop "$2" ;;
    *) die "usage: pg_cluster.sh start|stop DIR" ;;
esac

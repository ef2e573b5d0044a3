#!/usr/bin/env bash
# pg_cluster.sh — start and stop a throwaway PostgreSQL cluster for tests,
# of the major version PGTRAIL_TEST_PG_VERSION names (15 when unset).
#
# Every test gets its own cluster: a fresh data directory under a private
# temp dir, a free TCP port on 127.0.0.1, the unix socket in that dir, and
# wal_level=logical with wal2json allowed as an output plugin (servers from
# 2026 on refuse it unless it is in output_plugin_libraries; older ones do
# not know that setting, so it is detected, never assumed).
#
# A version installed on this machine runs as is. Any other runs chrooted in
# the root scripts/pg_root.sh built from Debian's packages of a newer suite;
# DIR is then made inside that root and DIR itself becomes a symlink to it,
# so the data directory, the socket and any path a test hands the server
# (a tablespace) are the same on both sides.
#
#   pg_cluster.sh start DIR      initdb + start; prints the conninfo on stdout
#   pg_cluster.sh stop DIR       stop the server (immediate) and remove DIR
#   pg_cluster.sh tools DIR BIN  write pg_ctl, pg_dump, pg_recvlogical of the
#                                cluster's version into BIN (for PATH)
#
# Runs the server as "postgres" when invoked as root (initdb refuses root).
set -euo pipefail

version=${PGTRAIL_TEST_PG_VERSION:-15}
here=$(cd "$(dirname "$0")" && pwd)
root=""
if [ ! -x "/usr/lib/postgresql/$version/bin/initdb" ]; then
    root=$("$here/../../scripts/pg_root.sh" --path "$version")
fi
PGBIN=/usr/lib/postgresql/$version/bin

die() { echo "pg_cluster.sh: error: $*" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A server-side program of the cluster's version, as postgres (chrooted
# when the version lives in a root).
srv() {
    if [ -n "$root" ]; then chroot "$root" runuser -u postgres -- "$@"; else as_pg "$@"; fi
}

# DIR inside the root, reached from outside through a symlink at DIR.
enter_root() {
    local dir=$1
    [ "$(id -u)" = 0 ] || die "PostgreSQL $version runs chrooted, which needs root"
    [ -x "$root$PGBIN/initdb" ] || die "PostgreSQL $version not found in $root" \
        "(run scripts/deps.sh, or scripts/pg_root.sh $version)"
    mkdir -p "$root$dir"
    chmod 755 "$root$dir"
    rmdir "$dir" 2>/dev/null || true
    ln -sfn "$root$dir" "$dir"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

supports_setting() {
    # $1 = data dir, $2 = setting name; asks the (stopped) server's binary
    srv "$PGBIN/postgres" -D "$1" -C "$2" >/dev/null 2>&1
}

start() {
    local dir=$1
    if [ -n "$root" ]; then
        enter_root "$dir"
    else
        [ -x "$PGBIN/initdb" ] || die "PostgreSQL $version server not found in $PGBIN" \
            "(run scripts/deps.sh to install postgresql-$version and postgresql-$version-wal2json)"
        mkdir -p "$dir"
    fi
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/"
    srv "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    {
        echo "wal_level = logical"
        echo "max_replication_slots = 20"
        echo "max_wal_senders = 20"
        echo "max_prepared_transactions = 10"
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
        if srv "$PGBIN/pg_ctl" -D "$dir/data" -o "-c port=$port" -l "$dir/server.log" -w -t 60 start \
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
        srv "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -L "$dir" ]; then
        rm -rf "$(readlink "$dir")"
        rm -f "$dir"
    else
        rm -rf "$dir"
    fi
}

# Client programs whose major version must match the server's (pg_dump
# refuses a newer server), and pg_ctl run as the server's owner.
tools() {
    local dir=$1 bin=$2 t run
    mkdir -p "$bin"
    if [ -n "$root" ]; then run="chroot '$root' runuser -u postgres --"
    elif [ "$(id -u)" = 0 ]; then run="runuser -u postgres --"
    else run=""; fi
    for t in pg_ctl pg_dump pg_recvlogical; do
        printf '#!/bin/sh\nexec %s %s/%s "$@"\n' "$run" "$PGBIN" "$t" >"$bin/$t"
        chmod 755 "$bin/$t"
    done
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: pg_cluster.sh start DIR"; start "$2" ;;
    stop)  [ $# -eq 2 ] || die "usage: pg_cluster.sh stop DIR"; stop "$2" ;;
    tools) [ $# -eq 3 ] || die "usage: pg_cluster.sh tools DIR BIN"; tools "$2" "$3" ;;
    *) die "usage: pg_cluster.sh start|stop|tools DIR" ;;
esac

#!/usr/bin/env bash
# pg_root.sh — a PostgreSQL server of another major version for the tests,
# from Debian's own packages, in a minimal root of its own.
#
#   scripts/pg_root.sh VERSION     build the root if missing; print its path
#   scripts/pg_root.sh --path VERSION   print where the root is (or would be)
#
# Debian 12's archive has PostgreSQL 15 only. The newer servers and their
# wal2json are in the newer suites of the same archive (17 in trixie, 18 in
# forky), whose packages need a newer libc; so the server runs chrooted in a
# root that debootstrap builds from that suite. The harness
# (tests/harness/pg_cluster.sh) starts it there; clients connect through a
# socket directory both sides see. The root's postgres user gets the host's
# uid and gid, so files a test hands the server (a tablespace directory) need
# no second chown.
#
# Idempotent and cached: a root is built once (into NAME.partial, renamed when
# complete) under $PGTRAIL_TEST_PG_ROOTS (default /var/cache/pgtrail/pg-roots).
# A version installed natively (/usr/lib/postgresql/V/bin) needs no root.
set -euo pipefail

roots=${PGTRAIL_TEST_PG_ROOTS:-/var/cache/pgtrail/pg-roots}

die() { echo "pg_root.sh: error: $*" >&2; exit 2; }

suite_of() {
    case "$1" in
        17) echo trixie ;;
        18) echo forky ;;
        *) die "no Debian suite known for PostgreSQL $1 (known: 17 trixie, 18 forky; 15 is native)" ;;
    esac
}

# The archive apt already uses (deb822 or one-line sources).
mirror() {
    local m
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$m" ] || m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    echo "${m:-http://deb.debian.org/debian}"
}

# bookworm's debootstrap has no script for forky: testing suites use sid's.
script_of() {
    if [ -e "/usr/share/debootstrap/scripts/$1" ]; then echo "/usr/share/debootstrap/scripts/$1"
    else echo /usr/share/debootstrap/scripts/sid; fi
}

# The root's postgres user takes the host's ids; /dev/shm must be usable
# for dynamic shared memory (debootstrap leaves it root-only).
adjust() {
    local dir=$1 uid gid
    uid=$(id -u postgres) gid=$(id -g postgres)
    chroot "$dir" groupmod -o -g "$gid" postgres
    chroot "$dir" usermod -o -u "$uid" -g "$gid" postgres
    chmod 1777 "$dir/dev/shm"
}

build() {
    local v=$1 dir=$2 suite
    suite=$(suite_of "$v")
    [ "$(id -u)" = 0 ] || die "building the PostgreSQL $v root needs root (debootstrap, chroot)"
    id postgres >/dev/null 2>&1 || die "no postgres user on this machine (run scripts/deps.sh first)"
    command -v debootstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
    }
    rm -rf "$dir.partial"
    mkdir -p "$roots"
    echo "pg_root: building PostgreSQL $v ($suite) in $dir" >&2
    debootstrap --variant=minbase --include="postgresql-$v,postgresql-$v-wal2json" \
        "$suite" "$dir.partial" "$(mirror)" "$(script_of "$suite")" >"$roots/pg$v.log" 2>&1 ||
        { tail -n 20 "$roots/pg$v.log" >&2; die "debootstrap of $suite failed (log: $roots/pg$v.log)"; }
    [ -x "$dir.partial/usr/lib/postgresql/$v/bin/initdb" ] || die "root for $v has no initdb"
    [ -e "$dir.partial/usr/lib/postgresql/$v/lib/wal2json.so" ] || die "root for $v has no wal2json"
    adjust "$dir.partial"
    mv "$dir.partial" "$dir"
}

case "${1:-}" in
    --path) [ $# -eq 2 ] || die "usage: pg_root.sh --path VERSION"; echo "$roots/pg$2" ;;
    [0-9]*)
        [ $# -eq 1 ] || die "usage: pg_root.sh VERSION"
        if [ -x "/usr/lib/postgresql/$1/bin/initdb" ]; then exit 0; fi
        dir="$roots/pg$1"
        [ -d "$dir" ] || build "$1" "$dir"
        echo "$dir" ;;
    *) die "usage: pg_root.sh [--path] VERSION" ;;
esac

#!/usr/bin/env bash
# deps.sh — install the Debian 12 packages pgtrail needs, only those missing.
#
#   scripts/deps.sh          everything the build and the whole test suite need
#   scripts/deps.sh --demo   only what scripts/demo.sh needs (build and run the
#                            programs against a throwaway cluster): no kcat,
#                            systemd, YAML, docker-compose, clang or valgrind,
#                            which take most of the install time on a new machine
#
# The whole suite also runs on PostgreSQL 17 and 18 (PGTRAIL_TEST_PG, default
# 15,17,18): their servers come from Debian's newer suites, each in a root of
# its own that scripts/pg_root.sh builds with debootstrap (both at once,
# about 2 minutes and 1.2 GB here), run chrooted by the test harness.
#
# Idempotent: with everything present it installs nothing and asks for no
# network. Runs apt-get as root, or through sudo when not root.
set -euo pipefail

# server and wal2json, client, OpenSSL (library, and the openssl program for
# signing keys), JSON tokens, cmocka (the configure step requires it), Kafka,
# metrics, build tools, the independent checker
packages=(
    postgresql-15 postgresql-15-wal2json libpq-dev
    libssl-dev openssl libjsmn-dev libcmocka-dev
    librdkafka-dev libmicrohttpd-dev
    cmake pkg-config gcc make python3
)
# the tests also need: Kafka's test consumer, checking deploy/
# (systemd-analyze, YAML), docker-compose.yml (docker-compose config),
# fuzzing, leaks
case "${1:-}" in
    --demo) ;;
    "") packages+=(kcat systemd python3-yaml docker-compose clang valgrind debootstrap) ;;
    *) echo "usage: scripts/deps.sh [--demo]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

# The roots of the PostgreSQL versions the tests run on besides the native one.
pg_roots() {
    local here v pids=() rc=0
    here=$(cd "$(dirname "$0")" && pwd)
    for v in $(echo "${PGTRAIL_TEST_PG:-15,17,18}" | tr ',' ' '); do
        [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && continue
        [ -d "$("$here/pg_root.sh" --path "$v")" ] && continue
        [ "$(id -u)" = 0 ] || { echo "deps: error: PostgreSQL $v runs chrooted: run as root" >&2; exit 2; }
        "$here/pg_root.sh" "$v" >/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    [ "$rc" = 0 ] || { echo "deps: error: a PostgreSQL root could not be built (see above)" >&2; exit 2; }
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all packages present"
else
    echo "deps: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "deps: error: run as root, or: apt-get install ${missing[*]}" >&2; exit 2; }
        sudo=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ "${1:-}" = --demo ] || pg_roots

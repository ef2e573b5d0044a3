#!/usr/bin/env bash
# deps.sh — install the Debian 12 packages pgtrail needs, only those missing.
#
# Idempotent: with everything present it installs nothing and asks for no
# network. Runs apt-get as root, or through sudo when not root.
set -euo pipefail

# server and wal2json, client, OpenSSL, JSON tokens, tests, Kafka and its
# test consumer, metrics, build tools, the independent checker, checking
# deploy/ (systemd-analyze, YAML), docker-compose.yml (docker-compose config),
# fuzzing, leaks
packages=(
    postgresql-15 postgresql-15-wal2json libpq-dev
    libssl-dev libjsmn-dev libcmocka-dev
    librdkafka-dev kcat libmicrohttpd-dev
    cmake pkg-config gcc make python3
    systemd python3-yaml docker-compose
    clang valgrind
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps: error: run as root, or: apt-get install ${missing[*]}" >&2; exit 2; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

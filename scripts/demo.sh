#!/usr/bin/env bash
# demo.sh — pgtrail on a demo, from a fresh Debian 12 machine:
# installs what is missing, builds, starts a throwaway PostgreSQL with
# wal2json, runs a small application workload with pgtrail-capture
# attached, and shows the captured, hash-chained events. Cleans up after.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh >/dev/null
scripts/build.sh >/dev/null
exec tests/harness/with_pg.sh "$root/scripts/demo_steps.sh" "$root/build/bin"

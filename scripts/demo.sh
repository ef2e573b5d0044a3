#!/usr/bin/env bash
# demo.sh — pgtrail on a demo, from a fresh Debian 12 machine:
# installs what is missing, builds, starts a throwaway PostgreSQL with
# wal2json, runs a small application workload with pgtrail-capture
# attached (signed checkpoints, an anchor file), shows the captured,
# hash-chained events, replays the shop as it was before a change, shows a
# row's history, has pgtrail-verify audit the log, then edits an event in
# SQL and lets verify name it; ends with a summary. Cleans up after.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh --demo >/dev/null
# the three programs only (scripts/build.sh builds the tests too), in the same
# build directory with the same options as scripts/build.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pgtrail-capture pgtrail-replay pgtrail-verify >/dev/null
exec tests/harness/with_pg.sh "$root/scripts/demo_steps.sh" "$root/build/bin"

#!/usr/bin/env bash
# versions.sh [CHANGES] — bench/capture_workload.sh on each PostgreSQL
# version the harness knows (PGTRAIL_TEST_PG, default 15,17,18; 17 and 18
# run chrooted in scripts/pg_root.sh's roots), each against the
# pg_recvlogical of its own version: capture's ratio to the limit per
# version, and what filtering its own writes by origin saves there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
changes=${1:-1000000}
for v in $(echo "${PGTRAIL_TEST_PG:-15,17,18}" | tr ',' ' '); do
    echo "== PostgreSQL $v"
    PGTRAIL_TEST_PG_VERSION=$v "$root/tests/harness/with_pg.sh" \
        "$root/bench/capture_workload.sh" "$root/build/bin" "$changes"
done

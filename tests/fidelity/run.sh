#!/usr/bin/env bash
# run.sh — the fidelity fuzzer (fidelity.py) on every PostgreSQL version the
# harness knows, each in its own throwaway cluster: the regression cases in
# cases/ first, then the seeds.
#
#   tests/fidelity/run.sh                     cases + seeds 1-16 on 15, 17 and 18
#   tests/fidelity/run.sh --seeds 1000        seeds 1-1000
#   tests/fidelity/run.sh --seeds 500-900 --pg 18 --jobs 2 --shrink
#
# Options: --seeds N|A-B (default 16), --pg LIST (default $PGTRAIL_TEST_PG or
# 15,17,18), --jobs J clusters per version side by side (default 1),
# --size N statements per workload, --decoders both (a second capture
# through pgoutput must write the same events), --shrink (write a minimal SQL case of
# each failure), --bin DIR (default build/bin), --out DIR (failing
# workloads; default /tmp/pgtrail-fidelity). Exit 0 when everything held.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seeds=16 pgs=${PGTRAIL_TEST_PG:-15,17,18} jobs=1 bin=$root/build/bin out=/tmp/pgtrail-fidelity
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --seeds) seeds=$2; shift 2 ;;
        --pg) pgs=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --size) extra+=(--size "$2"); shift 2 ;;
        --shrink) extra+=(--shrink); shift ;;
        --decoders) extra+=(--decoders "$2"); shift 2 ;;
        *) echo "run.sh: unknown option \"$1\"" >&2; echo "hint: see the top of $0" >&2; exit 2 ;;
    esac
done
case $seeds in *-*) first=${seeds%-*} last=${seeds#*-} ;; *) first=1 last=$seeds ;; esac


# one cluster: job J of JOBS takes every JOBS-th seed
one() {
    local v=$1 j=$2 list
    list=$(seq "$((first + j))" "$jobs" "$last" | paste -sd, -)
    local args=(--bin "$bin" --out "$out/pg$v" --work "$out/pg$v")
    [ "$j" = 0 ] && args+=(--cases-dir "$here/cases")
    args+=(--known "$here/known.txt")
    [ -n "$list" ] && args+=(--seeds "$list")
    mkdir -p "$out/pg$v"
    PGTRAIL_TEST_PG_VERSION=$v "$root/tests/harness/with_pg.sh" python3 "$here/fidelity.py" "${args[@]}" "${extra[@]}" \
        > "$out/pg$v/job$j.out" 2>&1
}

rc=0
start=$(date +%s)
for v in ${pgs//,/ }; do
    pids=()
    for ((j = 0; j < jobs; j++)); do one "$v" "$j" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    cat "$out/pg$v"/job*.out | grep -E '^(seed|case) ' | sort -V > "$out/pg$v/summary"
    ok=$(grep -c ': ok' "$out/pg$v/summary" || true)
    bad=$(grep -c ': FAIL' "$out/pg$v/summary" || true)
    known=$(grep -c ': KNOWN' "$out/pg$v/summary" || true)
    echo "PostgreSQL $v: $ok held, $bad failed, $known known open findings ($(($(date +%s) - start)) s so far)"
    grep -E ': (FAIL|KNOWN)' "$out/pg$v/summary" | cut -c1-400 || true
done
exit $rc

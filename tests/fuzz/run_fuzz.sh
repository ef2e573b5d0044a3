#!/usr/bin/env bash
# run_fuzz.sh — build the libFuzzer target with clang and run it for a while.
#
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS [TARGET]
#
# TARGET is wal2json (default: fuzz_wal2json.c, corpus/, wal2json.dict) or
# replay_input (fuzz_replay_input.c with replay's parsers, corpus_replay/)
# or conninfo (fuzz_conninfo.c: connection strings checked and redacted,
# corpus_conninfo/, conninfo.dict) or pgoutput (fuzz_pgoutput.c: runs of
# pgoutput messages into core/pgoutput.c, corpus_pgoutput/).
# Built here rather than by CMake because the rest of the build uses gcc;
# libFuzzer needs clang. Sanitizers: address, undefined (leaks included).
# Exit status: 0 when the time ran out without a finding, non-zero otherwise
# (the crashing input is left in WORK_DIR and printed).
set -euo pipefail
src=$1 work=$2 secs=$3 target=${4:-wal2json}
corpus=corpus extra=() dict=()
case $target in
    wal2json) dict=(-dict="$src/tests/fuzz/wal2json.dict") ;;
    replay_input) corpus=corpus_replay; extra=("$src/replay/mapping.c") ;;
    conninfo) corpus=corpus_conninfo; dict=(-dict="$src/tests/fuzz/conninfo.dict") ;;
    pgoutput) corpus=corpus_pgoutput ;;
    *) echo "run_fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac
mkdir -p "$work/corpus"
cp "$src"/tests/fuzz/$corpus/* "$work/corpus/"
sed 's/@PROJECT_VERSION@/fuzz/' "$src/core/version.h.in" >"$work/version.h"
mkdir -p "$work/core" && mv "$work/version.h" "$work/core/version.h"
clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src" -I"$work" -I/usr/include/postgresql \
    "$src/tests/fuzz/fuzz_$target.c" \
    "$src"/core/*.c "${extra[@]}" \
    -lpq -lcrypto -o "$work/fuzz_$target"
cd "$work"
"./fuzz_$target" -max_total_time="$secs" -max_len=65536 -timeout=10 \
    "${dict[@]}" -print_final_stats=1 corpus 2>&1 | tail -n 25

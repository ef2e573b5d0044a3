#!/usr/bin/env bash
# build.sh — configure and build pgtrail; the programs land in build/bin/.
#
#   scripts/build.sh              release build with debug info, in build/
#   scripts/build.sh --sanitize   AddressSanitizer + UBSan build, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
    dir=build-asan
    opts+=(-DPGTRAIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"

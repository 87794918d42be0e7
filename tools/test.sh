#!/usr/bin/env bash
# The whole test suite: install what is missing, build with -Werror and run
# every test; then build with AddressSanitizer + UBSan and run every test
# again; then build the libFuzzer harnesses and run each briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)

echo "== normal build (-Wall -Wextra -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPW_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPW_WERROR=ON -DPW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== libFuzzer harnesses (short smoke run each)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPW_FUZZ=ON -DPW_WERROR=ON >/dev/null
fuzz_targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c; done)
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$jobs" --target $fuzz_targets
secs=${PW_FUZZ_SECONDS:-15}
fuzzed=0
for f in build-fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  echo "-- $f (${secs}s)"
  "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 2>&1 | tail -n 2
  fuzzed=$((fuzzed + 1))
done
echo "fuzz: $fuzzed harnesses ran ${secs}s each without a crash"

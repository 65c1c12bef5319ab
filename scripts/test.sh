#!/usr/bin/env bash
# Installs everything, then builds and runs the whole test suite:
#   1. unit tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   2. every test (unit + integration against the real binary) in the normal build.
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0
failed=0
status=0

run_ctest() {  # run_ctest <build-dir> <label regex>
  local out
  out=$(cd "$1" && ctest --output-on-failure -j2 --timeout 300 -L "$2" 2>&1)
  local rc=$?
  echo "$out"
  local line
  line=$(echo "$out" | grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" | tail -1)
  if [[ -z "$line" ]]; then
    failed=$((failed + 1))
    status=1
    return
  fi
  local total fail
  fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  passed=$((passed + total - fail))
  failed=$((failed + fail))
  [[ $rc -eq 0 ]] || status=1
}

echo "== sanitizer build (ASan + UBSan): unit tests"
if bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=ON \
     -DPARLEY_BUILD_BENCH=OFF -DPARLEY_BUILD_SERVER=OFF; then
  run_ctest build-asan unit
else
  echo "sanitizer build failed"; failed=$((failed + 1)); status=1
fi

echo "== normal build: unit and integration tests"
if bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  run_ctest build "unit|integration"
else
  echo "build failed"; failed=$((failed + 1)); status=1
fi

echo "${passed} passed, ${failed} failed"
exit $status

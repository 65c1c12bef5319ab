#!/usr/bin/env bash
# Smoke test of the benchmark scripts (bench/): each runs briefly against the built binaries
# and must pass its own checks and print every figure line. Their numbers are not checked:
# tests do not time things (bench/README.md has the figures).
#   bash test/integration/bench_smoke_test.sh <parley> <web_sessions_bench>
set -uo pipefail
parley=$1
generator=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

fail() {  # fail WHAT: print the benchmark's output and stop
  echo "FAIL: $1"
  cat "$out"
  exit 1
}
expect_lines() {  # expect_lines SCRIPT PATTERN…: every pattern matches a line of the output
  local script=$1 want
  shift
  for want in "$@"; do
    grep -qE "$want" "$out" || fail "$script printed no line matching '$want'"
  done
}

# Ingest: the custom channel at 4 connections, 2 s each for nginx and Parley. MAX_RPS sizes
# the signed bodies above what Parley can take in 2 s here (about 5 000/s).
PARLEY="$parley" DURATION=2 CONNECTIONS=4 CHANNELS=custom MAX_RPS=20000 \
  bash "$repo/bench/ingest.sh" >"$out" 2>&1 || fail "bench/ingest.sh exited with $?"
expect_lines bench/ingest.sh "^c=4 +nginx +custom" "^c=4 +parley +custom" \
  "store: [0-9]+ commits" "store time per commit, ms, mean" "CPU by thread, µs/msg: io" \
  "^OK: every answer 2xx"
echo "PASS bench/ingest.sh"

# Web sessions: 200 sessions, 100 of them sending 200 messages/s for 2 s, both processes on
# the first CPU this test may use.
source "$repo/bench/lib.sh"  # cpus_of
cpu=$(cpus_of $$ | sed 's/[,-].*//')
SESSIONS=200 ACTIVE=100 RATE=200 DURATION=2 PARLEY="$parley" GENERATOR="$generator" \
  PARLEY_CPUS=$cpu GENERATOR_CPUS=$cpu \
  bash "$repo/bench/web_sessions.sh" >"$out" 2>&1 || fail "bench/web_sessions.sh exited with $?"
expect_lines bench/web_sessions.sh "^  CPUs: parley on $cpu, generator on $cpu\$" \
  "open: 200 of 200 sessions" "ping: 400 sent" \
  "roundtrip: 400 sent at [0-9]+/s, 400 answered, 0 failed, 0 unanswered" \
  "store during the phases: [0-9]+ commits" "store time per commit, ms, mean" \
  "parley CPU by thread" "server RSS: .* KiB per session" "^OK: every session opened"
echo "PASS bench/web_sessions.sh"

# A CPU list naming a CPU the machine lacks is refused before anything starts, also when
# it names one it has.
for list in 4095 "$cpu,4095" "$cpu-4095" 3-1 x; do
  GENERATOR_CPUS=$list PARLEY="$parley" GENERATOR="$generator" \
    bash "$repo/bench/web_sessions.sh" >"$out" 2>&1 && fail "GENERATOR_CPUS=$list was accepted"
  expect_lines "bench/web_sessions.sh GENERATOR_CPUS=$list" \
    "^GENERATOR_CPUS: not a list of CPUs this process may use"
done
echo "PASS bench/web_sessions.sh refuses CPU lists the machine lacks"

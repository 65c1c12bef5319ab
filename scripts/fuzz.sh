#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) in build-fuzz and runs each for a
# fixed time:  scripts/fuzz.sh [seconds per target] [target…]
# Seeds come from ../shared/fixtures/providers/ (each provider's example payloads); the
# corpus grows in build-fuzz/corpus/<target>/ and findings land in build-fuzz/findings/. The
# script prints each target's executions and whether it found anything, and exits 1 on a
# finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || {
  echo "usage: scripts/fuzz.sh [seconds per target] [target…]" >&2
  exit 2
}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(whatsapp messenger instagram twilio telegram)
dir=build-fuzz
fixtures=../shared/fixtures/providers

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS= \
  -DCMAKE_CXX_COMPILER=clang++ -DPARLEY_FUZZ=ON >/dev/null
ninja -C "$dir" -j"${PARLEY_JOBS:-2}" "${targets[@]/%/_fuzz}" >"$dir.log" 2>&1 || {
  tail -n 40 "$dir.log" >&2
  exit 1
}

status=0
for t in "${targets[@]}"; do
  corpus=$dir/corpus/$t
  findings=$dir/findings/$t
  mkdir -p "$corpus" "$findings"
  # Seeds: the provider's fixtures (Instagram shares Messenger's envelope).
  case $t in
    whatsapp) seeds=("$fixtures"/whatsapp_*) ;;
    messenger | instagram) seeds=("$fixtures"/messenger_* "$fixtures"/instagram_*) ;;
    twilio) seeds=("$fixtures"/twilio_*) ;;
    telegram) seeds=("$fixtures"/telegram_*) ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
  for s in "${seeds[@]}"; do
    if [[ -f $s && ! -e $corpus/${s##*/} ]]; then cp "$s" "$corpus/"; fi
  done
  rm -f "$findings"/*  # this run's findings only
  log=$dir/findings/$t.log
  set +e
  "$dir/fuzz/${t}_fuzz" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(find "$findings" -type f | wc -l)
  printf '%-10s %8s s  %12s executions  %s findings  (corpus %s files)\n' "$t" "$seconds" \
    "$runs" "$found" "$(find "$corpus" -type f | wc -l)"
  if ((rc != 0 || found > 0)); then
    status=1
    echo "  see $log and $findings/" >&2
  fi
done
exit $status

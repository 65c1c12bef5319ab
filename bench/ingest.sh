#!/usr/bin/env bash
# Ingest benchmark: Parley's custom-channel webhook against an nginx static-200 baseline,
# in the same invocation, on the same machine. See bench/README.md.
#
#   bash bench/ingest.sh                                   # 10 s, 32 connections, 1 wrk thread
#   DURATION=10 CONNECTIONS="8 32 64" THREADS=1 bash bench/ingest.sh
#
# Environment (all optional):
#   DURATION       seconds per wrk run (default 10)
#   CONNECTIONS    space-separated wrk -c levels (default 32)
#   THREADS        wrk -t (default 1)
#   CUSTOMERS      distinct customers, hence conversations (default 20)
#   NGINX_WORKERS  nginx worker_processes (default 1)
#   DRAIN_TIMEOUT  seconds to wait for Parley's outbox to empty after a run (default 60)
#   MAX_RPS        cap on the Parley rate the generated messages are sized for (default 50000)
#   BODIES         number of signed messages per Parley run (default: sized from the
#                  baseline's rate, capped by MAX_RPS, times DURATION, plus 10 %)
#   WRK_TIMEOUT    wrk --timeout in seconds (default 5)
#   PARLEY         the parley binary (default ./build/src/parley, built if missing)
#   KEEP_TMP=1     keep the temp directory (logs, database, wrk outputs) for inspection
#   VERBOSE=1      also print wrk's own report for every run
#   PERF=1         sample Parley with `perf record` (cpu-clock, no call graphs) during each Parley
#                  run and print the hottest symbols and libraries (needs linux-perf)
#
# Exits 1 if any run saw a non-2xx answer, a socket error or timeout, a message that was
# acknowledged but not stored, or an outbox that did not drain in DRAIN_TIMEOUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
tool=(python3 "$here/bench_tool.py")

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
CUSTOMERS=${CUSTOMERS:-20}
NGINX_WORKERS=${NGINX_WORKERS:-1}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-60}
MAX_RPS=${MAX_RPS:-50000}
BODIES=${BODIES:-}
WRK_TIMEOUT=${WRK_TIMEOUT:-5}
KEEP_TMP=${KEEP_TMP:-0}
VERBOSE=${VERBOSE:-0}
PERF=${PERF:-0}

die() { echo "ingest.sh: $*" >&2; exit 1; }

# --- validate the knobs: every one is bounded so a run is bounded in time ----------------
is_int() { [[ $1 =~ ^[0-9]+$ ]] && (($2 <= $1 && $1 <= $3)); }
is_int "$DURATION" 1 600 || die "DURATION must be 1..600 seconds (got '$DURATION')"
is_int "$THREADS" 1 64 || die "THREADS must be 1..64 (got '$THREADS')"
is_int "$CUSTOMERS" 1 100000 || die "CUSTOMERS must be 1..100000 (got '$CUSTOMERS')"
is_int "$NGINX_WORKERS" 1 64 || die "NGINX_WORKERS must be 1..64 (got '$NGINX_WORKERS')"
is_int "$DRAIN_TIMEOUT" 1 3600 || die "DRAIN_TIMEOUT must be 1..3600 seconds"
is_int "$MAX_RPS" 100 1000000 || die "MAX_RPS must be 100..1000000"
is_int "$WRK_TIMEOUT" 1 60 || die "WRK_TIMEOUT must be 1..60 seconds"
[[ -z $BODIES ]] || is_int "$BODIES" 1 20000000 || die "BODIES must be 1..20000000"
read -r -a levels <<<"$CONNECTIONS"
((${#levels[@]} >= 1 && ${#levels[@]} <= 10)) || die "CONNECTIONS: give 1..10 levels"
for c in "${levels[@]}"; do
  is_int "$c" "$THREADS" 10000 || die "CONNECTIONS: each level must be THREADS..10000 (got '$c')"
done
# Signed timestamps must stay within Parley's 300 s replay window until the run ends.
((DURATION <= 250)) || die "DURATION must be at most 250 s (the signatures' replay window)"

tools=(wrk nginx sqlite3 python3 curl)
[[ $PERF == 1 ]] && tools+=(perf)
for cmd in "${tools[@]}"; do
  command -v "$cmd" >/dev/null || die "$cmd not found; run: bash scripts/setup.sh"
done

PARLEY=${PARLEY:-$repo/build/src/parley}
if [[ ! -x $PARLEY ]]; then
  echo "ingest.sh: $PARLEY missing; building a Release binary (several minutes)" >&2
  bash "$repo/scripts/build.sh" "$repo/build" -DCMAKE_BUILD_TYPE=Release \
    -DPARLEY_BUILD_TESTS=OFF -DPARLEY_BUILD_BENCH=OFF >&2
  PARLEY=$repo/build/src/parley
fi

# --- temp dir and cleanup ---------------------------------------------------------------
tmp=$(mktemp -d /tmp/parley-bench.XXXXXX)
nginx_pid=""
parley_pid=""

stop_pid() {  # stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL
  local pid=$1 sig=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop_pid "$parley_pid" TERM
  stop_pid "$nginx_pid" QUIT
  if [[ $KEEP_TMP == 1 ]]; then
    echo "ingest.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- nginx: the baseline and Parley's webhook sink --------------------------------------
nginx_port=$("${tool[@]}" free-port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $NGINX_WORKERS;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      default_type application/json;
      return 200 '{}';
    }
  }
}
EOF
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
  >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
nginx_url=http://127.0.0.1:$nginx_port
for _ in $(seq 50); do
  curl -sf -o /dev/null -X POST "$nginx_url/" && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/nginx/error.log" >&2; die "nginx exited"; }
  sleep 0.1
done
curl -sf -o /dev/null -X POST "$nginx_url/" || die "nginx did not answer on $nginx_url"

# --- parley -------------------------------------------------------------------------------
# Run a private copy so a rebuild of the binary during the benchmark cannot disturb it.
cp "$PARLEY" "$tmp/parley"
export PARLEY_ADMIN_TOKEN
PARLEY_ADMIN_TOKEN=bench-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
"$tmp/parley" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/parley.log" 2>&1 &
parley_pid=$!
parley_port=""
for _ in $(seq 100); do
  parley_port=$(sed -n 's/.*"event":"server.listening".*"port":\([0-9]*\).*/\1/p' \
    "$tmp/parley.log" | head -n1)
  [[ -n $parley_port ]] && break
  kill -0 "$parley_pid" 2>/dev/null || { cat "$tmp/parley.log" >&2; die "parley exited"; }
  sleep 0.1
done
[[ -n $parley_port ]] || { cat "$tmp/parley.log" >&2; die "parley did not start listening"; }
parley_url=http://127.0.0.1:$parley_port
db=$tmp/data/parley.db

while IFS='=' read -r key value; do
  case $key in
    CONNECTION_ID) CONNECTION_ID=$value ;;
    CONNECTION_SECRET) CONNECTION_SECRET=$value ;;
  esac
done < <("${tool[@]}" bootstrap "$parley_url" "$nginx_url/parley-events" || echo FAILED=1)
[[ -n ${CONNECTION_ID:-} && -n ${CONNECTION_SECRET:-} ]] || die "bootstrap failed"
export CONNECTION_SECRET
webhook_path=/v1/webhooks/$CONNECTION_ID

# --- helpers --------------------------------------------------------------------------------
sql_count() {  # sql_count TABLE: row count, read from the live WAL database
  timeout 20 sqlite3 -readonly -cmd '.timeout 5000' "$db" "SELECT count(*) FROM $1"
}
cpu_of() { "${tool[@]}" proc-cpu "$1"; }
bench_field() {  # bench_field FILE NAME: a value from the "BENCH k=v …" line of wrk's output
  sed -n 's/^BENCH .*\b'"$2"'=\([0-9.]*\).*/\1/p' "$1"
}
fmt_ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }

failures=()
run_wrk() {  # run_wrk NAME URL DATA CONNS: runs wrk, saves output, checks errors
  local name=$1 url=$2 data=$3 conns=$4 out="$tmp/wrk-$1.txt"
  BENCH_DATA=$data BENCH_PATH=$webhook_path BENCH_THREADS=$THREADS \
    timeout $((DURATION + 120)) wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" \
    --timeout "${WRK_TIMEOUT}s" --latency -s "$here/ingest.lua" "$url$webhook_path" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for $name"; }
  [[ $VERBOSE == 1 ]] && sed 's/^/    /' "$out"
  grep -q '^BENCH ' "$out" || { cat "$out" >&2; die "wrk printed no summary for $name"; }
  if grep -q 'Non-2xx or 3xx responses' "$out" || [[ $(bench_field "$out" status) != 0 ]]; then
    failures+=("$name: non-2xx answers ($(grep 'Non-2xx' "$out" | tr -s ' '))")
  fi
  local e errs=0
  for e in connect read write timeout; do errs=$((errs + $(bench_field "$out" "$e"))); done
  ((errs == 0)) || failures+=("$name: $errs socket errors/timeouts ($(grep 'Socket errors' "$out"))")
  ((errs == 0)) || echo "  WARNING $name: $errs socket errors/timeouts" >&2
}

printf 'ingest benchmark: %s, %s cores, wrk -t%s -d%ss, nginx %s worker(s), %s customers\n' \
  "$(uname -m)" "$(nproc)" "$THREADS" "$DURATION" "$NGINX_WORKERS" "$CUSTOMERS"
printf 'parley %s (pid %s), nginx %s (pid %s)\n\n' "$parley_url" "$parley_pid" "$nginx_url" \
  "$nginx_pid"

# One baseline data file for every level: nginx does not care about repeated ids.
"${tool[@]}" gen "$tmp/baseline.tsv" 20000 baseline "$CUSTOMERS"
nginx_workers=$(cat "/proc/$nginx_pid/task/$nginx_pid/children" 2>/dev/null || true)

summary=()
for conns in "${levels[@]}"; do
  # --- baseline ---
  nginx_cpu0=0
  for w in $nginx_workers; do nginx_cpu0=$(awk -v a="$nginx_cpu0" -v b="$(cpu_of "$w")" 'BEGIN{print a+b}'); done
  run_wrk "nginx-c$conns" "$nginx_url" "$tmp/baseline.tsv" "$conns"
  nginx_cpu1=0
  for w in $nginx_workers; do nginx_cpu1=$(awk -v a="$nginx_cpu1" -v b="$(cpu_of "$w")" 'BEGIN{print a+b}'); done
  b_out=$tmp/wrk-nginx-c$conns.txt
  b_req=$(bench_field "$b_out" requests)
  b_rps=$(awk -v r="$b_req" -v d="$(bench_field "$b_out" duration_us)" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
  b_cpu_us=$(awk -v a="$nginx_cpu0" -v b="$nginx_cpu1" -v n="$b_req" 'BEGIN{printf "%.1f", (b - a) * 1e6 / n}')

  # --- parley: fresh signatures (replay window) and ids unique across levels ---
  if [[ -n $BODIES ]]; then
    count=$BODIES
  else
    count=$(awk -v r="$b_rps" -v cap="$MAX_RPS" -v d="$DURATION" \
      'BEGIN{ if (r > cap) r = cap; printf "%d", r * d * 1.1 + 2000 }')
  fi
  "${tool[@]}" gen "$tmp/parley-c$conns.tsv" "$count" "c$conns-$RANDOM" "$CUSTOMERS"
  outbox0=$(sql_count outbox)
  [[ $outbox0 == 0 ]] || failures+=("parley-c$conns: outbox not empty before the run ($outbox0)")
  msgs0=$(sql_count messages)
  dedupe0=$(sql_count inbound_dedupe)
  cpu0=$(cpu_of "$parley_pid")
  perf_pid=""
  if [[ $PERF == 1 ]]; then
    # cpu-clock sampling works in VMs without hardware counters; the recorder itself takes
    # some CPU from the shared cores, so PERF=1 figures are not the benchmark's figures.
    timeout $((DURATION + 30)) perf record -q -F 499 -e cpu-clock -p "$parley_pid" \
      -o "$tmp/perf-c$conns.data" -- sleep "$DURATION" >"$tmp/perf-c$conns.log" 2>&1 &
    perf_pid=$!
  fi
  run_wrk "parley-c$conns" "$parley_url" "$tmp/parley-c$conns.tsv" "$conns"
  [[ -z $perf_pid ]] || wait "$perf_pid" || failures+=("perf record failed: $tmp/perf-c$conns.log")
  load_end=$(date +%s.%N)
  cpu_load=$(cpu_of "$parley_pid")
  p_out=$tmp/wrk-parley-c$conns.txt

  # --- drain: every acknowledged message delivered to the sink ---
  drained=0
  deadline=$(($(date +%s) + DRAIN_TIMEOUT))
  while (($(date +%s) < deadline)); do
    if [[ $(sql_count outbox) == 0 ]]; then drained=1; break; fi
    sleep 0.2
  done
  drain_s=$(awk -v a="$load_end" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
  cpu1=$(cpu_of "$parley_pid")
  ((drained)) || failures+=("parley-c$conns: outbox still has $(sql_count outbox) rows after ${DRAIN_TIMEOUT}s")

  # --- checks: acknowledged <= stored <= sent (requests in flight when wrk stops may be
  # stored without wrk counting their answer) ---
  p_req=$(bench_field "$p_out" requests)
  p_sent=$(bench_field "$p_out" sent)
  p_wrapped=$(bench_field "$p_out" wrapped)
  stored=$(($(sql_count messages) - msgs0))
  deduped=$(($(sql_count inbound_dedupe) - dedupe0))
  ((p_wrapped == 0)) || failures+=("parley-c$conns: ran out of the $count messages ($p_wrapped repeats); raise MAX_RPS or BODIES")
  ((p_req <= stored && stored <= p_sent)) ||
    failures+=("parley-c$conns: $p_req acknowledged, $p_sent sent, but $stored messages stored")
  ((deduped == stored)) ||
    failures+=("parley-c$conns: $stored messages stored but $deduped dedupe keys")

  p_rps=$(awk -v r="$p_req" -v d="$(bench_field "$p_out" duration_us)" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
  ratio=$(awk -v p="$p_rps" -v b="$b_rps" 'BEGIN{printf "%.1f", 100 * p / b}')
  cpu_msg=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$stored" 'BEGIN{printf "%.1f", n ? (b - a) * 1e6 / n : 0}')
  cpu_load_msg=$(awk -v a="$cpu0" -v b="$cpu_load" -v n="$stored" 'BEGIN{printf "%.1f", n ? (b - a) * 1e6 / n : 0}')

  printf 'c=%-4s nginx  %8s req/s  p50 %9s  p99 %9s  nginx CPU %s µs/req\n' "$conns" "$b_rps" \
    "$(fmt_ms "$(bench_field "$b_out" p50_us)")" "$(fmt_ms "$(bench_field "$b_out" p99_us)")" \
    "$b_cpu_us"
  printf 'c=%-4s parley %8s req/s  p50 %9s  p99 %9s  = %s %% of nginx\n' "$conns" "$p_rps" \
    "$(fmt_ms "$(bench_field "$p_out" p50_us)")" "$(fmt_ms "$(bench_field "$p_out" p99_us)")" \
    "$ratio"
  printf '       parley CPU %s µs/msg (%s µs under load + drain %s s); stored %s of %s acknowledged (%s sent)\n\n' \
    "$cpu_msg" "$cpu_load_msg" "$drain_s" "$stored" "$p_req" "$p_sent"
  if [[ $PERF == 1 && -s $tmp/perf-c$conns.data ]]; then
    echo "  perf, parley at c=$conns: share of samples by library, then by symbol (self)"
    perf report -i "$tmp/perf-c$conns.data" --no-children --sort dso --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -n 8 | sed 's/^/  /'
    perf report -i "$tmp/perf-c$conns.data" --no-children --sort sym --stdio -g none \
      2>/dev/null | grep -E '^ +[0-9]' | head -n 25 | cut -c1-120 | sed 's/^/  /'
    echo
  fi
  summary+=("$(printf '%-6s %10s %10s %7s %% %10s %10s %10s %9s s %10s' "$conns" "$b_rps" \
    "$p_rps" "$ratio" "$(fmt_ms "$(bench_field "$p_out" p50_us)")" \
    "$(fmt_ms "$(bench_field "$p_out" p99_us)")" "$cpu_msg" "$drain_s" "$stored")")
done

printf '%-6s %10s %10s %9s %10s %10s %10s %11s %10s\n' conns "nginx/s" "parley/s" ratio \
  "parley p50" "parley p99" "CPU µs/msg" drain stored
printf '%s\n' "${summary[@]}"

if ((${#failures[@]})); then
  echo
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  tail -n 20 "$tmp/parley.log" | grep -v '"level":"info"' >&2 || true
  exit 1
fi
echo
echo "OK: every answer 2xx, no socket errors, every acknowledged message stored and delivered"

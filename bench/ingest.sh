#!/usr/bin/env bash
# Ingest benchmark: Parley's inbound webhooks (custom channel, WhatsApp Cloud API, Messenger;
# signed, one realistic text message per webhook) against an nginx static-200 baseline, in
# the same invocation, on the same machine. For each connection level: the nginx baseline
# once, then one Parley run per channel; each run reports messages/s, p50/p99 and its ratio
# to that level's baseline. See bench/README.md.
#
#   bash bench/ingest.sh                                   # 10 s, 32 connections, 1 wrk thread
#   DURATION=10 CONNECTIONS="8 32 64" THREADS=1 bash bench/ingest.sh
#   CHANNELS=whatsapp DURATION=5 bash bench/ingest.sh      # one channel only
#
# Environment (all optional):
#   DURATION       seconds per wrk run (default 10)
#   CONNECTIONS    space-separated wrk -c levels (default 32)
#   CHANNELS       space-separated channels to measure, in this order, each one of custom,
#                  whatsapp, messenger (default "custom whatsapp messenger"). The baseline
#                  sends the selected channels' requests interleaved.
#   THREADS        wrk -t (default 1)
#   CUSTOMERS      distinct customers, hence conversations (default 20)
#   NGINX_WORKERS  nginx worker_processes (default 1)
#   DRAIN_TIMEOUT  seconds to wait for Parley to deliver everything after a run (default 60)
#   MAX_RPS        cap on the Parley rate the generated messages are sized for (default 50000)
#   BODIES         number of signed webhooks per Parley run (default: sized from the
#                  baseline's rate, capped by MAX_RPS, times DURATION, plus 10 %)
#   WRK_TIMEOUT    wrk --timeout in seconds (default 5)
#   START_TIMEOUT  seconds to wait for `parley serve` to listen (default 10; more when PARLEY
#                  is a wrapper that runs it under valgrind)
#   PARLEY         the parley binary (default ./build/src/parley, built if missing)
#   KEEP_TMP=1     keep the temp directory (logs, database, wrk outputs) for inspection
#   VERBOSE=1      also print wrk's own report for every run
#   PERF=1         sample Parley with `perf record` (cpu-clock, no call graphs) during each Parley
#                  run and print the hottest symbols and libraries (needs linux-perf)
#   PERF=graph     the same with DWARF call graphs, and the share of samples by thread; keep
#                  the data with KEEP_TMP=1 and read it with
#                  `perf report -i <tmp>/perf-<channel>-c<N>.data`
#   PERF=fp        frame-pointer call graphs at 499 Hz: for a binary built with
#                  -fno-omit-frame-pointer (far cheaper to record and complete for Parley's own
#                  code; library frames without frame pointers are cut short)
#
# Before the load, each channel's signing is checked with curl: one generated request must
# answer 200 and store one message, the same body with a wrong signature must answer 401.
#
# Exits 1 if the signing check fails, or any run saw a non-2xx answer, a socket error or
# timeout, a message that was acknowledged but not stored (or stored more than sent), not
# one dedupe key per stored message, used up its data file, dead letters, or deliveries
# still pending after DRAIN_TIMEOUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
repo=$(cd "$here/.." && pwd)
tool=(python3 "$here/bench_tool.py")

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
CHANNELS=${CHANNELS:-custom whatsapp messenger}
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
read -r -a channels <<<"$CHANNELS"
((${#channels[@]} >= 1 && ${#channels[@]} <= 3)) || die "CHANNELS: give 1..3 channels"
for ch in "${channels[@]}"; do
  [[ $ch == custom || $ch == whatsapp || $ch == messenger ]] ||
    die "CHANNELS: each must be custom, whatsapp or messenger (got '$ch')"
done
[[ $(printf '%s\n' "${channels[@]}" | sort | uniq -d) == "" ]] || die "CHANNELS: a channel is repeated"
# Signed timestamps must stay within Parley's 300 s replay window until the run ends.
((DURATION <= 250)) || die "DURATION must be at most 250 s (the signatures' replay window)"

tools=(wrk nginx sqlite3 python3 curl)
[[ $PERF != 0 ]] && tools+=(perf)
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
PARLEY=$(realpath "$PARLEY")

# --- temp dir and cleanup ---------------------------------------------------------------
tmp=$(mktemp -d /tmp/parley-bench.XXXXXX)
cd "$tmp"
nginx_pid=""
parley_pid=""

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
for _ in $(seq $((${START_TIMEOUT:-10} * 10))); do
  parley_port=$(sed -n 's/.*"event":"server.listening".*"port":\([0-9]*\).*/\1/p' \
    "$tmp/parley.log" | head -n1)
  [[ -n $parley_port ]] && break
  kill -0 "$parley_pid" 2>/dev/null || { cat "$tmp/parley.log" >&2; die "parley exited"; }
  sleep 0.1
done
[[ -n $parley_port ]] || { cat "$tmp/parley.log" >&2; die "parley did not start listening"; }
parley_url=http://127.0.0.1:$parley_port
db=$tmp/data/parley.db

# One tenant, one endpoint (the sink) and three connections: custom, whatsapp, messenger.
# The Meta connections' api_base_url is the sink too, so no Graph call leaves the machine.
declare -A webhook_path=()
declare -A identity_of=()
while IFS='=' read -r key value; do
  case $key in
    CUSTOM_ID | WHATSAPP_ID | MESSENGER_ID)
      ch=${key%_ID}
      webhook_path[${ch,,}]=/v1/webhooks/$value ;;
    CUSTOM_SECRET | WHATSAPP_SECRET | MESSENGER_SECRET)
      # bench_tool.py gen reads <CHANNEL>_SECRET and <CHANNEL>_IDENTITY.
      export "$key=$value" ;;
    CUSTOM_IDENTITY | WHATSAPP_IDENTITY | MESSENGER_IDENTITY)
      export "$key=$value"
      ch=${key%_IDENTITY}
      identity_of[${ch,,}]=$value ;;
  esac
done < <("${tool[@]}" bootstrap "$parley_url" "$nginx_url/parley-events" || echo FAILED=1)
for ch in custom whatsapp messenger; do
  secret_var=${ch^^}_SECRET
  [[ -n ${webhook_path[$ch]:-} && -n ${!secret_var:-} ]] || die "bootstrap failed ($ch)"
done
[[ -n ${identity_of[whatsapp]:-} && -n ${identity_of[messenger]:-} ]] || die "bootstrap failed"

# --- helpers --------------------------------------------------------------------------------
sql_count() {  # sql_count TABLE: row count, read from the live WAL database
  timeout 20 sqlite3 -readonly -cmd '.timeout 5000' "$db" "SELECT count(*) FROM $1"
}
pending_count() {  # deliveries not made yet: outbox rows, and events after a webhook cursor
  timeout 20 sqlite3 -readonly -cmd '.timeout 5000' "$db" \
    "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM webhook_cursors c
       JOIN events e ON e.tenant_id = c.tenant_id AND e.seq > c.after_seq)"
}
metric_of() {  # metric_of NAME: a sample of Parley's /metrics (0 if absent)
  curl -sf "$parley_url/metrics" | awk -v n="$1" '$1 == n { printf "%d", $2; found = 1 } END { if (!found) print 0 }'
}
ticks_of() {  # ticks_of PID…: utime+stime of the processes, in clock ticks
  local pid stat total=0
  local -a f
  for pid in "$@"; do
    read -r stat <"/proc/$pid/stat" || continue
    # The command name may hold spaces; the fields after it start at "state" (field 3).
    read -r -a f <<<"${stat##*) }"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
bench_field() {  # bench_field FILE NAME: a value from the "BENCH k=v …" line of wrk's output
  sed -n 's/^BENCH .*\b'"$2"'=\([0-9.]*\).*/\1/p' "$1"
}
# calc 'printf "%.1f", (1 / 3)': parenthesize printf's arguments, or a ">" in them redirects.
calc() { awk "BEGIN { $1 }"; }
fmt_ms() { calc "printf \"%.2f ms\", $1 / 1000"; }
clk_tck=$(getconf CLK_TCK)

failures=()
others_max=0
stolen_max=0
# run_wrk NAME URL PATH DATA CONNS PIDS: runs wrk, saves its output in $tmp/wrk-NAME.txt,
# checks errors, and sets: rps, p50, p99, requests, server_ticks (PIDS' CPU during the run),
# others_cores (CPU used by processes other than wrk and PIDS, in cores: a busy machine) and
# stolen_cores (CPU the hypervisor gave elsewhere: a busy host).
run_wrk() {
  local name=$1 url=$2 path=$3 data=$4 conns=$5 out="$tmp/wrk-$1.txt"
  local -a pids
  read -r -a pids <<<"$6"
  local m0 m1 s0 s1 w0 w1 t0 t1 st0 st1
  t0=$(date +%s.%N)
  m0=$(machine_ticks)
  st0=$(steal_ticks)
  s0=$(ticks_of "${pids[@]}")
  children_ticks_to w0
  BENCH_DATA=$data BENCH_PATH=$path BENCH_THREADS=$THREADS \
    timeout $((DURATION + 120)) wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" \
    --timeout "${WRK_TIMEOUT}s" --latency -s "$here/ingest.lua" "$url$path" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for $name"; }
  children_ticks_to w1
  s1=$(ticks_of "${pids[@]}")
  m1=$(machine_ticks)
  st1=$(steal_ticks)
  t1=$(date +%s.%N)
  if [[ $VERBOSE == 1 ]]; then sed 's/^/    /' "$out"; fi
  grep -q '^BENCH ' "$out" || { cat "$out" >&2; die "wrk printed no summary for $name"; }
  if grep -q 'Non-2xx or 3xx responses' "$out" || [[ $(bench_field "$out" status) != 0 ]]; then
    failures+=("$name: non-2xx answers ($(grep 'Non-2xx' "$out" | tr -s ' '))")
  fi
  local e errs=0
  for e in connect read write timeout; do errs=$((errs + $(bench_field "$out" "$e"))); done
  ((errs == 0)) || failures+=("$name: $errs socket errors/timeouts ($(grep 'Socket errors' "$out"))")
  requests=$(bench_field "$out" requests)
  rps=$(calc "printf \"%.0f\", $requests / ($(bench_field "$out" duration_us) / 1e6)")
  p50=$(bench_field "$out" p50_us)
  p99=$(bench_field "$out" p99_us)
  server_ticks=$((s1 - s0))
  local wrk_ticks=$((w1 - w0))
  # Over the whole window, which includes wrk loading its data file before its clock starts.
  others_cores=$(calc "o = ($m1 - $m0 - $server_ticks - $wrk_ticks) / $clk_tck / ($t1 - $t0);
    printf \"%.2f\", (o < 0 ? 0 : o)")
  others_max=$(calc "printf \"%.2f\", ($others_cores > $others_max ? $others_cores : $others_max)")
  stolen_cores=$(calc "printf \"%.2f\", ($st1 - $st0) / $clk_tck / ($t1 - $t0)")
  stolen_max=$(calc "printf \"%.2f\", ($stolen_cores > $stolen_max ? $stolen_cores : $stolen_max)")
}
per_msg_us() { calc "printf \"%.1f\", ($2 ? $1 * 1e6 / $clk_tck / $2 : 0)"; }  # TICKS COUNT

wait_drained() {  # wait_drained: 0 once nothing is pending, 1 after DRAIN_TIMEOUT
  local deadline=$(($(date +%s) + DRAIN_TIMEOUT))
  while (($(date +%s) < deadline)); do
    [[ $(pending_count) == 0 ]] && return 0
    sleep 0.2
  done
  return 1
}

# probe_channel CHANNEL: checks the generated signing with curl before any load. One generated
# request must answer 200 and store exactly one message; the same body with a wrong signature
# (last hex digit changed) must answer 401 and store nothing.
probe_channel() {
  local ch=$1 file="$tmp/probe-$1.tsv" name value body bad code before after
  local url=$parley_url${webhook_path[$1]}
  "${tool[@]}" gen "$file" 1 "probe-$ch-$RANDOM" "$CUSTOMERS" "$ch"
  IFS=$'\t' read -r name value body <"$file"
  printf '%s' "$body" >"$tmp/probe-$ch.json"
  before=$(sql_count messages)
  code=$(curl -s -o "$tmp/probe-$ch.out" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -H "$name: $value" \
    --data-binary "@$tmp/probe-$ch.json" "$url") || true
  after=$(sql_count messages)
  if [[ $code != 200 || $after != $((before + 1)) ]]; then
    echo "ingest.sh: $ch: answer $code: $(head -c 300 "$tmp/probe-$ch.out")" >&2
    tail -n 5 "$tmp/parley.log" >&2
    die "$ch: a signed request gave HTTP $code and stored $((after - before)) messages (want 200, 1)"
  fi
  if [[ ${value: -1} == 0 ]]; then bad=${value%?}1; else bad=${value%?}0; fi
  code=$(curl -s -o "$tmp/probe-$ch.bad" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -H "$name: $bad" \
    --data-binary "@$tmp/probe-$ch.json" "$url") || true
  before=$after
  after=$(sql_count messages)
  [[ $code == 401 && $after == "$before" ]] ||
    die "$ch: a wrong signature gave HTTP $code and stored $((after - before)) messages (want 401, 0)"
  printf 'signing %-9s %s: signed 200, 1 message stored; wrong signature 401, nothing stored\n' \
    "$ch" "$name"
}

printf 'ingest benchmark: %s, %s cores, wrk -t%s -d%ss, nginx %s worker(s), %s customers\n' \
  "$(uname -m)" "$(nproc)" "$THREADS" "$DURATION" "$NGINX_WORKERS" "$CUSTOMERS"
printf 'parley %s (pid %s), nginx %s (pid %s); load average before: %s\n' "$parley_url" \
  "$parley_pid" "$nginx_url" "$nginx_pid" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'channels: %s (whatsapp phone_number_id %s, messenger page_id %s)\n' "${channels[*]}" \
  "${identity_of[whatsapp]}" "${identity_of[messenger]}"
for ch in "${channels[@]}"; do probe_channel "$ch"; done
wait_drained || die "the signing checks' messages were not delivered within ${DRAIN_TIMEOUT}s"
echo

# One baseline data file for every level: nginx does not care about repeated ids. It holds
# the selected channels' requests interleaved line by line, so the baseline answers the same
# mix of requests (headers, sizes) as the Parley runs together.
per_channel=$(((20000 + ${#channels[@]} - 1) / ${#channels[@]}))
baseline_parts=()
for ch in "${channels[@]}"; do
  "${tool[@]}" gen "$tmp/baseline-$ch.tsv" "$per_channel" "baseline-$ch" "$CUSTOMERS" "$ch"
  baseline_parts+=("$tmp/baseline-$ch.tsv")
done
paste -d '\n' "${baseline_parts[@]}" >"$tmp/baseline.tsv"
baseline_label=mixed
((${#channels[@]} == 1)) && baseline_label=${channels[0]}
nginx_pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr "\n" " ")"

summary=()
for conns in "${levels[@]}"; do
  # --- baseline: nginx answering the same requests, once per level ---
  run_wrk "nginx-c$conns" "$nginx_url" "${webhook_path[${channels[0]}]}" "$tmp/baseline.tsv" \
    "$conns" "$nginx_pids"
  b_rps=$rps
  printf 'c=%-4s nginx  %-9s %7s req/s  p50 %9s  p99 %9s  nginx CPU  %5s µs/req; others used %s cores, steal %s cores\n' \
    "$conns" "$baseline_label" "$rps" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" \
    "$(per_msg_us "$server_ticks" "$requests")" "$others_cores" "$stolen_cores"

  for ch in "${channels[@]}"; do
    run=parley-$ch-c$conns
    data=$tmp/$run.tsv
    # --- parley: fresh signatures (replay window) and ids unique across levels and runs ---
    if [[ -n $BODIES ]]; then
      count=$BODIES
    else
      count=$(calc "r = $b_rps; if (r > $MAX_RPS) r = $MAX_RPS; printf \"%d\", r * $DURATION * 1.1 + 2000")
    fi
    "${tool[@]}" gen "$data" "$count" "$ch-c$conns-$RANDOM$RANDOM" "$CUSTOMERS" "$ch"
    pending0=$(pending_count)
    [[ $pending0 == 0 ]] || failures+=("$run: $pending0 deliveries pending before the run")
    msgs0=$(sql_count messages)
    dedupe0=$(sql_count inbound_dedupe)
    commits0=$(metric_of parley_store_commits_total)
    writes0=$(metric_of parley_store_writes_total)
    curl -sf --max-time 5 "$parley_url/metrics" >"$tmp/metrics0" || true
    cpu0=$(ticks_of "$parley_pid")
    thread_ticks "$parley_pid" >"$tmp/threads0"
    perf_pid=""
    if [[ $PERF != 0 ]]; then
      # cpu-clock sampling works in VMs without hardware counters; the recorder itself takes
      # some CPU from the shared cores, so PERF=1 figures are not the benchmark's figures.
      perf_args=(-F 499)
      [[ $PERF == graph ]] && perf_args=(-F 199 --call-graph dwarf,16384)
      [[ $PERF == fp ]] && perf_args=(-F 499 --call-graph fp)
      timeout $((DURATION + 30)) perf record -q "${perf_args[@]}" -e cpu-clock -p "$parley_pid" \
        -o "$tmp/perf-$ch-c$conns.data" -- sleep "$DURATION" >"$tmp/perf-$ch-c$conns.log" 2>&1 &
      perf_pid=$!
    fi
    run_wrk "$run" "$parley_url" "${webhook_path[$ch]}" "$data" "$conns" "$parley_pid"
    load_end=$(date +%s.%N)
    if [[ -n $perf_pid ]]; then
      wait "$perf_pid" || failures+=("perf record failed: $tmp/perf-$ch-c$conns.log")
    fi
    [[ $KEEP_TMP == 1 ]] || rm -f "$data"
    p_out=$tmp/wrk-$run.txt

    # --- drain: wait until every acknowledged message was delivered to the sink ---
    drained=0
    wait_drained && drained=1
    drain_s=$(calc "printf \"%.1f\", $(date +%s.%N) - $load_end")
    cpu1=$(ticks_of "$parley_pid")
    thread_ticks "$parley_pid" >"$tmp/threads1"
    commits=$(($(metric_of parley_store_commits_total) - commits0))
    writes=$(($(metric_of parley_store_writes_total) - writes0))
    curl -sf --max-time 5 "$parley_url/metrics" >"$tmp/metrics1" || true
    ((drained)) ||
      failures+=("$run: $(pending_count) deliveries still pending after ${DRAIN_TIMEOUT}s")

    # --- checks: acknowledged <= stored <= sent (a request in flight when wrk stops may be
    # stored without wrk counting its answer), and one dedupe key per stored message ---
    sent=$(bench_field "$p_out" sent)
    wrapped=$(bench_field "$p_out" wrapped)
    stored=$(($(sql_count messages) - msgs0))
    deduped=$(($(sql_count inbound_dedupe) - dedupe0))
    ((wrapped == 0)) ||
      failures+=("$run: used up the $count messages ($wrapped repeats); raise MAX_RPS or BODIES")
    ((requests <= stored && stored <= sent)) ||
      failures+=("$run: $requests answered, $sent sent, but $stored messages stored")
    ((deduped == stored)) ||
      failures+=("$run: $stored messages stored but $deduped dedupe keys")
    dead=$(sql_count dead_letters)
    ((dead == 0)) || failures+=("$run: $dead dead letters (deliveries given up)")

    # One message per webhook: acknowledged requests/s are acknowledged messages/s.
    ratio=$(calc "printf \"%.1f\", 100 * $rps / $b_rps")
    cpu_msg=$(per_msg_us $((cpu1 - cpu0)) "$stored")
    printf 'c=%-4s parley %-9s %7s msg/s  p50 %9s  p99 %9s  parley CPU %5s µs/msg; others used %s cores, steal %s cores\n' \
      "$conns" "$ch" "$rps" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" \
      "$(per_msg_us "$server_ticks" "$requests")" "$others_cores" "$stolen_cores"
    printf '       parley/nginx %s %%; parley CPU with the drain %s µs/msg; delivered %s s after the load; stored %s of %s acknowledged (%s sent)\n' \
      "$ratio" "$cpu_msg" "$drain_s" "$stored" "$requests" "$sent"
    printf '       store: %s commits, %s writes (%s writes and %s messages per commit)\n' \
      "$commits" "$writes" "$(calc "printf \"%.1f\", $writes / ($commits + ($commits == 0))")" \
      "$(calc "printf \"%.1f\", $stored / ($commits + ($commits == 0))")"
    store_times "$tmp/metrics0" "$tmp/metrics1" | sed 's/^/       /'
    # CPU per stored message by thread (load and drain): which thread limits the rate.
    printf '       CPU by thread, µs/msg:%s\n' "$(join "$tmp/threads0" "$tmp/threads1" |
      awk -v n="$stored" -v hz="$clk_tck" '$3 > $2 { printf " %s %.1f", $1, ($3 - $2) * 1e6 / hz / (n ? n : 1) }')"
    if [[ $PERF != 0 && -s $tmp/perf-$ch-c$conns.data ]]; then
      echo "  perf, parley $ch at c=$conns: share of samples by thread, by library, then by symbol (self)"
      perf report -i "$tmp/perf-$ch-c$conns.data" --no-children --sort comm --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 8 | sed 's/^/  /'
      perf report -i "$tmp/perf-$ch-c$conns.data" --no-children --sort dso --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 8 | sed 's/^/  /'
      perf report -i "$tmp/perf-$ch-c$conns.data" --no-children --sort sym --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 25 | cut -c1-120 | sed 's/^/  /'
    fi
    summary+=("$(printf '%-6s %-9s %9s %9s %6s %% %10s %10s %11s %8s s %9s' "$conns" "$ch" \
      "$b_rps" "$rps" "$ratio" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" "$cpu_msg" "$drain_s" \
      "$stored")")
  done
  echo
done

printf '%-6s %-9s %9s %9s %8s %10s %10s %11s %10s %9s\n' conns channel "nginx/s" "msg/s" ratio \
  "parley p50" "parley p99" "CPU µs/msg" delivered stored
printf '%s\n' "${summary[@]}"

if calc "exit !($others_max > 0.2)"; then
  echo
  echo "NOTE: other processes used up to $others_max cores during a run: the machine was not" \
    "idle, so these figures understate both servers."
fi
if calc "exit !($stolen_max > 0.1)"; then
  echo
  echo "NOTE: the hypervisor took up to $stolen_max cores from this VM during a run (steal" \
    "time): the host was busy, so these figures understate both servers."
fi
if ((${#failures[@]})); then
  echo
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  grep -v '"level":"info"\|\[info\]' "$tmp/parley.log" | tail -n 20 >&2 || true
  exit 1
fi
echo
echo "OK: every answer 2xx, no socket errors, every acknowledged message stored and delivered"

-- wrk script for bench/ingest.sh: POSTs pre-signed webhooks (custom, WhatsApp, Messenger).
--
-- Environment (set by ingest.sh):
--   BENCH_DATA     file of "<header name>\t<header value>\t<body>" lines (bench_tool.py gen):
--                  the signature header (Parley-Signature, X-Hub-Signature-256) and the body
--   BENCH_PATH     request path, /v1/webhooks/<connection>
--   BENCH_THREADS  the -t given to wrk: thread k of n sends lines k, k+n, k+2n, …
--                  so no two threads send the same id.
--
-- Each request is formatted once, in init(), so request() costs the same for the baseline
-- and for Parley. When a thread runs out of lines it starts over and counts the wrap: the
-- repeated ids are duplicates that Parley answers 200 without storing, so ingest.sh fails a
-- Parley run that wrapped. done() prints one machine-readable "BENCH …" line.

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0
sent = 0     -- read by done() through thread:get
wrapped = 0

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local path = os.getenv("BENCH_PATH")
  local data = os.getenv("BENCH_DATA")
  assert(path and data, "BENCH_PATH and BENCH_DATA must be set")
  local line_no = 0
  for line in io.lines(data) do
    if line_no % nthreads == tid then
      local tab1 = line:find("\t", 1, true)
      local tab2 = tab1 and line:find("\t", tab1 + 1, true)
      assert(tab2, "bad data line " .. line_no)
      local headers = {
        ["Content-Type"] = "application/json",
        [line:sub(1, tab1 - 1)] = line:sub(tab1 + 1, tab2 - 1),
      }
      n = n + 1
      reqs[n] = wrk.format("POST", path, headers, line:sub(tab2 + 1))
    end
    line_no = line_no + 1
  end
  assert(n > 0, "no requests for thread " .. tid)
end

function request()
  i = i + 1
  if i > n then
    i = 1
    wrapped = wrapped + 1
  end
  sent = sent + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local total_sent, total_wrapped = 0, 0
  for _, t in ipairs(threads) do
    total_sent = total_sent + t:get("sent")
    total_wrapped = total_wrapped + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d sent=%d wrapped=%d connect=%d read=%d" ..
    " write=%d status=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes, total_sent, total_wrapped,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end

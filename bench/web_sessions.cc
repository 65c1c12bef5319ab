// bench/web_sessions.cc
//
// Load generator of bench/web_sessions.sh (see bench/README.md): opens N web chat widget
// sessions (docs/channels/web.md) to one Parley, signals when they are all open so the script
// can read the server's memory, then measures two round trips at a fixed rate, open loop:
//   1. baseline: `ping` -> `pong` on the widget socket alone;
//   2. customer -> client application -> customer: a widget `message`, seen as a
//      `message.created` event on /v1/stream, answered by POST /v1/conversations/{id}/messages,
//      back at the widget as a `message` frame.
//
//   web_sessions_bench --port=8080 --connection=ch_… --origin=http://bench.local
//       --api-key=pk_….… --sessions=10000 --rate=5000 --duration=10 --wait-signal
//
// Prints human-readable lines and one `RESULT key=value …` line; exits 1 when errors exceed
// --max-error-pct, 2 on bad arguments. Single thread, one io_context; every wait is bounded.
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using WebSocket = websocket::stream<beast::tcp_stream>;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
Clock::time_point AtNs(int64_t ns) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string connection, origin, api_key;
  int sessions = 1000;
  int concurrency = 200;  // handshakes in flight
  int local_addrs = 0;    // 0 = one per 7 000 sessions (a quarter of the usual port range)
  int active = 500;       // sessions that send during the round-trip phases
  int rate = 5000;        // frames per second, all active sessions together; 0 = no phases
  int duration_s = 10;
  int drain_s = 10;          // how long to wait for answers after the last send
  int http_conns = 64;       // the client application's connections, one request in flight each
  bool wait_signal = false;  // after opening, wait for SIGUSR1 (else settle_s)
  int wait_timeout_s = 600;
  int settle_s = 0;
  int open_timeout_s = 10;  // connect + handshake + welcome, per session
  int http_timeout_s = 10;
  int server_pid = 0;  // for CPU time per phase
  double max_error_pct = 1.0;
};

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options o;
  std::map<std::string, std::function<bool(const std::string&)>> keys;
  auto num = [](int& out, int lo, int hi) {
    return [&out, lo, hi](const std::string& v) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      return ec == std::errc() && p == v.data() + v.size() && out >= lo && out <= hi;
    };
  };
  auto str = [](std::string& out) {
    return [&out](const std::string& v) {
      out = v;
      return !v.empty();
    };
  };
  keys["--host"] = str(o.host);
  keys["--port"] = num(o.port, 1, 65535);
  keys["--connection"] = str(o.connection);
  keys["--origin"] = str(o.origin);
  keys["--api-key"] = str(o.api_key);
  keys["--sessions"] = num(o.sessions, 1, 1000000);
  keys["--concurrency"] = num(o.concurrency, 1, 10000);
  keys["--local-addrs"] = num(o.local_addrs, 0, 250);
  keys["--active"] = num(o.active, 1, 100000);
  keys["--rate"] = num(o.rate, 0, 1000000);
  keys["--duration"] = num(o.duration_s, 1, 3600);
  keys["--drain"] = num(o.drain_s, 1, 600);
  keys["--http-conns"] = num(o.http_conns, 1, 256);
  keys["--wait-timeout"] = num(o.wait_timeout_s, 1, 3600);
  keys["--settle"] = num(o.settle_s, 0, 3600);
  keys["--open-timeout"] = num(o.open_timeout_s, 1, 600);
  keys["--http-timeout"] = num(o.http_timeout_s, 1, 600);
  keys["--server-pid"] = num(o.server_pid, 1, 1 << 30);
  keys["--max-error-pct"] = [&o](const std::string& v) {
    o.max_error_pct = std::strtod(v.c_str(), nullptr);
    return o.max_error_pct >= 0 && o.max_error_pct <= 100;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--wait-signal") {
      o.wait_signal = true;
      continue;
    }
    size_t eq = arg.find('=');
    auto it = keys.find(arg.substr(0, eq));
    if (eq == std::string::npos || it == keys.end() || !it->second(arg.substr(eq + 1))) {
      fmt::print(stderr, "web_sessions_bench: bad argument {} (see bench/web_sessions.cc)\n", arg);
      return std::nullopt;
    }
  }
  if (o.port == 0 || o.connection.empty() || o.origin.empty() ||
      (o.rate > 0 && o.api_key.empty())) {
    fmt::print(stderr,
               "web_sessions_bench: --port, --connection, --origin and (with a rate) "
               "--api-key are required\n");
    return std::nullopt;
  }
  if (o.local_addrs == 0) o.local_addrs = std::max(1, (o.sessions + 6999) / 7000);
  return o;
}

// One customer message of the round-trip phases; times in ns, 0 = not yet.
struct Probe {
  int64_t scheduled = 0, acked = 0, seen = 0, replied = 0, answered = 0;
  bool posted = false, failed = false;
};

struct Active {                 // what only sending sessions need
  std::deque<std::string> out;  // frames waiting to be written
  std::deque<int64_t> pings;    // scheduled times of pings waiting for their pong
  bool writing = false;
};

struct Session {
  explicit Session(asio::io_context& ioc) : ws(ioc) {}
  WebSocket ws;
  beast::flat_buffer buf;
  std::unique_ptr<Active> active;
  bool open = false;
};

struct Reply {  // an answer the client application owes
  std::string conversation;
  uint64_t seq;
};

struct HttpConn {
  explicit HttpConn(asio::io_context& ioc) : stream(ioc), wake(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buf;
  asio::steady_timer wake;
  std::deque<Reply> queue;
  bool connected = false;
};

constexpr size_t kMaxOutPerSession = 1000;
constexpr size_t kMaxQueuedReplies = 50000;

struct Bench {
  explicit Bench(Options o) : opt(std::move(o)) {}
  Options opt;
  asio::io_context ioc{1};
  asio::signal_set go{ioc, SIGUSR1};
  bool go_received = false;
  tcp::endpoint server;
  std::vector<asio::ip::address_v4> local_addrs;
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<Session*> active;
  int next_open = 0, open_failures = 0, openers_running = 0;
  std::vector<int64_t> handshake_ns;
  uint64_t dropped = 0, bad_frames = 0, send_errors = 0, unexpected_pongs = 0;
  std::map<std::string, uint64_t> error_frames;  // server `error` frames by code
  std::map<std::string, int> notes;              // the first 50 distinct problems, printed
  // ping phase
  std::vector<int64_t> ping_ns;
  uint64_t pings_sent = 0;
  // round-trip phases
  std::vector<Probe> probes;
  std::vector<std::unique_ptr<HttpConn>> conns;
  size_t queued_replies = 0, queued_replies_peak = 0;
  uint64_t http_ok = 0, http_errors = 0, events = 0, stream_drops = 0;
  bool stream_up = false;
  std::string last_event_id;
  // schedule lag: how late the generator sent against the schedule
  int64_t lag_max_ns = 0;
  std::vector<std::string> result;  // key=value fields of the RESULT line
  int exit_code = 0;
  bool stopping = false;

  void Note(const std::string& what) {
    if (notes.size() >= 50 && !notes.contains(what)) return;  // bounded
    if (++notes[what] == 1) fmt::print(stderr, "  note: {}\n", what);
  }
};

auto LogFailure(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      fmt::print(stderr, "web_sessions_bench: {} failed: {}\n", what, x.what());
    }
  };
}

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}
const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}
// "<prefix><n>" -> n
std::optional<uint64_t> SeqOf(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return std::nullopt;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data() + prefix.size(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

long ProcTicks(int pid) {  // utime + stime, in clock ticks; -1 if unreadable
  std::ifstream f(pid ? fmt::format("/proc/{}/stat", pid) : "/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(paren + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) stime = std::atol(field.c_str());
  }
  return utime + stime;
}
long VmRssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Percentile q of `ns` in ms, counting `missing` answers as slower than any; -1 = missing.
double PercentileMs(std::vector<int64_t>& ns, size_t missing, double q) {
  size_t n = ns.size() + missing;
  if (n == 0) return 0;
  size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(n)))) - 1;
  if (rank >= ns.size()) return -1;
  std::nth_element(ns.begin(), ns.begin() + static_cast<long>(rank), ns.end());
  return static_cast<double>(ns[rank]) / 1e6;
}
std::string Ms(double ms) { return ms < 0 ? "timeout" : fmt::format("{:.2f}", ms); }

// --- widget sessions ----------------------------------------------------------------------

void OnSessionFrame(Bench& b, Session& s, std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    ++b.bad_frames;
    return;
  }
  const json::object& o = v.get_object();
  std::string_view type = Str(o, "type");
  int64_t now = NowNs();
  if (type == "pong") {
    if (!s.active || s.active->pings.empty()) {
      ++b.unexpected_pongs;
      return;
    }
    b.ping_ns.push_back(now - s.active->pings.front());
    s.active->pings.pop_front();
  } else if (type == "ack") {
    auto seq = SeqOf(Str(o, "client_id"), "c");
    if (seq && *seq < b.probes.size() && !b.probes[*seq].acked) b.probes[*seq].acked = now;
  } else if (type == "message") {
    const json::object* m = Obj(o, "message");
    const json::object* content = m ? Obj(*m, "content") : nullptr;
    if (!content || Str(*m, "direction") != "outbound") return;
    auto seq = SeqOf(Str(*content, "text"), "re ");
    if (seq && *seq < b.probes.size() && !b.probes[*seq].answered) b.probes[*seq].answered = now;
  } else if (type == "error") {
    std::string code(Str(o, "code"));
    ++b.error_frames[code];
    b.Note(fmt::format("error frame: {}", text.substr(0, 300)));
    auto seq = SeqOf(Str(o, "ref"), "c");
    if (seq && *seq < b.probes.size()) b.probes[*seq].failed = true;
  }
}

asio::awaitable<void> ReadSession(Bench* b, Session* s) {
  for (;;) {
    auto [ec, n] = co_await s->ws.async_read(s->buf, kUse);
    if (ec) {
      s->open = false;
      if (!b->stopping) {
        ++b->dropped;
        b->Note(fmt::format("session closed: {} (close code {})", ec.message(),
                            static_cast<int>(s->ws.reason().code)));
      }
      co_return;
    }
    auto data = s->buf.cdata();
    OnSessionFrame(*b, *s, std::string_view(static_cast<const char*>(data.data()), n));
    s->buf.consume(s->buf.size());
  }
}

// Connects, handshakes with the allowed Origin, says hello and waits for welcome, all within
// --open-timeout. Returns "" or what failed.
asio::awaitable<std::string> OpenSession(Bench* b, Session* s, size_t index) {
  beast::tcp_stream& ts = s->ws.next_layer();
  boost::system::error_code ec;
  ts.socket().open(tcp::v4(), ec);
  if (ec) co_return "socket: " + ec.message();
  // Bind the source address without a port: the port is chosen at connect() time per
  // 4-tuple, so each of 127.0.0.1, .2, … gives another ~28k ports to the same server.
  int one = 1;
  ::setsockopt(ts.socket().native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  ts.socket().bind(tcp::endpoint(b->local_addrs[index % b->local_addrs.size()], 0), ec);
  if (ec) co_return "bind: " + ec.message();
  ts.socket().set_option(tcp::no_delay(true), ec);
  ts.expires_after(std::chrono::seconds(b->opt.open_timeout_s));
  auto [cec] = co_await ts.async_connect(b->server, kUse);
  if (cec) co_return "connect: " + cec.message();
  s->ws.set_option(websocket::stream_base::decorator([b](websocket::request_type& req) {
    req.set(http::field::origin, b->opt.origin);
    req.set(http::field::user_agent,
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36");
  }));
  websocket::response_type res;
  std::string path = fmt::format("/v1/web/{}/socket", b->opt.connection);
  auto [hec] = co_await s->ws.async_handshake(res, b->opt.host, path, kUse);
  if (hec) co_return fmt::format("handshake: {} (HTTP {})", hec.message(), res.result_int());
  s->ws.text(true);
  static const std::string kHello = R"({"type":"hello"})";
  auto [wec, wn] = co_await s->ws.async_write(asio::buffer(kHello), kUse);
  if (wec) co_return "hello: " + wec.message();
  auto [rec, rn] = co_await s->ws.async_read(s->buf, kUse);
  if (rec) co_return "welcome: " + rec.message();
  ts.expires_never();
  auto data = s->buf.cdata();
  std::string_view text(static_cast<const char*>(data.data()), rn);
  boost::system::error_code pec;
  json::value v = json::parse(text, pec);
  if (pec || !v.is_object() || Str(v.get_object(), "type") != "welcome" ||
      Str(v.get_object(), "session").substr(0, 4) != "wst_") {
    co_return fmt::format("expected welcome, got: {}", text.substr(0, 200));
  }
  s->buf.consume(s->buf.size());
  s->buf.shrink_to_fit();
  co_return "";
}

asio::awaitable<void> Opener(Bench* b) {
  while (b->next_open < b->opt.sessions) {
    size_t index = static_cast<size_t>(b->next_open++);
    auto s = std::make_unique<Session>(b->ioc);
    int64_t t0 = NowNs();
    std::string err = co_await OpenSession(b, s.get(), index);
    if (!err.empty()) {
      ++b->open_failures;
      b->Note("open: " + err);
      continue;
    }
    b->handshake_ns.push_back(NowNs() - t0);
    s->open = true;
    Session* raw = s.get();
    b->sessions.push_back(std::move(s));
    asio::co_spawn(b->ioc, ReadSession(b, raw), LogFailure("session reader"));
  }
  --b->openers_running;
}

asio::awaitable<void> WriteSession(Bench* b, Session* s) {
  Active& a = *s->active;
  while (!a.out.empty()) {
    auto [ec, n] = co_await s->ws.async_write(asio::buffer(a.out.front()), kUse);
    if (ec) {
      b->send_errors += a.out.size();
      b->Note("send: " + ec.message());
      a.out.clear();
      break;
    }
    a.out.pop_front();
  }
  a.writing = false;
}

bool Send(Bench& b, Session& s, std::string frame) {
  Active& a = *s.active;
  if (!s.open || a.out.size() >= kMaxOutPerSession) {
    ++b.send_errors;
    return false;
  }
  a.out.push_back(std::move(frame));
  if (!a.writing) {
    a.writing = true;
    asio::co_spawn(b.ioc, WriteSession(&b, &s), LogFailure("session writer"));
  }
  return true;
}

// --- the client application: /v1/stream and replies --------------------------------------

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

void FailProbe(Bench& b, uint64_t seq) {
  if (seq < b.probes.size()) b.probes[seq].failed = true;
}

void OnEvent(Bench& b, std::string_view text) {
  ++b.events;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    b.Note(fmt::format("stream: not a JSON object: {}", text.substr(0, 200)));
    return;
  }
  const json::object& o = v.get_object();
  if (!Str(o, "id").empty()) b.last_event_id = Str(o, "id");
  const json::object* data = Obj(o, "data");
  if (Str(o, "type") != "message.created" || !data || Str(*data, "direction") != "inbound") return;
  const json::object* content = Obj(*data, "content");
  auto seq = content ? SeqOf(Str(*content, "text"), "bench ") : std::nullopt;
  std::string_view conversation = Str(*data, "conversation");
  if (!seq || *seq >= b.probes.size() || b.probes[*seq].posted) return;
  Probe& p = b.probes[*seq];
  p.seen = NowNs();
  p.posted = true;
  bool id_ok =
      !conversation.empty() && std::all_of(conversation.begin(), conversation.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (!id_ok || b.queued_replies >= kMaxQueuedReplies) {
    b.Note(id_ok ? "reply queue full" : "event without a usable conversation id");
    p.failed = true;
    return;
  }
  HttpConn* c = std::min_element(b.conns.begin(), b.conns.end(), [](auto& x, auto& y) {
                  return x->queue.size() < y->queue.size();
                })->get();
  c->queue.push_back(Reply{std::string(conversation), *seq});
  b.queued_replies_peak = std::max(b.queued_replies_peak, ++b.queued_replies);
  c->wake.cancel();
}

asio::awaitable<void> RunHttpConn(Bench* b, HttpConn* c) {
  while (!b->stopping) {
    if (c->queue.empty()) {
      c->wake.expires_at(Clock::time_point::max());
      co_await c->wake.async_wait(kUse);
      continue;
    }
    Reply r = std::move(c->queue.front());
    c->queue.pop_front();
    --b->queued_replies;
    c->stream.expires_after(std::chrono::seconds(b->opt.http_timeout_s));
    if (!c->connected) {
      c->buf.clear();
      auto [ec] = co_await c->stream.async_connect(b->server, kUse);
      if (ec) {
        ++b->http_errors;
        b->Note("http connect: " + ec.message());
        FailProbe(*b, r.seq);
        c->stream.close();
        continue;
      }
      c->stream.socket().set_option(tcp::no_delay(true), ec);
      c->connected = true;
    }
    http::request<http::string_body> req{
        http::verb::post, fmt::format("/v1/conversations/{}/messages", r.conversation), 11};
    req.set(http::field::host, b->opt.host);
    req.set(http::field::authorization, "Bearer " + b->opt.api_key);
    req.set(http::field::content_type, "application/json");
    req.body() = fmt::format(R"({{"content":{{"type":"text","text":"re {}"}}}})", r.seq);
    req.keep_alive(true);
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(c->stream, req, kUse);
    http::response<http::string_body> res;
    boost::system::error_code rec = wec;
    if (!wec) {
      auto [ec, n] = co_await http::async_read(c->stream, c->buf, res, kUse);
      rec = ec;
    }
    c->stream.expires_never();
    if (rec) {
      ++b->http_errors;
      b->Note("http: " + rec.message());
      FailProbe(*b, r.seq);
      c->stream.close();
      c->connected = false;
      continue;
    }
    if (res.result_int() / 100 == 2) {
      ++b->http_ok;
      if (r.seq < b->probes.size()) b->probes[r.seq].replied = NowNs();
    } else {
      ++b->http_errors;
      b->Note(fmt::format("http {}: {}", res.result_int(), res.body().substr(0, 300)));
      FailProbe(*b, r.seq);
    }
    if (!res.keep_alive()) {
      c->stream.close();
      c->connected = false;
    }
  }
}

// Keeps one /v1/stream socket open (resuming with the last event id), feeding OnEvent.
asio::awaitable<void> RunStream(Bench* b) {
  for (int attempt = 0; attempt < 5 && !b->stopping; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer pause(b->ioc, std::chrono::milliseconds(200));
      co_await pause.async_wait(kUse);
    }
    WebSocket ws(b->ioc);
    beast::tcp_stream& ts = ws.next_layer();
    ts.expires_after(std::chrono::seconds(b->opt.open_timeout_s));
    auto [cec] = co_await ts.async_connect(b->server, kUse);
    std::string target = "/v1/stream?access_token=" + UrlEncode(b->opt.api_key);
    if (!b->last_event_id.empty()) target += "&last_event_id=" + UrlEncode(b->last_event_id);
    websocket::response_type res;
    boost::system::error_code ec = cec;
    if (!cec) {
      auto [hec] = co_await ws.async_handshake(res, b->opt.host, target, kUse);
      ec = hec;
    }
    if (ec) {
      ++b->stream_drops;
      b->Note(fmt::format("stream open: {} (HTTP {})", ec.message(), res.result_int()));
      continue;
    }
    ts.expires_never();
    ts.socket().set_option(tcp::no_delay(true), ec);
    ws.read_message_max(16 << 20);
    b->stream_up = true;
    beast::flat_buffer buf;
    for (;;) {
      auto [rec, n] = co_await ws.async_read(buf, kUse);
      if (rec) {
        ec = rec;
        break;
      }
      auto data = buf.cdata();
      OnEvent(*b, std::string_view(static_cast<const char*>(data.data()), n));
      buf.consume(buf.size());
    }
    b->stream_up = false;
    if (b->stopping) break;
    ++b->stream_drops;
    b->Note(fmt::format("stream closed: {} (close code {})", ec.message(),
                        static_cast<int>(ws.reason().code)));
  }
}

// --- phases -------------------------------------------------------------------------------

asio::awaitable<void> Sleep(Bench* b, int64_t ns) {
  asio::steady_timer t(b->ioc, std::chrono::nanoseconds(ns));
  co_await t.async_wait(kUse);
}

// Waits until done() or `limit_s` seconds passed; returns done().
asio::awaitable<bool> WaitUntil(Bench* b, std::function<bool()> done, int limit_s) {
  int64_t deadline = NowNs() + int64_t{limit_s} * 1000000000;
  while (!done() && NowNs() < deadline) co_await Sleep(b, 20000000);
  co_return done();
}

// Open loop: frame k of `count` is due at t0 + k/rate, from active session k mod |active|;
// send(session, k, due) is called at or after that time. Late sends keep their due time, so
// latency includes the generator's own lag (no coordinated omission). Returns the rate
// achieved.
asio::awaitable<double> Schedule(Bench* b, uint64_t count,
                                 std::function<void(Session&, uint64_t, int64_t)> send) {
  asio::steady_timer timer(b->ioc);
  const double step = 1e9 / b->opt.rate;
  const int64_t t0 = NowNs() + 1000000;
  auto due_of = [&](uint64_t k) {
    return t0 + static_cast<int64_t>(static_cast<double>(k) * step);
  };
  b->lag_max_ns = 0;
  for (uint64_t k = 0; k < count;) {
    int64_t now = NowNs();
    if (due_of(k) > now) {
      timer.expires_at(AtNs(due_of(k)));
      co_await timer.async_wait(kUse);
      continue;
    }
    for (; k < count && due_of(k) <= now; ++k) {
      b->lag_max_ns = std::max(b->lag_max_ns, now - due_of(k));
      send(*b->active[k % b->active.size()], k, due_of(k));
    }
  }
  co_return static_cast<double>(count) * 1e9 / static_cast<double>(NowNs() - t0);
}

struct Cpu {
  long server = 0, self = 0;
  int64_t at = 0;
};
Cpu CpuNow(const Bench& b) {
  return {b.opt.server_pid ? ProcTicks(b.opt.server_pid) : 0, ProcTicks(0), NowNs()};
}
std::string CpuSince(const Bench& b, const Cpu& c0, uint64_t count) {
  Cpu c1 = CpuNow(b);
  double tick_s = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  double secs = static_cast<double>(c1.at - c0.at) / 1e9;
  double server_s = static_cast<double>(c1.server - c0.server) * tick_s;
  return fmt::format("server CPU {:.2f} cores ({:.0f} µs/msg), generator CPU {:.2f} cores",
                     server_s / secs,
                     server_s * 1e6 / static_cast<double>(std::max<uint64_t>(count, 1)),
                     static_cast<double>(c1.self - c0.self) * tick_s / secs);
}

struct Summary {  // in ms; -1 = the percentile falls on an unanswered frame
  double p50, p90, p99, max;
};
Summary Summarize(std::vector<int64_t>& ns, size_t missing) {
  return {PercentileMs(ns, missing, 0.5), PercentileMs(ns, missing, 0.9),
          PercentileMs(ns, missing, 0.99), PercentileMs(ns, missing, 1.0)};
}
std::string Ratio(double x, double base) {
  return x < 0 || base <= 0 ? std::string("-") : fmt::format("{:.1f}", x / base);
}

void Fail(Bench& b, const std::string& why) {
  fmt::print(stderr, "FAIL: {}\n", why);
  b.exit_code = 1;
}
bool TooMany(const Bench& b, double bad, double of) { return bad > b.opt.max_error_pct / 100 * of; }

asio::awaitable<void> OpenPhase(Bench* b) {
  const Options& o = b->opt;
  int64_t t0 = NowNs();
  b->openers_running = std::min(o.concurrency, o.sessions);
  for (int i = 0; i < b->openers_running; ++i) {
    asio::co_spawn(b->ioc, Opener(b), LogFailure("opener"));
  }
  // Each open is bounded by --open-timeout, so this ends; the limit is a backstop.
  co_await WaitUntil(
      b, [b] { return b->openers_running == 0; },
      o.open_timeout_s * (o.sessions / o.concurrency + 2));
  double secs = static_cast<double>(NowNs() - t0) / 1e9;
  size_t opened = b->sessions.size();
  Summary hs = Summarize(b->handshake_ns, 0);
  fmt::print(
      "open: {} of {} sessions in {:.1f} s ({:.0f}/s) from {} local address(es), {} failed; "
      "connect+handshake+welcome p50 {} p99 {} ms; generator RSS {} MiB\n",
      opened, o.sessions, secs, static_cast<double>(opened) / secs, o.local_addrs, b->open_failures,
      Ms(hs.p50), Ms(hs.p99), VmRssKiB() / 1024);
  b->result.push_back(
      fmt::format("sessions={} opened={} open_failures={} open_s={:.2f} handshake_p50_ms={} "
                  "handshake_p99_ms={} generator_rss_kib={}",
                  o.sessions, opened, b->open_failures, secs, Ms(hs.p50), Ms(hs.p99), VmRssKiB()));
  if (TooMany(*b, b->open_failures, o.sessions)) {
    Fail(*b, fmt::format("{} of {} sessions failed to open", b->open_failures, o.sessions));
  }
}

// Baseline: `ping` -> `pong` on the widget socket. Returns the latencies.
asio::awaitable<Summary> PingPhase(Bench* b, uint64_t count) {
  static const std::string kPing = R"({"type":"ping"})";
  b->ping_ns.reserve(count);
  Cpu cpu0 = CpuNow(*b);
  double rate = co_await Schedule(b, count, [b](Session& s, uint64_t, int64_t due) {
    if (Send(*b, s, kPing)) {
      s.active->pings.push_back(due);
      ++b->pings_sent;
    }
  });
  double lag_ms = static_cast<double>(b->lag_max_ns) / 1e6;
  co_await WaitUntil(
      b, [b] { return b->ping_ns.size() >= b->pings_sent; }, b->opt.drain_s);
  std::string cpu = CpuSince(*b, cpu0, count);
  for (Session* s : b->active) s->active->pings.clear();  // a late pong is now unexpected
  size_t missing = count - b->ping_ns.size();
  Summary p = Summarize(b->ping_ns, missing);
  fmt::print(
      "ping: {} sent at {:.0f}/s from {} sessions, {} answered, {} not; p50 {} p90 {} p99 {} "
      "max {} ms; max send lag {:.2f} ms; {}\n",
      count, rate, b->active.size(), b->ping_ns.size(), missing, Ms(p.p50), Ms(p.p90), Ms(p.p99),
      Ms(p.max), lag_ms, cpu);
  b->result.push_back(fmt::format(
      "active={} ping_sent={} ping_rate={:.0f} ping_missing={} ping_p50_ms={} ping_p90_ms={} "
      "ping_p99_ms={} ping_max_ms={}",
      b->active.size(), count, rate, missing, Ms(p.p50), Ms(p.p90), Ms(p.p99), Ms(p.max)));
  if (TooMany(*b, static_cast<double>(missing), static_cast<double>(count))) {
    Fail(*b, fmt::format("{} of {} pings unanswered", missing, count));
  }
  co_return p;
}

std::function<void(Session&, uint64_t, int64_t)> SendProbe(Bench* b, uint64_t first) {
  return [b, first](Session& s, uint64_t k, int64_t due) {
    uint64_t seq = first + k;
    b->probes[seq].scheduled = due;
    std::string frame = fmt::format(
        R"({{"type":"message","client_id":"c{0}","content":{{"type":"text","text":"bench {0}"}}}})",
        seq);
    if (!Send(*b, s, std::move(frame))) b->probes[seq].failed = true;
  };
}
std::function<bool()> ProbesDone(Bench* b, uint64_t first, uint64_t n) {
  return [b, first, n] {
    auto begin = b->probes.begin() + static_cast<long>(first);
    return std::all_of(begin, begin + static_cast<long>(n),
                       [](const Probe& p) { return p.answered || p.failed; });
  };
}

// Customer -> client application -> customer, measured against the ping baseline.
asio::awaitable<void> RoundTripPhase(Bench* b, uint64_t count, Summary ping) {
  const Options& o = b->opt;
  for (int i = 0; i < o.http_conns; ++i) {
    b->conns.push_back(std::make_unique<HttpConn>(b->ioc));
    asio::co_spawn(b->ioc, RunHttpConn(b, b->conns.back().get()), LogFailure("http connection"));
  }
  asio::co_spawn(b->ioc, RunStream(b), LogFailure("stream"));
  if (!co_await WaitUntil(
          b, [b] { return b->stream_up; }, o.open_timeout_s)) {
    co_return Fail(*b, "the /v1/stream socket did not open");
  }
  // Warm-up, not measured: one message from each active session starts its conversation.
  const uint64_t warm = b->active.size();
  b->probes.resize(warm + count);
  co_await Schedule(b, warm, SendProbe(b, 0));
  co_await WaitUntil(b, ProbesDone(b, 0, warm), 30);
  auto warm_ok = std::count_if(b->probes.begin(), b->probes.begin() + static_cast<long>(warm),
                               [](const Probe& p) { return p.answered; });
  fmt::print("warm-up: {} of {} conversations answered\n", warm_ok, warm);
  if (warm_ok == 0) {
    co_return Fail(*b, "no warm-up message came back: the round-trip path is broken");
  }

  Cpu cpu0 = CpuNow(*b);
  uint64_t http_errors0 = b->http_errors;
  double rate = co_await Schedule(b, count, SendProbe(b, warm));
  double lag_ms = static_cast<double>(b->lag_max_ns) / 1e6;
  co_await WaitUntil(b, ProbesDone(b, warm, count), o.drain_s);
  std::string cpu = CpuSince(*b, cpu0, count);
  std::vector<int64_t> rt, ack, seen, replied;
  // Where the unanswered ones stopped: not acknowledged, acknowledged but no event on the
  // stream, seen but the reply not accepted yet (queued or in flight), reply accepted but
  // not pushed to the widget.
  size_t failed = 0, not_acked = 0, not_seen = 0, not_replied = 0, not_pushed = 0;
  for (uint64_t i = warm; i < warm + count; ++i) {
    const Probe& p = b->probes[i];
    if (p.acked) ack.push_back(p.acked - p.scheduled);
    if (p.seen) seen.push_back(p.seen - p.scheduled);
    if (p.replied) replied.push_back(p.replied - p.scheduled);
    if (p.answered) {
      rt.push_back(p.answered - p.scheduled);
    } else if (p.failed) {
      ++failed;
    } else {
      ++(p.replied ? not_pushed : p.seen ? not_replied : p.acked ? not_seen : not_acked);
    }
  }
  size_t missing = count - rt.size(), timeouts = missing - failed;
  Summary r = Summarize(rt, missing);
  Summary a = Summarize(ack, count - ack.size());
  Summary e = Summarize(seen, count - seen.size());
  Summary y = Summarize(replied, count - replied.size());
  fmt::print(
      "roundtrip: {} sent at {:.0f}/s, {} answered, {} failed, {} unanswered {} s after the "
      "last send; p50 {} p90 {} p99 {} max {} ms; max send lag {:.2f} ms; {}\n",
      count, rate, rt.size(), failed, timeouts, o.drain_s, Ms(r.p50), Ms(r.p90), Ms(r.p99),
      Ms(r.max), lag_ms, cpu);
  fmt::print(
      "  stages from the scheduled send: ack p50 {} p99 {} ms; event on /v1/stream p50 {} "
      "p99 {} ms; reply accepted (POST 2xx) p50 {} p99 {} ms; replies posted {} ok, {} failed, "
      "at most {} waiting for one of the {} connections; stream reconnects {}\n",
      Ms(a.p50), Ms(a.p99), Ms(e.p50), Ms(e.p99), Ms(y.p50), Ms(y.p99), b->http_ok,
      b->http_errors - http_errors0, b->queued_replies_peak, o.http_conns, b->stream_drops);
  if (timeouts) {
    fmt::print(
        "  unanswered, by where they stopped: {} not acknowledged; {} acknowledged but not seen "
        "on /v1/stream; {} seen, reply not accepted yet; {} reply accepted, not at the widget\n",
        not_acked, not_seen, not_replied, not_pushed);
  }
  fmt::print("  roundtrip/ping: p50 {}x, p99 {}x\n", Ratio(r.p50, ping.p50),
             Ratio(r.p99, ping.p99));
  b->result.push_back(fmt::format(
      "rt_sent={} rt_rate={:.0f} rt_answered={} rt_failed={} rt_timeouts={} rt_p50_ms={} "
      "rt_p90_ms={} rt_p99_ms={} rt_max_ms={} ack_p50_ms={} ack_p99_ms={} event_p50_ms={} "
      "event_p99_ms={} reply_p50_ms={} reply_p99_ms={} ratio_p50={} ratio_p99={} "
      "rt_not_acked={} rt_not_on_stream={} rt_not_replied={} rt_not_pushed={}",
      count, rate, rt.size(), failed, timeouts, Ms(r.p50), Ms(r.p90), Ms(r.p99), Ms(r.max),
      Ms(a.p50), Ms(a.p99), Ms(e.p50), Ms(e.p99), Ms(y.p50), Ms(y.p99), Ratio(r.p50, ping.p50),
      Ratio(r.p99, ping.p99), not_acked, not_seen, not_replied, not_pushed));
  if (TooMany(*b, static_cast<double>(missing), static_cast<double>(count))) {
    Fail(*b, fmt::format("{} of {} round trips failed or went unanswered", missing, count));
  }
}

asio::awaitable<void> Run(Bench* b) {
  const Options& o = b->opt;
  co_await OpenPhase(b);
  fmt::print("READY sessions={}\n", b->sessions.size());
  std::fflush(stdout);
  // The script reads the server's memory now, then signals.
  if (o.wait_signal) {
    if (!co_await WaitUntil(
            b, [b] { return b->go_received; }, o.wait_timeout_s)) {
      Fail(*b, "no SIGUSR1 within --wait-timeout");
    }
  } else {
    co_await Sleep(b, int64_t{o.settle_s} * 1000000000);
  }
  const uint64_t dropped_idle = b->dropped;
  if (dropped_idle) Fail(*b, fmt::format("{} sessions closed while idle", dropped_idle));
  if (o.rate > 0 && b->exit_code == 0 && !b->sessions.empty()) {
    for (auto& s : b->sessions) {
      if (b->active.size() == static_cast<size_t>(o.active)) break;
      if (!s->open) continue;
      s->active = std::make_unique<Active>();
      b->active.push_back(s.get());
    }
    const uint64_t count = static_cast<uint64_t>(o.rate) * static_cast<uint64_t>(o.duration_s);
    Summary ping = co_await PingPhase(b, count);
    co_await RoundTripPhase(b, count, ping);
  }
  uint64_t error_frames = 0;
  std::string by_code;
  for (const auto& [code, n] : b->error_frames) {
    error_frames += n;
    by_code += fmt::format(" {}={}", code, n);
  }
  fmt::print(
      "frames: {} error frames{}; {} unparsable; {} unexpected pongs; {} frames not sent; {} "
      "sessions closed by the server or the network\n",
      error_frames, by_code, b->bad_frames, b->unexpected_pongs, b->send_errors, b->dropped);
  b->result.push_back(fmt::format("error_frames={} send_errors={} dropped={}", error_frames,
                                  b->send_errors, b->dropped));
  if (b->dropped > dropped_idle) {
    Fail(*b, fmt::format("{} sessions closed during the phases", b->dropped - dropped_idle));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> opt = ParseOptions(argc, argv);
  if (!opt) return 2;
  std::signal(SIGPIPE, SIG_IGN);
  auto b = std::make_unique<Bench>(*opt);
  boost::system::error_code ec;
  b->server =
      tcp::endpoint(asio::ip::make_address(b->opt.host, ec), static_cast<uint16_t>(b->opt.port));
  if (ec) {
    fmt::print(stderr, "web_sessions_bench: --host must be an IP address\n");
    return 2;
  }
  for (int i = 0; i < b->opt.local_addrs; ++i) {
    b->local_addrs.push_back(asio::ip::address_v4(0x7f000001u + static_cast<uint32_t>(i)));
  }
  b->go.async_wait([&b](boost::system::error_code e, int) {
    if (!e) b->go_received = true;
  });
  Bench* raw = b.get();
  asio::co_spawn(b->ioc, Run(raw), [raw](std::exception_ptr e) {
    LogFailure("run")(e);
    if (e) raw->exit_code = 1;
    raw->stopping = true;
    fmt::print("RESULT {}\n", fmt::join(raw->result, " "));
    raw->ioc.stop();
  });
  b->ioc.run();
  // Tens of thousands of sockets and suspended coroutines: let the kernel close them rather
  // than unwinding every frame; the results are printed.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(b->exit_code);
}

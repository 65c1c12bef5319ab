// src/http/session.cc
//
// One server connection: the HTTP/1.1 request loop (limits, timeouts, routing, access log,
// metrics) and the WebSocket upgrade. This is the server's only Beast translation unit.
#include <fmt/format.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <random>

#include "core/log.h"
#include "http/beast_util.h"
#include "http/io_runtime.h"
#include "http/response_writer.h"
#include "http/server_state.h"
#include "http/target.h"
#include "http/websocket_session.h"

namespace parley::http::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using BeastRequest = bhttp::request<bhttp::string_body>;

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// Request ids correlate logs; they are not secrets, so a per-thread PRNG is enough.
std::string NewRequestId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return fmt::format("req_{:016x}", random());
}

std::string_view StatusClass(int status) {
  static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  const int index = status / 100 - 1;
  return index >= 0 && index < 5 ? kClasses[index] : std::string_view("5xx");
}

// Metric labels must stay bounded: unknown methods and unmatched paths collapse.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                "PATCH", "DELETE", "OPTIONS"};
  for (auto known : kKnown) {
    if (method == known) return known;
  }
  return "OTHER";
}

void DefaultAccessLog(const AccessLogEntry& e) {
  log::Info("http.request", {{"method", e.method},
                             {"route", e.route},
                             {"path", e.path},
                             {"status", static_cast<int64_t>(e.status)},
                             {"duration_us", e.duration_us},
                             {"bytes_in", static_cast<int64_t>(e.bytes_in)},
                             {"bytes_out", static_cast<int64_t>(e.bytes_out)},
                             {"request_id", e.request_id},
                             {"remote_ip", e.remote_ip}});
}

// What one request produced, for the access log and metrics.
struct Outcome {
  std::string method;
  std::string route;
  std::string path;
  std::string request_id;
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

void Record(ServerState& state, const Outcome& outcome, const std::string& remote_ip,
            Clock::time_point start) {
  const auto elapsed = Clock::now() - start;
  const std::string_view route =
      outcome.route.empty() ? std::string_view("unmatched") : std::string_view(outcome.route);
  const auto series =
      state.SeriesFor(MethodLabel(outcome.method), route, StatusClass(outcome.status));
  series.requests->Inc();
  series.latency->Observe(std::chrono::duration<double>(elapsed).count());
  AccessLogEntry entry;
  entry.method = outcome.method;
  entry.route = outcome.route;
  entry.path = outcome.path;
  entry.status = outcome.status;
  entry.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  entry.bytes_in = outcome.bytes_in;
  entry.bytes_out = outcome.bytes_out;
  entry.request_id = outcome.request_id;
  entry.remote_ip = remote_ip;
  if (state.options.access_log) {
    state.options.access_log(entry);
  } else {
    DefaultAccessLog(entry);
  }
}

bool IsDisconnect(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::bad_descriptor || ec == asio::ssl::error::stream_truncated;
}

// After an error answer the client may still be sending (an oversize body). Closing with
// unread input makes the kernel send RST, which can destroy our answer in flight, so
// half-close and discard a bounded amount first.
asio::awaitable<void> LingeringClose(PlainStream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(1));
  char discard[4096];
  size_t total = 0;
  while (total < 256 * 1024) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(discard), kAsTuple);
    if (read_ec) break;
    total += n;
  }
  stream.socket().close(ec);
}

asio::awaitable<void> LingeringClose(TlsStream& stream) {
  Lowest(stream).expires_after(std::chrono::seconds(1));
  auto [ec] = co_await stream.async_shutdown(kAsTuple);
  (void)ec;
  beast::error_code ignored;
  Lowest(stream).socket().close(ignored);
}

// Sends an error answer outside normal routing (limits, malformed input) and closes.
template <class Stream>
asio::awaitable<void> FailRequest(std::shared_ptr<ServerState> state, Stream& stream,
                                  Outcome outcome, int status, std::string code,
                                  std::string message, std::string remote_ip,
                                  Clock::time_point start) {
  outcome.status = status;
  if (outcome.request_id.empty()) outcome.request_id = NewRequestId();
  auto [ec, bytes] = co_await WriteResponse(stream, ErrorResponse(status, code, message), 11,
                                            /*keep_alive=*/false, outcome.request_id,
                                            /*head_request=*/false, state->options.read_timeout);
  outcome.bytes_out = bytes;
  Record(*state, outcome, remote_ip, start);
  if (!ec) co_await LingeringClose(stream);
}

template <class Message>
Request ToRequest(Message& message, ParsedTarget target, std::string remote_ip) {
  Request request;
  request.method = std::string(message.method_string());
  request.path = std::move(target.path);
  request.target = std::string(message.target());
  request.query = std::move(target.query);
  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.remote_ip = std::move(remote_ip);
  return request;
}

// Runs the handler; an exception becomes a 500 so one bad request cannot kill the
// connection or the process.
asio::awaitable<Response> CallHandler(const Handler* handler, Request request) {
  try {
    co_return co_await (*handler)(std::move(request));
  } catch (const std::exception& e) {
    log::Error("http.handler_threw", {{"error", e.what()}});
  } catch (...) {
    log::Error("http.handler_threw", {{"error", "non-standard exception"}});
  }
  co_return ErrorResponse(500, "internal", "internal error");
}

// The body of a streaming route, read from the connection as the handler asks for it.
template <class Stream>
class StreamingBody final : public BodyReader {
 public:
  StreamingBody(Stream& stream, beast::flat_buffer& buffer,
                bhttp::request_parser<bhttp::buffer_body>& parser,
                std::chrono::milliseconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

  asio::awaitable<Result<std::string>> Next() override {
    if (!error_.ok()) co_return error_;
    std::string chunk(64 * 1024, '\0');
    size_t filled = 0;
    while (filled == 0 && !parser_.is_done()) {
      auto& body = parser_.get().body();
      body.data = chunk.data();
      body.size = chunk.size();
      Lowest(stream_).expires_after(timeout_);
      auto [ec, n] = co_await bhttp::async_read(stream_, buffer_, parser_, kAsTuple);
      Lowest(stream_).expires_never();
      if (ec == bhttp::error::need_buffer) ec = {};
      filled = chunk.size() - parser_.get().body().size;
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          error_ = ResourceExhausted("request body too large");
        } else if (ec == beast::error::timeout) {
          error_ = DeadlineExceeded("request body arrived too slowly");
        } else if (IsDisconnect(ec)) {
          error_ = Unavailable("client disconnected");
        } else {
          error_ = InvalidArgument("malformed request body");
        }
        co_return error_;
      }
    }
    chunk.resize(filled);
    bytes_ += filled;
    co_return chunk;
  }

  std::optional<uint64_t> content_length() const override {
    if (auto length = parser_.content_length()) return *length;
    return std::nullopt;
  }

  bool complete() const { return error_.ok() && parser_.is_done(); }
  uint64_t bytes() const { return bytes_; }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  std::chrono::milliseconds timeout_;
  Status error_;
  uint64_t bytes_ = 0;
};

asio::awaitable<Response> CallStreamingHandler(const StreamingHandler* handler, Request request,
                                               BodyReader& body) {
  try {
    co_return co_await (*handler)(std::move(request), body);
  } catch (const std::exception& e) {
    log::Error("http.handler_threw", {{"error", e.what()}});
  } catch (...) {
    log::Error("http.handler_threw", {{"error", "non-standard exception"}});
  }
  co_return ErrorResponse(500, "internal", "internal error");
}

template <class Stream>
asio::awaitable<void> CallWebSocketHandler(const WebSocketHandler* handler, Request request,
                                           std::shared_ptr<UpgradeSlot<Stream>> slot) {
  try {
    co_await (*handler)(std::move(request), std::make_unique<WebSocketUpgradeImpl<Stream>>(slot));
  } catch (const std::exception& e) {
    log::Error("websocket.handler_threw", {{"error", e.what()}});
  } catch (...) {
    log::Error("websocket.handler_threw", {{"error", "non-standard exception"}});
  }
  slot->Decide();
}

// Reads and answers requests until the client or a limit ends the connection.
template <class Stream>
asio::awaitable<void> ServeHttp(std::shared_ptr<ServerState> state,
                                std::shared_ptr<ConnectionControl> control, Stream& stream,
                                std::string remote_ip) {
  const ServerOptions& options = state->options;
  beast::flat_buffer buffer;
  bool first_request = true;
  while (!state->stopping) {
    // Idle phase: wait for the first byte of the next request.
    control->busy = false;
    if (buffer.size() == 0) {
      Lowest(stream).expires_after(first_request ? options.read_timeout : options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kAsTuple);
      if (ec) co_return;
      buffer.commit(n);
    }
    first_request = false;
    control->busy = true;
    const auto start = Clock::now();
    Outcome outcome;

    // The whole request (header and body) must arrive within read_timeout.
    Lowest(stream).expires_after(options.read_timeout);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    // Limits depend on the route (streaming routes have their own): checked after matching.
    parser.body_limit(boost::none);
    {
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
      if (ec == bhttp::error::header_limit) {
        co_return co_await FailRequest(state, stream, outcome, 431, "header_too_large",
                                       "request header too large", remote_ip, start);
      }
      if (ec == bhttp::error::body_limit) {
        co_return co_await FailRequest(state, stream, outcome, 413, "payload_too_large",
                                       "request body too large", remote_ip, start);
      }
      if (ec && IsDisconnect(ec)) co_return;
      if (ec) {
        co_return co_await FailRequest(state, stream, outcome, 400, "bad_request",
                                       "malformed request", remote_ip, start);
      }
    }
    BeastRequest& message = parser.get();
    outcome.method = std::string(message.method_string());
    if (auto id = message["x-request-id"]; IsValidRequestId(id)) outcome.request_id = id;
    auto target = ParseTarget(message.target());
    if (!target.ok()) {
      co_return co_await FailRequest(state, stream, outcome, 400, "bad_request",
                                     target.status().message(), remote_ip, start);
    }
    outcome.path = target->path;
    const bool upgrade = ws::is_upgrade(message);
    RouteMatch match = state->router.Match(outcome.method, target->segments, upgrade);
    outcome.route = match.route;
    const bool streaming = match.kind == RouteMatch::Kind::kStreaming;
    const uint64_t body_limit = streaming ? match.max_body_bytes : options.max_body_bytes;
    if (const auto length = parser.content_length(); length && *length > body_limit) {
      co_return co_await FailRequest(state, stream, outcome, 413, "payload_too_large",
                                     "request body too large", remote_ip, start);
    }
    if (!parser.is_done() && beast::iequals(message[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> proceed(bhttp::status::continue_, message.version());
      auto [ec, n] = co_await bhttp::async_write(stream, proceed, kAsTuple);
      if (ec) co_return;
    }
    if (!streaming && !parser.is_done()) {
      parser.body_limit(options.max_body_bytes);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
      if (ec == bhttp::error::body_limit) {
        co_return co_await FailRequest(state, stream, outcome, 413, "payload_too_large",
                                       "request body too large", remote_ip, start);
      }
      if (ec && IsDisconnect(ec)) co_return;
      if (ec) {
        co_return co_await FailRequest(state, stream, outcome, 400, "bad_request",
                                       "malformed request body", remote_ip, start);
      }
    }
    Lowest(stream).expires_never();
    if (outcome.request_id.empty()) outcome.request_id = NewRequestId();
    outcome.bytes_in = message.body().size();
    const bool head_request = message.method() == bhttp::verb::head;
    bool keep_alive = message.keep_alive();
    const unsigned version = message.version();

    Response response;
    switch (match.kind) {
      case RouteMatch::Kind::kNotFound:
        response = ErrorResponse(404, "not_found", "no route for this path");
        break;
      case RouteMatch::Kind::kMethodNotAllowed:
        response = ErrorResponse(405, "method_not_allowed", "method not allowed on this path");
        response.headers.emplace_back("Allow", match.allow);
        break;
      case RouteMatch::Kind::kWebSocket:
        if (!upgrade) {
          response = ErrorResponse(426, "upgrade_required", "this path needs a WebSocket");
          response.headers.emplace_back("Upgrade", "websocket");
          break;
        }
        {
          Request request = ToRequest(message, std::move(*target), remote_ip);
          request.body = std::move(message.body());
          request.route = match.route;
          request.path_params = std::move(match.path_params);
          request.request_id = outcome.request_id;
          auto slot = std::make_shared<UpgradeSlot<Stream>>(control->strand);
          slot->stream = &stream;
          slot->request = std::move(message);
          slot->state = state;
          slot->request_id = outcome.request_id;
          slot->head_request = head_request;
          Spawn(control->strand,
                CallWebSocketHandler(match.websocket_handler, std::move(request), slot),
                "websocket handler");
          co_await slot->WaitDecided();
          const bool answered = slot->status != 0;
          const bool still_ours = slot->stream != nullptr;
          slot->stream = nullptr;  // the upgrade object may outlive us; it must not write
          if (!answered && still_ours) {
            co_return co_await FailRequest(state, stream, outcome, 500, "internal",
                                           "websocket route did not answer", remote_ip, start);
          }
          outcome.status = slot->status;
          outcome.bytes_out = slot->bytes_out;
          Record(*state, outcome, remote_ip, start);
          if (still_ours) co_await LingeringClose(stream);
          co_return;  // an accepted stream now belongs to the WebSocket object
        }
      case RouteMatch::Kind::kHandler: {
        Request request = ToRequest(message, std::move(*target), remote_ip);
        request.body = std::move(message.body());
        request.route = match.route;
        request.path_params = std::move(match.path_params);
        request.request_id = outcome.request_id;
        response = co_await CallHandler(match.handler, std::move(request));
        break;
      }
      case RouteMatch::Kind::kStreaming: {
        Request request = ToRequest(message, std::move(*target), remote_ip);
        request.route = match.route;
        request.path_params = std::move(match.path_params);
        request.request_id = outcome.request_id;
        bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(parser));
        body_parser.body_limit(body_limit);
        StreamingBody<Stream> body(stream, buffer, body_parser, options.read_timeout);
        response = co_await CallStreamingHandler(match.streaming_handler, std::move(request), body);
        outcome.bytes_in = body.bytes();
        // Unread body bytes would be taken for the next request: close instead.
        if (!body.complete()) keep_alive = false;
        break;
      }
    }

    const bool keep_open = keep_alive && !state->stopping;
    outcome.status = SentStatus(response.status);
    auto [ec, bytes] =
        co_await WriteResponse(stream, std::move(response), version, keep_open, outcome.request_id,
                               head_request, options.read_timeout);
    outcome.bytes_out = bytes;
    Record(*state, outcome, remote_ip, start);
    if (ec) co_return;
    if (!keep_open) {
      co_await LingeringClose(stream);
      co_return;
    }
  }
}

// Keeps the connection visible to Server::Stop for exactly as long as its stream lives.
class Registration {
 public:
  Registration(std::shared_ptr<ServerState> state, std::shared_ptr<ConnectionControl> control)
      : state_(std::move(state)), control_(std::move(control)), id_(state_->Register(control_)) {}
  ~Registration() {
    control_->close_now = nullptr;
    state_->Unregister(id_);
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<ConnectionControl> control_;
  uint64_t id_;
};

asio::awaitable<void> RunPlain(std::shared_ptr<ServerState> state, tcp::socket socket,
                               std::string remote_ip) {
  auto control = std::make_shared<ConnectionControl>();
  control->strand = socket.get_executor();
  PlainStream stream(std::move(socket));
  control->close_now = [&stream] {
    beast::error_code ignored;
    stream.socket().close(ignored);
  };
  Registration registration(state, control);
  co_await ServeHttp(state, control, stream, std::move(remote_ip));
}

asio::awaitable<void> RunTls(std::shared_ptr<ServerState> state, tcp::socket socket,
                             std::string remote_ip) {
  auto control = std::make_shared<ConnectionControl>();
  control->strand = socket.get_executor();
  TlsStream stream(std::move(socket), *state->tls);
  control->close_now = [&stream] {
    beast::error_code ignored;
    Lowest(stream).socket().close(ignored);
  };
  Registration registration(state, control);
  Lowest(stream).expires_after(state->options.read_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAsTuple);
  if (ec) co_return;
  co_await ServeHttp(state, control, stream, std::move(remote_ip));
}

}  // namespace

void StartSession(std::shared_ptr<ServerState> state, tcp::socket socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  std::string remote_ip = ec ? std::string() : endpoint.address().to_string();
  auto executor = socket.get_executor();
  if (state->tls) {
    Spawn(executor, RunTls(std::move(state), std::move(socket), std::move(remote_ip)),
          "https session");
  } else {
    Spawn(executor, RunPlain(std::move(state), std::move(socket), std::move(remote_ip)),
          "http session");
  }
}

}  // namespace parley::http::internal

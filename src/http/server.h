// src/http/server.h
//
// An HTTP/1.1 server (optionally TLS) on Beast + Asio coroutines: keep-alive, request
// limits, timeouts, request ids, JSON errors, access log and metrics. Routes come from a
// Router; WebSocket routes upgrade in place.
//
//   ServerOptions options;  // 127.0.0.1:0 by default
//   Server server(runtime, options, router, metrics);  // or (runtime.context(), …)
//   PARLEY_ASSIGN_OR_RETURN(uint16_t port, server.Start());
//   …
//   server.Stop();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/websocket.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace parley::http {

class IoRuntime;

// One access-log record; views are valid only during the callback. Never carries bodies
// or the query string (it may hold tokens).
struct AccessLogEntry {
  std::string_view method;
  std::string_view route;  // matched pattern, "" when nothing matched
  std::string_view path;   // decoded path, no query
  int status = 0;
  int64_t duration_us = 0;  // from the first byte of the request to the last byte written
  uint64_t bytes_in = 0;    // request body bytes
  uint64_t bytes_out = 0;   // response body bytes
  std::string_view request_id;
  std::string_view remote_ip;
};

struct ServerOptions {
  std::string listen_host = "127.0.0.1";  // an IP address literal
  uint16_t listen_port = 0;               // 0: an ephemeral port (see Start's result)
  size_t max_header_bytes = 8192;         // request line + headers; more -> 431
  size_t max_body_bytes = 1 << 20;        // Content-Length or chunked total; more -> 413
  // Time allowed to receive one whole request once its first byte arrived (and for the
  // first request, from accept, including the TLS handshake). Also bounds each response
  // write. Slow clients are disconnected.
  std::chrono::milliseconds read_timeout{10000};
  // How long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60000};
  // PEM files; when both are set the listener speaks TLS (1.2 minimum). One without the
  // other is an error from Start.
  std::string tls_cert_file;
  std::string tls_key_file;
  WebSocketOptions websocket;
  // Called once per request on the connection's thread. Default (empty): the log line
  // "http.request" (log::Info) with method, route, path, status, duration and sizes.
  std::function<void(const AccessLogEntry&)> access_log;
};

namespace internal {
struct ServerState;
}  // namespace internal

// Every response carries Content-Type, Content-Length and X-Request-Id (the client's when
// it is 1..64 chars of [A-Za-z0-9._-], else "req_" + 16 hex chars), and JSON responses
// Cache-Control: no-store. Unknown path -> 404, wrong method -> 405 with Allow, malformed
// request -> 400 and close, handler exception -> 500 (the connection stays usable).
// Metrics: parley_http_requests_total{method,route,status_class} and
// parley_http_request_duration_seconds{method,route,status_class}.
//
// Thread safety: Start/Stop may be called from any thread, but not concurrently with each
// other. `io_context` may be run by several threads (each connection has its own strand).
// Lifetime: `router` and `metrics` must outlive every connection, i.e. stay alive until the
// io_context has stopped; the Server itself may be destroyed earlier (it calls Stop()).
class Server {
 public:
  // Every connection on `io_context`.
  Server(boost::asio::io_context& io_context, ServerOptions options, const Router& router,
         Metrics& metrics);
  // Listens on runtime.context() and gives each accepted connection the next of the
  // runtime's loops (IoRuntime::NextContext): a connection and its handlers stay on one
  // thread. `runtime` must outlive the Server's connections.
  Server(IoRuntime& runtime, ServerOptions options, const Router& router, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads TLS material, binds and starts accepting. Returns the bound port.
  // Errors: kInvalidArgument (bad host, only one of cert/key, unreadable or mismatched
  // cert/key), kUnavailable (bind/listen failed, e.g. port in use), kFailedPrecondition
  // (already started).
  Result<uint16_t> Start();

  // Stops accepting, closes idle connections at once and lets a request in progress
  // finish (its response carries Connection: close). WebSockets get a close frame with
  // code 1001 (going away). Idempotent; returns without waiting for connections to finish.
  void Stop();

  // After Stop: waits until every connection has ended or `timeout` has passed, while the
  // io_context keeps running. Returns the number of connections still open.
  size_t WaitForConnections(std::chrono::milliseconds timeout);

  // Number of connections accepted so far (for tests and metrics).
  uint64_t connections_accepted() const;

 private:
  std::shared_ptr<internal::ServerState> state_;
};

}  // namespace parley::http

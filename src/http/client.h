// src/http/client.h
//
// A pooled keep-alive HTTP/1.1 client for webhooks and provider APIs: http:// and
// https:// (certificates and host names verified, SNI, TLS 1.2+), one idle pool per
// (scheme, host, port), a per-request deadline and a response size limit.
//
//   Client client(runtime.context(), ClientOptions{});
//   auto response = co_await client.Send({.method = "POST", .url = endpoint_url,
//                                         .headers = {{"Content-Type", "application/json"}},
//                                         .body = payload});
//   if (!response.ok()) …  // transport failure; a 5xx is a response, not an error
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace parley::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url{};  // http://host[:port]/path?query or https://…
  // `{}` initializers keep designated initialization ({.url = …}) warning-free.
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  // Covers connect, TLS handshake, write and reading the whole response.
  std::chrono::milliseconds timeout{10000};
  // At most this many body bytes for this request's response (0 = the client's
  // max_response_bytes; never more than that). Reading stops as soon as it is passed.
  size_t max_response_bytes = 0;
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The first header named `lower_name` (lower case), if any.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

struct ClientOptions {
  // An extra PEM CA file to trust besides the system store (tests, private CAs).
  std::string ca_file;
  size_t max_idle_per_host = 8;
  // Idle pooled connections older than this are closed instead of reused.
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_response_bytes = 4 << 20;  // body; bigger -> kResourceExhausted
  size_t max_response_header_bytes = 64 * 1024;
};

namespace internal {
class ClientState;
}  // namespace internal

// Thread safety: Send may be called concurrently from coroutines on any executor of
// `io_context`. Lifetime: `io_context` must outlive the Client; in-flight Sends keep the
// client's shared state alive.
class Client {
 public:
  // Loading ca_file errors are reported by every Send (kInvalidArgument).
  Client(boost::asio::io_context& io_context, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request. The response may have any status (4xx/5xx are not errors).
  // Errors: kInvalidArgument (bad URL, unsupported scheme, header with CR/LF, bad ca_file),
  //         kUnavailable (resolve/connect/TLS failure including certificate verification,
  //         reset, malformed response), kDeadlineExceeded (timeout),
  //         kResourceExhausted (response larger than the request's or the client's
  //         max_response_bytes).
  // A pooled connection that fails before any response byte is retried once on a fresh
  // connection (it was probably closed by the server while idle).
  boost::asio::awaitable<Result<ClientResponse>> Send(ClientRequest request);

  // Idle pooled connections across all hosts (for tests and metrics).
  size_t idle_connections() const;

 private:
  std::shared_ptr<internal::ClientState> state_;
};

}  // namespace parley::http

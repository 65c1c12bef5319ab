// src/http/websocket.h
//
// Server-side WebSocket, as seen by a route handler. The handler gets the upgrade request
// before the handshake is answered, authenticates it, then Accepts or Rejects:
//
//   router.AddWebSocket("/v1/stream", [](Request req, std::unique_ptr<WebSocketUpgrade> up)
//       -> boost::asio::awaitable<void> { return Stream(std::move(req), std::move(up)); });
//   // in Stream(): if (!Authorized(req)) co_return co_await up->Reject(ErrorResponse(…));
//   //              auto ws = co_await up->Accept();  … co_await (*ws)->Write("{…}");
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/message.h"

namespace parley::http {

// An open WebSocket connection. Shared: in-flight operations keep it alive.
// Thread safety: methods may be called from any executor (they run on the connection's
// strand), but at most one Read and one Write (or Close) may be in flight at once.
class WebSocket {
 public:
  virtual ~WebSocket() = default;

  // The next message (text or binary payload).
  // Errors: kUnavailable when the peer closed, the connection broke or the server stopped;
  //         kResourceExhausted when the message exceeded the size limit (the connection is
  //         then closed with code 1009).
  virtual boost::asio::awaitable<Result<std::string>> Read() = 0;

  // Sends one text message. Errors: kUnavailable when the connection is gone.
  virtual boost::asio::awaitable<Status> Write(std::string text) = 0;

  // Sends a close frame with `code` and `reason` (truncated to 123 bytes) and waits for
  // the peer's answer (bounded by the handshake timeout). Best effort; never fails.
  virtual boost::asio::awaitable<void> Close(uint16_t code, std::string reason) = 0;

  // The connection's strand.
  virtual boost::asio::any_io_executor executor() = 0;
};

// Handed to a WebSocket route before the handshake is answered; use exactly one of
// Accept or Reject, once. If the handler does neither, the server answers 500.
class WebSocketUpgrade {
 public:
  virtual ~WebSocketUpgrade() = default;

  // Completes the handshake. Errors: kUnavailable (handshake failed, peer gone),
  // kFailedPrecondition (already accepted or rejected).
  virtual boost::asio::awaitable<Result<std::shared_ptr<WebSocket>>> Accept() = 0;

  // Answers the upgrade request with a plain HTTP response and closes the connection.
  virtual boost::asio::awaitable<void> Reject(Response response) = 0;
};

using WebSocketHandler =
    std::function<boost::asio::awaitable<void>(Request, std::unique_ptr<WebSocketUpgrade>)>;

// Limits for WebSocket connections accepted by a Server.
struct WebSocketOptions {
  // Bigger messages close the connection with 1009 (message too big).
  std::size_t max_message_bytes = 64 * 1024;
};

}  // namespace parley::http

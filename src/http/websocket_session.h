// src/http/websocket_session.h — internal to src/http; included only by session.cc.
//
// The Beast implementations of WebSocketUpgrade and WebSocket, for plain and TLS streams.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "http/beast_util.h"
#include "http/io_runtime.h"
#include "http/response_writer.h"
#include "http/server_state.h"
#include "http/websocket.h"

namespace parley::http::internal {

namespace ws = boost::beast::websocket;

// How long Server::Stop waits for a WebSocket client to answer its close frame.
inline constexpr std::chrono::seconds kGoingAwayTimeout{1};

// Outcomes carried out of co_spawn must be default-constructible, which Result is not.
struct ReadOutcome {
  Status status;
  std::string payload;
};

template <class Stream>
class WebSocketImpl final : public WebSocket,
                            public std::enable_shared_from_this<WebSocketImpl<Stream>> {
 public:
  WebSocketImpl(Stream stream, std::shared_ptr<ServerState> state)
      : ws_(std::move(stream)), state_(std::move(state)), strand_(ws_.get_executor()) {}

  ~WebSocketImpl() override {
    if (registration_ != 0) state_->Unregister(registration_);
  }

  // Handshake; runs on the connection's strand (inside the session coroutine).
  static boost::asio::awaitable<boost::beast::error_code> Accept(
      std::shared_ptr<WebSocketImpl> self,
      const boost::beast::http::request<boost::beast::http::string_body>& request,
      std::string request_id) {
    // Beast's websocket timeouts replace the tcp_stream's (they must not both run).
    Lowest(self->ws_.next_layer()).expires_never();
    self->ws_.set_option(ws::stream_base::timeout::suggested(boost::beast::role_type::server));
    self->ws_.set_option(ws::stream_base::decorator(
        [request_id](ws::response_type& response) { response.set("X-Request-Id", request_id); }));
    self->ws_.read_message_max(self->state_->options.websocket.max_message_bytes);
    auto [ec] = co_await self->ws_.async_accept(request, kAsTuple);
    if (ec) co_return ec;
    auto control = std::make_shared<ConnectionControl>();
    control->strand = self->strand_;
    control->websocket = true;
    std::weak_ptr<WebSocketImpl> weak = self;
    // Server::Stop: tell the client we are going away (1001), so it reconnects elsewhere or
    // later. A client that does not answer the close is cut off after kGoingAwayTimeout.
    control->close_now = [weak] {
      if (auto locked = weak.lock()) {
        Spawn(locked->strand_, GoingAway(locked), "websocket close");
      }
    };
    self->registration_ = self->state_->Register(std::move(control));
    // A Stop() that ran before Register could not see us: honour it now.
    if (self->state_->stopping) {
      co_await GoingAway(self);
      co_return boost::asio::error::operation_aborted;
    }
    co_return ec;
  }

  // A caller already on the socket's strand (the usual case: handlers run there) awaits the
  // operation directly; any other caller hops to the strand through co_spawn.
  boost::asio::awaitable<Result<std::string>> Read() override {
    ReadOutcome outcome;
    auto current = co_await boost::asio::this_coro::executor;
    if (current == strand_) {
      outcome = co_await DoRead(this->shared_from_this());
    } else {
      auto [error, spawned] =
          co_await boost::asio::co_spawn(strand_, DoRead(this->shared_from_this()), kAsTuple);
      if (error) co_return Internal("websocket read failed unexpectedly");
      outcome = std::move(spawned);
    }
    if (!outcome.status.ok()) co_return outcome.status;
    co_return std::move(outcome.payload);
  }

  boost::asio::awaitable<Status> Write(std::string text) override {
    auto current = co_await boost::asio::this_coro::executor;
    if (current == strand_) co_return co_await DoWrite(this->shared_from_this(), std::move(text));
    auto [error, status] = co_await boost::asio::co_spawn(
        strand_, DoWrite(this->shared_from_this(), std::move(text)), kAsTuple);
    if (error) co_return Internal("websocket write failed unexpectedly");
    co_return status;
  }

  boost::asio::awaitable<void> Close(uint16_t code, std::string reason) override {
    if (reason.size() > 123) reason.resize(123);  // a close frame payload is at most 125 bytes
    auto [error] = co_await boost::asio::co_spawn(
        strand_, DoClose(this->shared_from_this(), code, std::move(reason)), kAsTuple);
    (void)error;
  }

  boost::asio::any_io_executor executor() override { return strand_; }

 private:
  static boost::asio::awaitable<ReadOutcome> DoRead(std::shared_ptr<WebSocketImpl> self) {
    self->read_buffer_.clear();
    auto [ec, n] = co_await self->ws_.async_read(self->read_buffer_, kAsTuple);
    if (ec == ws::error::message_too_big) {
      // Beast has already failed the connection with close code 1009.
      co_return ReadOutcome{ResourceExhausted("websocket message too big"), {}};
    }
    if (ec) co_return ReadOutcome{Unavailable("websocket closed: " + ec.message()), {}};
    co_return ReadOutcome{OkStatus(), boost::beast::buffers_to_string(self->read_buffer_.data())};
  }

  static boost::asio::awaitable<Status> DoWrite(std::shared_ptr<WebSocketImpl> self,
                                                std::string text) {
    self->ws_.text(true);
    auto [ec, n] = co_await self->ws_.async_write(boost::asio::buffer(text), kAsTuple);
    if (ec) co_return Unavailable("websocket write failed: " + ec.message());
    co_return OkStatus();
  }

  static boost::asio::awaitable<void> GoingAway(std::shared_ptr<WebSocketImpl> self) {
    auto timeout = ws::stream_base::timeout::suggested(boost::beast::role_type::server);
    timeout.handshake_timeout = kGoingAwayTimeout;
    self->ws_.set_option(timeout);
    co_await DoClose(std::move(self), 1001, "server shutting down");
  }

  // Runs on the strand. Beast allows one close per stream: the first caller wins, whether it
  // is the handler's Close or Server::Stop.
  static boost::asio::awaitable<void> DoClose(std::shared_ptr<WebSocketImpl> self, uint16_t code,
                                              std::string reason) {
    if (self->close_started_ || !self->ws_.is_open()) co_return;
    self->close_started_ = true;
    ws::close_reason close_reason(static_cast<ws::close_code>(code), reason);
    auto [ec] = co_await self->ws_.async_close(close_reason, kAsTuple);
    (void)ec;
  }

  ws::stream<Stream> ws_;
  std::shared_ptr<ServerState> state_;
  boost::asio::any_io_executor strand_;
  boost::beast::flat_buffer read_buffer_;  // used only by the one in-flight Read
  uint64_t registration_ = 0;
  bool close_started_ = false;  // on the strand
};

// What the session and the upgrade object share: the session's stream until the handler
// returns, and how the upgrade ended (for the access log).
//
// The handler runs as a coroutine of its own: the HTTP session waits only until the upgrade
// is answered (accepted or rejected) or the handler returns, then ends, so that its frame and
// buffers are not kept for the life of the socket.
template <class Stream>
struct UpgradeSlot {
  explicit UpgradeSlot(boost::asio::any_io_executor executor) : decided_timer(executor) {
    decided_timer.expires_at(boost::asio::steady_timer::time_point::max());
  }
  Stream* stream = nullptr;  // null once the session stopped waiting or the stream moved away
  boost::beast::http::request<boost::beast::http::string_body> request;
  std::shared_ptr<ServerState> state;
  std::string request_id;
  bool head_request = false;
  int status = 0;  // 101 accepted, the Reject status, or 0 when neither happened
  uint64_t bytes_out = 0;
  bool decided = false;  // the upgrade was answered or the handler returned
  boost::asio::steady_timer decided_timer;

  // Wakes the waiting session; on the connection's strand.
  void Decide() {
    if (decided) return;
    decided = true;
    decided_timer.cancel();
  }
  boost::asio::awaitable<void> WaitDecided() {
    if (!decided) co_await decided_timer.async_wait(kAsTuple);
  }
};

template <class Stream>
class WebSocketUpgradeImpl final : public WebSocketUpgrade {
 public:
  explicit WebSocketUpgradeImpl(std::shared_ptr<UpgradeSlot<Stream>> slot)
      : slot_(std::move(slot)) {}

  boost::asio::awaitable<Result<std::shared_ptr<WebSocket>>> Accept() override {
    std::shared_ptr<UpgradeSlot<Stream>> slot = slot_;
    if (slot->stream == nullptr || slot->status != 0) {
      co_return FailedPrecondition("websocket upgrade already answered");
    }
    auto socket = std::make_shared<WebSocketImpl<Stream>>(std::move(*slot->stream), slot->state);
    slot->stream = nullptr;
    const auto ec = co_await WebSocketImpl<Stream>::Accept(socket, slot->request, slot->request_id);
    slot->status = ec ? 400 : 101;  // for the access log: the handshake did not complete
    slot->request = {};             // the socket may live for hours; the request need not
    slot->Decide();
    if (ec) co_return Unavailable("websocket handshake failed: " + ec.message());
    co_return std::shared_ptr<WebSocket>(std::move(socket));
  }

  boost::asio::awaitable<void> Reject(Response response) override {
    std::shared_ptr<UpgradeSlot<Stream>> slot = slot_;
    if (slot->stream == nullptr || slot->status != 0) co_return;
    slot->status = response.status;
    auto [ec, bytes] = co_await WriteResponse(
        *slot->stream, std::move(response), slot->request.version(), /*keep_alive=*/false,
        slot->request_id, slot->head_request, slot->state->options.read_timeout);
    slot->bytes_out = bytes;
    slot->Decide();
  }

 private:
  std::shared_ptr<UpgradeSlot<Stream>> slot_;
};

}  // namespace parley::http::internal

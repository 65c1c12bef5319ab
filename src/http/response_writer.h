// src/http/response_writer.h — internal to src/http; include only from Beast translation units.
//
// Turns a handler's Response into bytes on the wire with the headers every Parley response
// carries (Content-Type, Content-Length, X-Request-Id, Cache-Control for JSON): the head is
// rendered by RenderResponseHead and goes out with the body in one gathered write.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <string>

#include "http/beast_util.h"
#include "http/message.h"
#include "http/response_head.h"

namespace parley::http::internal {

// Writes the header, then the chunks of `response.stream` as they are produced (the status
// already through SentStatus); each write is bounded by `timeout`. A source error or a length
// other than the announced one fails the write (the caller then drops the connection).
template <class Stream>
boost::asio::awaitable<std::pair<boost::beast::error_code, uint64_t>> WriteStreamedResponse(
    Stream& stream, Response response, unsigned version, bool keep_alive, std::string request_id,
    bool head_request, std::chrono::milliseconds timeout) {
  auto source = std::move(response.stream);
  const uint64_t length = response.stream_length;
  response.stream = nullptr;
  const std::string head = RenderResponseHead(response, version, keep_alive, request_id, length);
  Lowest(stream).expires_after(timeout);
  auto [ec, n] = co_await boost::asio::async_write(stream, boost::asio::buffer(head), kAsTuple);
  Lowest(stream).expires_never();
  // A status without a body has no Content-Length to frame one: the stream is not sent.
  if (ec || head_request || StatusForbidsBody(response.status)) {
    co_return std::make_pair(ec, uint64_t{0});
  }
  uint64_t sent = 0;
  for (;;) {
    auto chunk = co_await source();
    if (!chunk.ok() || sent + chunk->size() > length) {
      co_return std::make_pair(boost::beast::error_code(boost::asio::error::connection_aborted),
                               sent);
    }
    if (chunk->empty()) break;
    Lowest(stream).expires_after(timeout);
    auto [write_ec, written] =
        co_await boost::asio::async_write(stream, boost::asio::buffer(*chunk), kAsTuple);
    Lowest(stream).expires_never();
    if (write_ec) co_return std::make_pair(write_ec, sent);
    sent += written;
  }
  if (sent != length) {
    co_return std::make_pair(boost::beast::error_code(boost::asio::error::connection_aborted),
                             sent);
  }
  co_return std::make_pair(boost::beast::error_code(), sent);
}

// Writes `response`; returns the body bytes written, or an error code. Bounded by
// `timeout` so a client that stops reading cannot hold the connection.
template <class Stream>
boost::asio::awaitable<std::pair<boost::beast::error_code, uint64_t>> WriteResponse(
    Stream& stream, Response response, unsigned version, bool keep_alive, std::string request_id,
    bool head_request, std::chrono::milliseconds timeout) {
  response.status = SentStatus(response.status);
  if (response.stream) {
    co_return co_await WriteStreamedResponse(stream, std::move(response), version, keep_alive,
                                             std::move(request_id), head_request, timeout);
  }
  const uint64_t body_bytes = response.body.size();
  const bool send_body = !head_request && !StatusForbidsBody(response.status);
  const std::string head =
      RenderResponseHead(response, version, keep_alive, request_id, body_bytes);
  const std::array<boost::asio::const_buffer, 2> buffers = {
      boost::asio::buffer(head),
      send_body ? boost::asio::buffer(response.body) : boost::asio::const_buffer()};
  Lowest(stream).expires_after(timeout);
  auto [ec, n] = co_await boost::asio::async_write(stream, buffers, kAsTuple);
  Lowest(stream).expires_never();
  co_return std::make_pair(ec, ec || !send_body ? 0 : body_bytes);
}

}  // namespace parley::http::internal

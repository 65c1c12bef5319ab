// src/http/response_writer.h — internal to src/http; include only from Beast translation units.
//
// Turns a handler's Response into bytes on the wire with the headers every Parley response
// carries (Content-Type, Content-Length, X-Request-Id, Cache-Control for JSON).
#pragma once

#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <string>

#include "http/beast_util.h"
#include "http/message.h"

namespace parley::http::internal {

// Header names and values a handler supplies must not smuggle CR/LF into the response.
inline bool IsSafeHeaderText(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

inline boost::beast::http::response<boost::beast::http::string_body> ToBeastResponse(
    Response response, unsigned version, bool keep_alive, const std::string& request_id,
    bool head_request) {
  namespace bhttp = boost::beast::http;
  bhttp::response<bhttp::string_body> out;
  out.version(version);
  if (response.status < 200 || response.status > 599) response.status = 500;
  out.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) {
    if (!name.empty() && IsSafeHeaderText(name) && IsSafeHeaderText(value)) out.set(name, value);
  }
  const std::string_view content_type = IsSafeHeaderText(response.content_type)
                                            ? std::string_view(response.content_type)
                                            : std::string_view("application/octet-stream");
  out.set(bhttp::field::content_type, content_type);
  if (content_type.starts_with("application/json"))
    out.set(bhttp::field::cache_control, "no-store");
  out.set("X-Request-Id", request_id);
  out.keep_alive(keep_alive);
  if (head_request) {
    // HEAD: announce the length of the body a GET would carry, send none.
    out.content_length(response.body.size());
  } else {
    out.body() = std::move(response.body);
    out.prepare_payload();
  }
  return out;
}

// Writes the header, then the chunks of `response.stream` as they are produced; each write is
// bounded by `timeout`. A source error or a length other than the announced one fails the
// write (the caller then drops the connection).
template <class Stream>
boost::asio::awaitable<std::pair<boost::beast::error_code, uint64_t>> WriteStreamedResponse(
    Stream& stream, Response response, unsigned version, bool keep_alive, std::string request_id,
    bool head_request, std::chrono::milliseconds timeout) {
  namespace bhttp = boost::beast::http;
  auto source = std::move(response.stream);
  const uint64_t length = response.stream_length;
  response.stream = nullptr;
  auto full = ToBeastResponse(std::move(response), version, keep_alive, request_id, false);
  full.content_length(length);
  bhttp::response<bhttp::empty_body> head(std::move(full.base()));
  bhttp::response_serializer<bhttp::empty_body> serializer(head);
  Lowest(stream).expires_after(timeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kAsTuple);
  Lowest(stream).expires_never();
  if (ec || head_request) co_return std::make_pair(ec, uint64_t{0});
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
  if (response.stream) {
    co_return co_await WriteStreamedResponse(stream, std::move(response), version, keep_alive,
                                             std::move(request_id), head_request, timeout);
  }
  auto message =
      ToBeastResponse(std::move(response), version, keep_alive, request_id, head_request);
  const uint64_t body_bytes = message.body().size();
  Lowest(stream).expires_after(timeout);
  auto [ec, n] = co_await boost::beast::http::async_write(stream, message, kAsTuple);
  Lowest(stream).expires_never();
  co_return std::make_pair(ec, ec ? 0 : body_bytes);
}

}  // namespace parley::http::internal

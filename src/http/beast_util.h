// src/http/beast_util.h — internal to src/http; include only from Beast translation units.
//
// Stream aliases and small helpers shared by the server session and the WebSocket code.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace parley::http::internal {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Every I/O operation completes with its error code as a value: disconnects are normal
// and must not throw (ENGINEERING-NOTES trap 4).
inline constexpr auto kAsTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

inline boost::beast::tcp_stream& Lowest(PlainStream& stream) { return stream; }
inline boost::beast::tcp_stream& Lowest(TlsStream& stream) { return stream.next_layer(); }

}  // namespace parley::http::internal

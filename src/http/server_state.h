// src/http/server_state.h — internal to src/http (not for other modules).
//
// State shared by a Server, its accept loop and its connections. Connections hold it by
// shared_ptr so a Server may be destroyed while they finish.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace parley::http::internal {

// Lets Stop() reach one connection. Every field is used only on `strand`.
struct ConnectionControl {
  boost::asio::any_io_executor strand;
  std::function<void()> close_now;  // closes the socket; cleared when the socket is gone
  bool busy = false;                // a request is being read, handled or answered
  bool websocket = false;           // upgraded: Stop closes it even when busy
};

struct ServerState {
  ServerState(boost::asio::io_context& io, ServerOptions opts, const Router& r, Metrics& m);

  // Registers a connection for Stop(); returns the id for Unregister.
  uint64_t Register(std::shared_ptr<ConnectionControl> control);
  void Unregister(uint64_t id);
  // Posts a close to every registered connection that is idle or a WebSocket.
  void CloseConnections();
  size_t OpenConnections();

  // The request counter's and latency histogram's series for one (method, route, status
  // class) label set, looked up in the registry once and then kept: the registry's lookup
  // builds label vectors and compares them under its lock, on every request.
  struct RequestSeries {
    Counter::Series* requests;
    Histogram::Series* latency;
  };
  RequestSeries SeriesFor(std::string_view method, std::string_view route,
                          std::string_view status_class);

  boost::asio::io_context& io_context;
  IoRuntime* runtime = nullptr;  // set: accepted connections go to its loops in turn
  const ServerOptions options;
  const Router& router;
  Counter& requests;
  Histogram& latency;
  std::optional<boost::asio::ssl::context> tls;              // set by Start when TLS is configured
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;  // used on its own strand
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> accepted{0};

 private:
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<ConnectionControl>> connections_;
  std::mutex series_mu_;
  std::unordered_map<std::string, RequestSeries> series_;  // key: method \n route \n class
};

// Runs one accepted connection (TLS if state->tls) on the socket's strand. Defined in
// session.cc, the Beast translation unit.
void StartSession(std::shared_ptr<ServerState> state, boost::asio::ip::tcp::socket socket);

}  // namespace parley::http::internal

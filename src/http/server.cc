// src/http/server.cc
//
// The listener side of Server: TLS context, bind, accept loop and Stop. The per-connection
// protocol lives in session.cc so Beast is compiled in one place.
#include "http/server.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>
#include <utility>

#include "core/log.h"
#include "http/io_runtime.h"
#include "http/server_state.h"

namespace parley::http {
namespace internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ServerState::ServerState(asio::io_context& io, ServerOptions opts, const Router& r, Metrics& m)
    : io_context(io),
      options(std::move(opts)),
      router(r),
      requests(m.AddCounter("parley_http_requests_total", "HTTP requests answered.",
                            {"method", "route", "status_class"})),
      latency(m.AddHistogram("parley_http_request_duration_seconds",
                             "Time from the first request byte to the last response byte.",
                             {"method", "route", "status_class"}, DefaultLatencyBuckets())) {}

uint64_t ServerState::Register(std::shared_ptr<ConnectionControl> control) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  connections_.emplace(id, std::move(control));
  return id;
}

void ServerState::Unregister(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

void ServerState::CloseConnections() {
  std::lock_guard lock(mu_);
  for (const auto& [id, control] : connections_) {
    // The control's fields belong to its strand, so decide there.
    asio::post(control->strand, [control = control] {
      if ((!control->busy || control->websocket) && control->close_now) control->close_now();
    });
  }
}

size_t ServerState::OpenConnections() {
  std::lock_guard lock(mu_);
  return connections_.size();
}

ServerState::RequestSeries ServerState::SeriesFor(std::string_view method, std::string_view route,
                                                  std::string_view status_class) {
  // Labels are bounded (known methods, the route table, five classes), and so is this map.
  std::string key;
  key.reserve(method.size() + route.size() + status_class.size() + 2);
  key.append(method).append(1, '\n').append(route).append(1, '\n').append(status_class);
  std::lock_guard lock(series_mu_);
  if (auto it = series_.find(key); it != series_.end()) return it->second;
  const std::vector<std::string> labels = {std::string(method), std::string(route),
                                           std::string(status_class)};
  RequestSeries found{&requests.WithLabels(labels), &latency.WithLabels(labels)};
  series_.emplace(key, found);
  return found;
}

namespace {

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state) {
  while (true) {
    // The connection's executor (ConnectionControl::strand). A runtime's loop has one
    // thread, which already orders everything on it; a shared io_context needs a strand.
    asio::any_io_executor executor =
        state->runtime ? asio::any_io_executor(state->runtime->NextContext().get_executor())
                       : asio::any_io_executor(asio::make_strand(state->io_context));
    auto [ec, socket] =
        co_await state->acceptor->async_accept(executor, asio::as_tuple(asio::use_awaitable));
    if (state->stopping || !state->acceptor->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning on the error.
      log::Warn("http.accept_failed", {{"error", ec.message()}});
      asio::steady_timer timer(state->acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    state->accepted.fetch_add(1);
    // Small writes (a WebSocket frame, a short response) leave at once rather than waiting
    // for the peer's delayed ACK (Nagle): that wait cost 12-15 ms per live event.
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    StartSession(state, std::move(socket));
  }
}

Status LoadTls(ServerState& state) {
  const auto& options = state.options;
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return OkStatus();
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return InvalidArgument("tls_cert_file and tls_key_file must be set together");
  }
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    return Internal("cannot set the minimum TLS version");
  }
  boost::system::error_code ec;
  context.use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) return InvalidArgument("cannot load tls_cert_file: " + ec.message());
  context.use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) return InvalidArgument("cannot load tls_key_file: " + ec.message());
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return InvalidArgument("tls_key_file does not match tls_cert_file");
  }
  state.tls.emplace(std::move(context));
  return OkStatus();
}

}  // namespace
}  // namespace internal

Server::Server(boost::asio::io_context& io_context, ServerOptions options, const Router& router,
               Metrics& metrics)
    : state_(std::make_shared<internal::ServerState>(io_context, std::move(options), router,
                                                     metrics)) {}

Server::Server(IoRuntime& runtime, ServerOptions options, const Router& router, Metrics& metrics)
    : Server(runtime.context(), std::move(options), router, metrics) {
  state_->runtime = &runtime;
}

Server::~Server() { Stop(); }

Result<uint16_t> Server::Start() {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  if (state_->started.exchange(true)) return FailedPrecondition("server already started");
  PARLEY_RETURN_IF_ERROR(internal::LoadTls(*state_));

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(state_->options.listen_host, ec);
  if (ec) return InvalidArgument("listen_host is not an IP address");
  const tcp::endpoint endpoint(address, state_->options.listen_port);

  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(state_->io_context));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Unavailable("cannot listen on " + state_->options.listen_host + ":" +
                       std::to_string(state_->options.listen_port) + ": " + ec.message());
  const uint16_t port = acceptor->local_endpoint(ec).port();
  if (ec) return Unavailable("cannot read the bound port: " + ec.message());

  state_->acceptor = std::move(acceptor);
  Spawn(state_->acceptor->get_executor(), internal::AcceptLoop(state_), "http accept loop");
  return port;
}

void Server::Stop() {
  if (state_->stopping.exchange(true)) return;
  if (state_->acceptor) {
    boost::asio::post(state_->acceptor->get_executor(), [state = state_] {
      boost::system::error_code ignored;
      state->acceptor->close(ignored);
    });
  }
  state_->CloseConnections();
}

size_t Server::WaitForConnections(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t open = state_->OpenConnections();
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    open = state_->OpenConnections();
  }
  return open;
}

uint64_t Server::connections_accepted() const { return state_->accepted.load(); }

}  // namespace parley::http

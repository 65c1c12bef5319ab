// src/http/client.cc
//
// The pooled HTTP(S) client. Each connection has its own strand and every exchange on it
// runs there (co_spawn), so the tcp_stream's timer and our operations never race even when
// the io_context runs on several threads.
#include "http/client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "http/beast_util.h"

namespace parley::http {

std::optional<std::string_view> ClientResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

namespace internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct Target {
  bool tls = false;
  std::string host;         // for DNS, SNI and certificate checks (no brackets)
  std::string host_header;  // as sent in Host
  uint16_t port = 0;
  std::string resource;  // path and query
  std::string pool_key;
};

Result<Target> ParseUrl(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("malformed url");
  const boost::urls::url_view& view = *parsed;
  Target target;
  if (view.scheme_id() == boost::urls::scheme::https) {
    target.tls = true;
  } else if (view.scheme_id() != boost::urls::scheme::http) {
    return InvalidArgument("unsupported url scheme (want http or https)");
  }
  if (!view.has_authority() || view.host_address().empty()) {
    return InvalidArgument("url has no host");
  }
  if (view.has_userinfo()) return InvalidArgument("credentials in urls are not supported");
  target.host = view.host_address();
  if (view.has_port()) {
    if (view.port_number() == 0) return InvalidArgument("bad port in url");
    target.port = view.port_number();
  } else {
    target.port = target.tls ? 443 : 80;
  }
  target.host_header = std::string(view.encoded_host());
  if (view.has_port()) target.host_header += ":" + std::to_string(target.port);
  target.resource = view.encoded_path().empty() ? "/" : std::string(view.encoded_path());
  if (view.has_query()) target.resource += "?" + std::string(view.encoded_query());
  target.pool_key =
      (target.tls ? "https://" : "http://") + target.host + ":" + std::to_string(target.port);
  return target;
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

// One keep-alive connection; exactly one of `plain`/`tls` is set once connected.
struct Connection {
  explicit Connection(asio::any_io_executor ex) : executor(std::move(ex)) {}
  asio::any_io_executor executor;  // a strand of its own
  std::unique_ptr<PlainStream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;
};

class ClientState {
 public:
  ClientState(asio::io_context& io, ClientOptions opts) : io_context(io), options(std::move(opts)) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    context.set_default_verify_paths(ec);
    if (!ec && !options.ca_file.empty()) context.load_verify_file(options.ca_file, ec);
    if (ec) {
      tls_status = InvalidArgument("cannot load CA certificates: " + ec.message());
    } else {
      context.set_verify_mode(asio::ssl::verify_peer);
      tls.emplace(std::move(context));
    }
  }

  std::shared_ptr<Connection> TakeIdle(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    const auto now = SteadyClock::now();
    while (!it->second.empty()) {
      std::shared_ptr<Connection> connection = std::move(it->second.back());
      it->second.pop_back();
      if (now - connection->idle_since < options.idle_timeout) return connection;
    }
    return nullptr;
  }

  void ReturnIdle(const std::string& key, std::shared_ptr<Connection> connection) {
    std::lock_guard lock(mu_);
    auto& list = idle_[key];
    if (list.size() >= options.max_idle_per_host) return;  // dropping closes it
    connection->idle_since = SteadyClock::now();
    list.push_back(std::move(connection));
  }

  size_t IdleCount() const {
    std::lock_guard lock(mu_);
    size_t count = 0;
    for (const auto& [key, list] : idle_) count += list.size();
    return count;
  }

  asio::io_context& io_context;
  const ClientOptions options;
  std::optional<asio::ssl::context> tls;
  Status tls_status;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<std::shared_ptr<Connection>>> idle_;
};

// The result of one attempt; default-constructible so it can cross co_spawn.
struct Attempt {
  Status status;
  ClientResponse response;
  bool keep_alive = false;
  bool stale = false;  // failed before any response byte on a reused connection
};

Status TransportError(const beast::error_code& ec, std::string_view what,
                      SteadyClock::time_point deadline) {
  if (ec == beast::error::timeout || SteadyClock::now() >= deadline) {
    return DeadlineExceeded(std::string(what) + " timed out");
  }
  return Unavailable(std::string(what) + " failed: " + ec.message());
}

asio::awaitable<Status> Connect(std::shared_ptr<ClientState> state,
                                std::shared_ptr<Connection> connection, Target target,
                                SteadyClock::time_point deadline) {
  auto executor = connection->executor;
  auto resolver = std::make_shared<tcp::resolver>(executor);
  // Resolvers have no deadline of their own: a timer cancels the lookup.
  asio::steady_timer timer(executor, deadline);
  timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code ec) {
    if (auto locked = weak.lock(); locked && !ec) locked->cancel();
  });
  auto [resolve_ec, endpoints] =
      co_await resolver->async_resolve(target.host, std::to_string(target.port), kAsTuple);
  timer.cancel();
  if (resolve_ec) co_return TransportError(resolve_ec, "resolve", deadline);

  PlainStream stream(executor);
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kAsTuple);
  if (connect_ec) co_return TransportError(connect_ec, "connect", deadline);
  stream.socket().set_option(tcp::no_delay(true));
  if (!target.tls) {
    stream.expires_never();
    connection->plain = std::make_unique<PlainStream>(std::move(stream));
    co_return OkStatus();
  }

  if (!state->tls) co_return state->tls_status;
  auto tls = std::make_unique<TlsStream>(std::move(stream), *state->tls);
  boost::system::error_code ec;
  asio::ip::make_address(target.host, ec);
  const bool is_ip = !ec;
  if (!is_ip && SSL_set_tlsext_host_name(tls->native_handle(), target.host.c_str()) != 1) {
    co_return Unavailable("cannot set TLS SNI");
  }
  tls->set_verify_mode(asio::ssl::verify_peer);
  tls->set_verify_callback(asio::ssl::host_name_verification(target.host));
  Lowest(*tls).expires_at(deadline);
  auto [handshake_ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kAsTuple);
  if (handshake_ec) co_return TransportError(handshake_ec, "tls handshake", deadline);
  Lowest(*tls).expires_never();
  connection->tls = std::move(tls);
  co_return OkStatus();
}

template <class Stream>
asio::awaitable<Attempt> Exchange(std::shared_ptr<ClientState> state, Stream& stream,
                                  beast::flat_buffer& buffer, const ClientRequest& request,
                                  const Target& target, bool reused,
                                  SteadyClock::time_point deadline) {
  Attempt attempt;
  bhttp::request<bhttp::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(target.resource);
  message.set(bhttp::field::host, target.host_header);
  message.set(bhttp::field::user_agent, "parley");
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.body() = request.body;
  message.keep_alive(true);
  message.prepare_payload();

  Lowest(stream).expires_at(deadline);
  auto [write_ec, written] = co_await bhttp::async_write(stream, message, kAsTuple);
  if (write_ec) {
    attempt.stale = reused && write_ec != beast::error::timeout;
    attempt.status = TransportError(write_ec, "write", deadline);
    co_return attempt;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(state->options.max_response_header_bytes));
  size_t body_limit = state->options.max_response_bytes;
  if (request.max_response_bytes != 0)
    body_limit = std::min(body_limit, request.max_response_bytes);
  parser.body_limit(body_limit);
  if (request.method == "HEAD") parser.skip(true);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
  Lowest(stream).expires_never();
  if (read_ec) {
    if (read_ec == bhttp::error::body_limit) {
      attempt.status = ResourceExhausted("response larger than max_response_bytes");
    } else {
      attempt.stale = reused && !parser.got_some() && read_ec != beast::error::timeout;
      attempt.status = TransportError(read_ec, "read", deadline);
    }
    co_return attempt;
  }
  auto& response = parser.get();
  attempt.response.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    attempt.response.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  attempt.response.body = std::move(response.body());
  attempt.keep_alive = response.keep_alive() && !parser.need_eof();
  co_return attempt;
}

asio::awaitable<Attempt> RunAttempt(std::shared_ptr<ClientState> state,
                                    std::shared_ptr<Connection> connection, ClientRequest request,
                                    Target target, SteadyClock::time_point deadline) {
  const bool reused = connection->plain || connection->tls;
  if (!reused) {
    Status status = co_await Connect(state, connection, target, deadline);
    if (!status.ok()) co_return Attempt{std::move(status), {}, false, false};
  }
  if (connection->tls) {
    co_return co_await Exchange(state, *connection->tls, connection->buffer, request, target,
                                reused, deadline);
  }
  co_return co_await Exchange(state, *connection->plain, connection->buffer, request, target,
                              reused, deadline);
}

asio::awaitable<Result<ClientResponse>> DoSend(std::shared_ptr<ClientState> state,
                                               ClientRequest request) {
  PARLEY_CO_ASSIGN_OR_RETURN(Target target, ParseUrl(request.url));
  if (target.tls && !state->tls) co_return state->tls_status;
  if (!IsToken(request.method)) co_return InvalidArgument("bad request method");
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || value.find_first_of("\r\n") != std::string::npos) {
      co_return InvalidArgument("bad request header");
    }
  }
  const auto deadline = SteadyClock::now() + request.timeout;
  for (int attempt_number = 0; attempt_number < 2; ++attempt_number) {
    std::shared_ptr<Connection> connection;
    if (attempt_number == 0) connection = state->TakeIdle(target.pool_key);
    if (!connection) {
      connection = std::make_shared<Connection>(asio::make_strand(state->io_context));
    }
    auto [error, attempt] = co_await asio::co_spawn(
        connection->executor, RunAttempt(state, connection, request, target, deadline), kAsTuple);
    if (error) co_return Internal("http client attempt failed unexpectedly");
    if (attempt.stale && attempt_number == 0 && SteadyClock::now() < deadline) continue;
    if (!attempt.status.ok()) co_return attempt.status;
    if (attempt.keep_alive) state->ReturnIdle(target.pool_key, std::move(connection));
    co_return std::move(attempt.response);
  }
  co_return Unavailable("connection failed twice");
}

}  // namespace internal

Client::Client(boost::asio::io_context& io_context, ClientOptions options)
    : state_(std::make_shared<internal::ClientState>(io_context, std::move(options))) {}

Client::~Client() = default;

boost::asio::awaitable<Result<ClientResponse>> Client::Send(ClientRequest request) {
  return internal::DoSend(state_, std::move(request));
}

size_t Client::idle_connections() const { return state_->IdleCount(); }

}  // namespace parley::http

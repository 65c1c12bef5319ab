// src/http/client_test.cc
#include "http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "http/io_runtime.h"
#include "http/server.h"
#include "http/test_support.h"

namespace parley::http {
namespace {

namespace asio = boost::asio;
using testing::RunSync;
using testing::TestCertificate;

boost::asio::awaitable<Response> Echo(Request request) {
  Response response;
  response.content_type = "text/plain";
  response.body = request.method + " " + request.path + " " + request.body;
  response.headers.emplace_back("X-Seen-Auth",
                                std::string(request.Header("authorization").value_or("")));
  co_return response;
}

boost::asio::awaitable<Response> Big(Request) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::string(10000, 'b');
  co_return response;
}

boost::asio::awaitable<Response> Fails(Request) { co_return ErrorResponse(Unavailable("down")); }

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    router_.Add("POST", "/echo", Echo);
    router_.Add("GET", "/big", Big);
    router_.Add("GET", "/fails", Fails);
    runtime_.Start(2);
  }
  ~ClientTest() override {
    if (server_) server_->Stop();
    runtime_.Stop();
  }

  uint16_t StartServer(ServerOptions options = {}) {
    options.access_log = [](const AccessLogEntry&) {};
    server_ = std::make_unique<Server>(runtime_.context(), std::move(options), router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    return port.ok() ? *port : 0;
  }

  Result<ClientResponse> Send(Client& client, ClientRequest request) {
    auto result = RunSync(runtime_.context(), client.Send(std::move(request)));
    if (!result) return Internal("test timed out");
    return std::move(*result);
  }

  Router router_;
  Metrics metrics_;
  IoRuntime runtime_;
  std::unique_ptr<Server> server_;
};

TEST_F(ClientTest, PlainRoundTripSendsMethodBodyAndHeaders) {
  const uint16_t port = StartServer();
  Client client(runtime_.context(), {});
  auto response = Send(client, {.method = "POST",
                                .url = "http://127.0.0.1:" + std::to_string(port) + "/echo?x=1",
                                .headers = {{"Authorization", "Bearer t"}},
                                .body = "payload"});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /echo payload");
  EXPECT_EQ(response->Header("x-seen-auth"), "Bearer t");
  EXPECT_EQ(response->Header("content-type"), "text/plain");
}

TEST_F(ClientTest, ServerErrorIsAResponseNotAnError) {
  const uint16_t port = StartServer();
  Client client(runtime_.context(), {});
  auto response = Send(client, {.url = "http://127.0.0.1:" + std::to_string(port) + "/fails"});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
}

TEST_F(ClientTest, PoolReusesOneConnectionForSequentialRequests) {
  const uint16_t port = StartServer();
  Client client(runtime_.context(), {});
  for (int i = 0; i < 3; ++i) {
    auto response = Send(
        client, {.method = "POST", .url = "http://127.0.0.1:" + std::to_string(port) + "/echo"});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
  }
  EXPECT_EQ(server_->connections_accepted(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(ClientTest, TlsRoundTripVerifiesServerWithGivenCa) {
  TestCertificate cert;
  ASSERT_TRUE(cert.ok());
  ServerOptions options;
  options.tls_cert_file = cert.cert_file();
  options.tls_key_file = cert.key_file();
  const uint16_t port = StartServer(options);
  ClientOptions client_options;
  client_options.ca_file = cert.cert_file();
  Client client(runtime_.context(), client_options);
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto response =
        Send(client, {.method = "POST",
                      .url = "https://" + std::string(host) + ":" + std::to_string(port) + "/echo",
                      .body = "secret"});
    ASSERT_TRUE(response.ok()) << host << ": " << response.status().ToString();
    EXPECT_EQ(response->body, "POST /echo secret");
  }
}

TEST_F(ClientTest, TlsClientWithoutTheCaRefusesTheServer) {
  TestCertificate cert;
  ASSERT_TRUE(cert.ok());
  ServerOptions options;
  options.tls_cert_file = cert.cert_file();
  options.tls_key_file = cert.key_file();
  const uint16_t port = StartServer(options);
  Client client(runtime_.context(), {});
  auto response = Send(
      client, {.method = "POST", .url = "https://localhost:" + std::to_string(port) + "/echo"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), ::testing::HasSubstr("certificate verify failed"));
}

TEST_F(ClientTest, TlsHostNameMismatchIsRefused) {
  TestCertificate cert;  // valid for localhost and 127.0.0.1 only
  ASSERT_TRUE(cert.ok());
  ServerOptions options;
  options.tls_cert_file = cert.cert_file();
  options.tls_key_file = cert.key_file();
  options.listen_host = "127.0.0.2";
  const uint16_t port = StartServer(options);
  ClientOptions client_options;
  client_options.ca_file = cert.cert_file();
  Client client(runtime_.context(), client_options);
  auto response = Send(
      client, {.method = "POST", .url = "https://127.0.0.2:" + std::to_string(port) + "/echo"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST_F(ClientTest, TimeoutIsDeadlineExceeded) {
  // A listener that never answers: the kernel completes the handshake from its backlog.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = silent.local_endpoint().port();
  Client client(runtime_.context(), {});
  auto response = Send(client, {.url = "http://127.0.0.1:" + std::to_string(port) + "/",
                                .timeout = std::chrono::milliseconds(150)});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(ClientTest, ResponseLargerThanLimitIsResourceExhausted) {
  const uint16_t port = StartServer();
  ClientOptions options;
  options.max_response_bytes = 1000;
  Client client(runtime_.context(), options);
  auto response = Send(client, {.url = "http://127.0.0.1:" + std::to_string(port) + "/big"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(ClientTest, ARequestMayLowerTheResponseLimitButNotRaiseIt) {
  const uint16_t port = StartServer();
  ClientOptions options;
  options.max_response_bytes = 20000;
  Client client(runtime_.context(), options);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/big";  // 10 000 bytes
  auto lowered = Send(client, {.url = url, .max_response_bytes = 9999});
  ASSERT_FALSE(lowered.ok());
  EXPECT_EQ(lowered.status().code(), StatusCode::kResourceExhausted);
  auto exact = Send(client, {.url = url, .max_response_bytes = 10000});
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->body.size(), 10000u);

  options.max_response_bytes = 1000;
  Client smaller(runtime_.context(), options);
  auto raised = Send(smaller, {.url = url, .max_response_bytes = 1 << 20});
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(ClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  Client client(runtime_.context(), {});
  auto response = Send(client, {.url = "http://127.0.0.1:" + std::to_string(port) + "/"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST_F(ClientTest, BadUrlsAreInvalidArgument) {
  Client client(runtime_.context(), {});
  for (const char* url : {"not a url", "ftp://example.com/", "http:///nohost", "/relative"}) {
    auto response = Send(client, {.url = url});
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument) << url;
  }
  auto injected = Send(client, {.url = "http://127.0.0.1:1/", .headers = {{"X", "a\r\nB: c"}}});
  EXPECT_EQ(injected.status().code(), StatusCode::kInvalidArgument);
}

// Answers each connection's first request with keep-alive, then closes it: the client's
// pooled connection goes stale, and the next request must succeed on a fresh one.
void ServeOnceAndClose(asio::ip::tcp::acceptor& acceptor, int connections) {
  for (int i = 0; i < connections; ++i) {
    asio::ip::tcp::socket socket(acceptor.get_executor());
    acceptor.accept(socket);
    asio::streambuf buffer;
    boost::system::error_code ec;
    asio::read_until(socket, buffer, "\r\n\r\n", ec);
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    asio::write(socket, asio::buffer(answer), ec);
    socket.close();
  }
}

TEST_F(ClientTest, StalePooledConnectionIsRetriedOnAFreshOne) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread server([&acceptor] { ServeOnceAndClose(acceptor, 2); });
  Client client(runtime_.context(), {});
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto first = Send(client, {.url = url});
  auto second = Send(client, {.url = url});
  server.join();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "ok");
}

}  // namespace
}  // namespace parley::http

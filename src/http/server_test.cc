// src/http/server_test.cc
#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/io_runtime.h"
#include "http/test_support.h"

namespace parley::http {
namespace {

using ::testing::HasSubstr;
using testing::RawConnection;
using ::testing::StartsWith;

boost::asio::awaitable<Response> Hello(Request) { co_return JsonResponse(200, R"({"hello":1})"); }

boost::asio::awaitable<Response> Describe(Request request) {
  std::string body = request.method + " " + request.route + " id=" + request.path_params["id"] +
                     " q=" + request.query["q"] + " body=" + request.body;
  Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  co_return response;
}

boost::asio::awaitable<Response> Throws(Request) {
  throw std::runtime_error("boom");
  co_return Response{};
}

// The threads each connection's requests ran on, by the request's ?c= tag.
struct ThreadLog {
  std::mutex mu;
  std::map<std::string, std::set<std::thread::id>> by_tag;
};

boost::asio::awaitable<Response> RecordThread(ThreadLog* log, Request request) {
  {
    std::lock_guard lock(log->mu);
    log->by_tag[request.query["c"]].insert(std::this_thread::get_id());
  }
  co_return JsonResponse(200, "{}");
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.Add("GET", "/thread",
                [this](Request request) { return RecordThread(&threads_, std::move(request)); });
    router_.Add("GET", "/hello", Hello);
    router_.Add("POST", "/hello", Hello);
    router_.Add("POST", "/items/{id}", Describe);
    router_.Add("GET", "/throws", Throws);
  }

  ~ServerTest() override {
    if (server_) server_->Stop();
    runtime_.Stop();
  }

  uint16_t StartServer(ServerOptions options = {}) {
    options.access_log = [this](const AccessLogEntry& entry) {
      std::lock_guard lock(log_mu_);
      log_.push_back({std::string(entry.method), std::string(entry.route), std::string(entry.path),
                      entry.status, entry.bytes_in, entry.bytes_out,
                      std::string(entry.request_id)});
    };
    runtime_.Start(2);
    server_ = std::make_unique<Server>(runtime_, std::move(options), router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    return port.ok() ? *port : 0;
  }

  struct LogLine {
    std::string method, route, path;
    int status;
    uint64_t bytes_in, bytes_out;
    std::string request_id;
  };
  std::vector<LogLine> Log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  Router router_;
  Metrics metrics_;
  ThreadLog threads_;
  std::mutex log_mu_;
  std::vector<LogLine> log_;
  IoRuntime runtime_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = connection.ReadResponse();
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto second = connection.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->body, R"({"hello":1})");
  EXPECT_EQ(server_->connections_accepted(), 1u);
}

TEST_F(ServerTest, ConnectionsTakeTheLoopsInTurnAndEachStaysOnItsOwn) {
  const uint16_t port = StartServer();  // two loops
  RawConnection a(port);
  RawConnection b(port);
  for (int i = 0; i < 3; ++i) {
    a.Send("GET /thread?c=a HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(a.ReadResponse());
    b.Send("GET /thread?c=b HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(b.ReadResponse());
  }
  std::lock_guard lock(threads_.mu);
  ASSERT_EQ(threads_.by_tag["a"].size(), 1u);
  ASSERT_EQ(threads_.by_tag["b"].size(), 1u);
  EXPECT_NE(*threads_.by_tag["a"].begin(), *threads_.by_tag["b"].begin());
}

TEST_F(ServerTest, EveryResponseCarriesStandardHeaders) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["content-type"], "application/json");
  EXPECT_EQ(response->headers["content-length"], "11");
  EXPECT_EQ(response->headers["cache-control"], "no-store");
  EXPECT_FALSE(response->headers["x-request-id"].empty());
}

TEST_F(ServerTest, EchoesValidClientRequestId) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc.DEF_1-2\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["x-request-id"], "abc.DEF_1-2");
}

TEST_F(ServerTest, ReplacesInvalidClientRequestIdWithGeneratedOne) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad id<script>\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  const std::string id = response->headers["x-request-id"];
  EXPECT_THAT(id, StartsWith("req_"));
  EXPECT_EQ(id.size(), 20u);
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto second = connection.ReadResponse();
  ASSERT_TRUE(second);
  EXPECT_THAT(second->headers["x-request-id"], StartsWith("req_"));
  EXPECT_NE(second->headers["x-request-id"], id);
}

TEST_F(ServerTest, UnknownPathIs404JsonError) {
  RawConnection connection(StartServer());
  connection.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":{"code":"not_found","message":"no route for this path"}})");
  EXPECT_EQ(response->headers["content-type"], "application/json");
}

TEST_F(ServerTest, WrongMethodIs405WithAllowHeader) {
  RawConnection connection(StartServer());
  connection.Send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->headers["allow"], "GET, POST");
  EXPECT_THAT(response->body, HasSubstr(R"("code":"method_not_allowed")"));
}

TEST_F(ServerTest, PassesPathParamsQueryAndBodyToHandler) {
  RawConnection connection(StartServer());
  connection.Send(
      "POST /items/a%20b?q=x%2By&q=ignored HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /items/{id} id=a b q=x+y body=abc");
  EXPECT_EQ(response->headers.count("cache-control"), 0u);  // not JSON
}

TEST_F(ServerTest, OversizeContentLengthIs413BeforeReadingBody) {
  ServerOptions options;
  options.max_body_bytes = 100;
  RawConnection connection(StartServer(options));
  connection.Send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_THAT(response->body, HasSubstr(R"("code":"payload_too_large")"));
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, OversizeChunkedBodyIs413) {
  ServerOptions options;
  options.max_body_bytes = 100;
  RawConnection connection(StartServer(options));
  const std::string chunk(60, 'x');
  connection.Send("POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\n" +
                  chunk + "\r\n3c\r\n" + chunk + "\r\n0\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, ChunkedBodyWithinLimitIsAccepted) {
  RawConnection connection(StartServer());
  connection.Send(
      "POST /items/7 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /items/{id} id=7 q= body=abc");
}

TEST_F(ServerTest, HugeHeaderIs431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  RawConnection connection(StartServer(options));
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') +
                  "\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_THAT(response->body, HasSubstr(R"("code":"header_too_large")"));
}

TEST_F(ServerTest, MalformedRequestIs400AndCloses) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr(R"("code":"bad_request")"));
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  RawConnection connection(StartServer(options));
  connection.Send("GET /hello HTTP/1.1\r\nHo");  // and never the rest
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.WaitForClose());
  // WaitForClose gives up after 5 s; being cut off well before that is the limit at work.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  RawConnection connection(StartServer(options));
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, HandlerExceptionIs500AndConnectionStaysUsable) {
  RawConnection connection(StartServer());
  connection.Send("GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, R"({"error":{"code":"internal","message":"internal error"}})");
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto next = connection.ReadResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(ServerTest, AccessLogHasRouteAndPathButNoQuery) {
  RawConnection connection(StartServer());
  connection.Send("POST /items/9?token=secret HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response);
  // A request on the same connection is served only after the first one was logged.
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  const auto log = Log();
  ASSERT_GE(log.size(), 1u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].route, "/items/{id}");
  EXPECT_EQ(log[0].path, "/items/9");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_EQ(log[0].bytes_in, 2u);
  EXPECT_EQ(log[0].bytes_out, response->body.size());
  EXPECT_EQ(log[0].request_id, response->headers["x-request-id"]);
}

TEST_F(ServerTest, RecordsRequestMetricsByRouteAndStatusClass) {
  RawConnection connection(StartServer());
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  connection.Send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  // Served only after the previous request was recorded.
  connection.Send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_THAT(
      text,
      HasSubstr(
          "parley_http_requests_total{method=\"GET\",route=\"/hello\",status_class=\"2xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("parley_http_requests_total{method=\"GET\",route=\"unmatched\","
                              "status_class=\"4xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("parley_http_request_duration_seconds_count{method=\"GET\","
                              "route=\"/hello\",status_class=\"2xx\"} 1\n"));
}

TEST_F(ServerTest, StopClosesIdleConnectionsAndRefusesNewOnes) {
  const uint16_t port = StartServer();
  RawConnection connection(port);
  connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.ReadResponse());
  server_->Stop();
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(ServerTest, StartFailsWhenOnlyCertificateIsConfigured) {
  runtime_.Start(1);
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  server_ = std::make_unique<Server>(runtime_.context(), options, router_, metrics_);
  auto port = server_->Start();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, StartFailsOnUnreadableCertificate) {
  runtime_.Start(1);
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  server_ = std::make_unique<Server>(runtime_.context(), options, router_, metrics_);
  auto port = server_->Start();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, StartFailsWhenPortIsTaken) {
  const uint16_t port = StartServer();
  ServerOptions options;
  options.listen_port = port;
  Server second(runtime_.context(), options, router_, metrics_);
  auto result = second.Start();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace parley::http

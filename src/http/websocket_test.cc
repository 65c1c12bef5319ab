// src/http/websocket_test.cc
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <thread>

#include "http/io_runtime.h"
#include "http/server.h"

namespace parley::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

// Authenticates from the query, then echoes every message until the peer goes away.
boost::asio::awaitable<void> EchoStream(Request request,
                                        std::unique_ptr<WebSocketUpgrade> upgrade) {
  if (request.query["token"] != "good") {
    co_await upgrade->Reject(ErrorResponse(Unauthenticated("bad token")));
    co_return;
  }
  auto socket = co_await upgrade->Accept();
  if (!socket.ok()) co_return;
  std::shared_ptr<WebSocket> ws = *socket;
  while (true) {
    auto message = co_await ws->Read();
    if (!message.ok()) co_return;
    if (*message == "bye") {
      co_await ws->Close(1000, "done");
      co_return;
    }
    if (!(co_await ws->Write("echo:" + *message)).ok()) co_return;
  }
}

class WebSocketTest : public ::testing::Test {
 protected:
  WebSocketTest() { router_.AddWebSocket("/ws", EchoStream); }
  ~WebSocketTest() override {
    if (server_) server_->Stop();
    runtime_.Stop();
  }

  uint16_t StartServer(size_t max_message_bytes = 64 * 1024) {
    ServerOptions options;
    options.websocket.max_message_bytes = max_message_bytes;
    options.access_log = [this](const AccessLogEntry& entry) {
      if (entry.status == 101) ++upgrades_logged_;
    };
    runtime_.Start(2);
    server_ = std::make_unique<Server>(runtime_.context(), options, router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok());
    return port.ok() ? *port : 0;
  }

  // A blocking Beast client; failures surface as error codes, never hangs (5 s timeout).
  struct Client {
    explicit Client(uint16_t port) : ws(io) {
      beast::get_lowest_layer(ws).connect({asio::ip::make_address("127.0.0.1"), port});
      timeval timeout{5, 0};
      setsockopt(beast::get_lowest_layer(ws).native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                 sizeof(timeout));
    }
    asio::io_context io;
    websocket::stream<asio::ip::tcp::socket> ws;
  };

  std::atomic<int> upgrades_logged_{0};
  Router router_;
  Metrics metrics_;
  IoRuntime runtime_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebSocketTest, AcceptsEchoesAndCloses) {
  Client client(StartServer());
  websocket::response_type handshake;
  client.ws.handshake(handshake, "127.0.0.1", "/ws?token=good");
  EXPECT_EQ(handshake.result_int(), 101u);
  EXPECT_FALSE(handshake["X-Request-Id"].empty());

  client.ws.write(asio::buffer(std::string("hello")));
  beast::flat_buffer buffer;
  client.ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "echo:hello");

  client.ws.write(asio::buffer(std::string("bye")));
  buffer.clear();
  beast::error_code ec;
  client.ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.ws.reason().code, 1000);
  EXPECT_EQ(std::string(client.ws.reason().reason.data(), client.ws.reason().reason.size()),
            "done");
}

// The HTTP session ends once the upgrade is answered (its request buffers and state are not
// kept for the life of the socket): the upgrade's access-log line is written while the socket
// is still open and echoing.
TEST_F(WebSocketTest, TheHttpSessionEndsWhenTheUpgradeIsAnswered) {
  Client client(StartServer());
  websocket::response_type handshake;
  client.ws.handshake(handshake, "127.0.0.1", "/ws?token=good");
  ASSERT_EQ(handshake.result_int(), 101u);
  for (int i = 0; i < 500 && upgrades_logged_.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(upgrades_logged_.load(), 1);
  client.ws.write(asio::buffer(std::string("still here")));
  beast::flat_buffer buffer;
  client.ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "echo:still here");
}

TEST_F(WebSocketTest, RejectsUnauthenticatedUpgradeWith401) {
  Client client(StartServer());
  websocket::response_type response;
  beast::error_code ec;
  client.ws.handshake(response, "127.0.0.1", "/ws?token=bad", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(response.result_int(), 401u);
  EXPECT_EQ(response.body(), R"({"error":{"code":"unauthenticated","message":"bad token"}})");
}

TEST_F(WebSocketTest, OversizeMessageClosesWith1009) {
  Client client(StartServer(/*max_message_bytes=*/16));
  client.ws.handshake("127.0.0.1", "/ws?token=good");
  client.ws.write(asio::buffer(std::string(100, 'x')));
  beast::flat_buffer buffer;
  beast::error_code ec;
  client.ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(client.ws.reason().code, websocket::close_code::too_big);
}

TEST_F(WebSocketTest, PlainGetOnWebSocketRouteIs426) {
  const uint16_t port = StartServer();
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(std::string("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")));
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 426u);
}

TEST_F(WebSocketTest, ServerStopClosesOpenWebSockets) {
  Client client(StartServer());
  client.ws.handshake("127.0.0.1", "/ws?token=good");
  server_->Stop();
  beast::flat_buffer buffer;
  beast::error_code ec;
  client.ws.read(buffer, ec);
  EXPECT_EQ(ec, beast::error_code(beast::websocket::error::closed)) << ec.message();
  EXPECT_EQ(client.ws.reason().code, 1001) << "going away";
  EXPECT_EQ(server_->WaitForConnections(std::chrono::seconds(5)), 0u);
}

TEST_F(WebSocketTest, ServerStopCutsAClientThatIgnoresTheCloseFrame) {
  Client client(StartServer());
  client.ws.handshake("127.0.0.1", "/ws?token=good");
  server_->Stop();
  // The client never reads, so never answers the close: the server cuts it off after
  // kGoingAwayTimeout (1 s).
  EXPECT_EQ(server_->WaitForConnections(std::chrono::seconds(10)), 0u);
}

}  // namespace
}  // namespace parley::http

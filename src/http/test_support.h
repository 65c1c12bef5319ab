// src/http/test_support.h — helpers for src/http tests only (not linked into parley_http).
//
// Runs coroutines to completion from a test thread, makes a throwaway self-signed
// certificate, and speaks raw HTTP/1.1 over a blocking loopback socket.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>

namespace parley::http::testing {

template <class T>
boost::asio::awaitable<std::optional<T>> WrapOptional(boost::asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

// Runs `task` on `io` (which other threads are running) and waits at most 10 s.
template <class T>
std::optional<T> RunSync(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto future = boost::asio::co_spawn(io, WrapOptional(std::move(task)), boost::asio::use_future);
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// A self-signed certificate for CN=localhost with SANs DNS:localhost and IP:127.0.0.1,
// written to a fresh temporary directory (removed by the destructor).
class TestCertificate {
 public:
  TestCertificate();
  ~TestCertificate();
  bool ok() const { return ok_; }
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  std::string dir_;
  std::string cert_file_;
  std::string key_file_;
  bool ok_ = false;
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

// A blocking client socket with a 5 s receive timeout as a safety net against hangs.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port);
  void Send(const std::string& bytes);
  // Reads one response with a Content-Length body; nullopt when the connection closed
  // (or timed out) before a whole response arrived.
  std::optional<RawResponse> ReadResponse();
  // True when the server closes the connection (EOF/reset) before the safety timeout.
  bool WaitForClose();

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string pending_;
};

}  // namespace parley::http::testing

// src/http/test_support.cc
#include "http/test_support.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace parley::http::testing {

TestCertificate::TestCertificate() {
  char pattern[] = "/tmp/parley_http_test_XXXXXX";
  if (mkdtemp(pattern) == nullptr) return;
  dir_ = pattern;
  cert_file_ = dir_ + "/cert.pem";
  key_file_ = dir_ + "/key.pem";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key_file_ + " -out " + cert_file_ + " 2>/dev/null";
  ok_ = std::system(command.c_str()) == 0 && std::filesystem::exists(cert_file_);
}

TestCertificate::~TestCertificate() {
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

RawConnection::RawConnection(uint16_t port) : socket_(io_) {
  socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  timeval timeout{5, 0};
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

void RawConnection::Send(const std::string& bytes) {
  boost::system::error_code ec;
  boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
}

std::optional<RawResponse> RawConnection::ReadResponse() {
  auto read_more = [this]() {
    // Plain recv(): Asio's blocking reads retry through SO_RCVTIMEO and would hang.
    char chunk[4096];
    const ssize_t n = ::recv(socket_.native_handle(), chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    pending_.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return std::nullopt;
  }
  const std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  RawResponse response;
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  response.status = std::atoi(status_line.substr(9, 3).c_str());
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? line_end : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    response.headers[name] = value;
  }
  size_t length = 0;
  if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
    length = std::stoul(it->second);
  }
  while (pending_.size() < length) {
    if (!read_more()) return std::nullopt;
  }
  response.body = pending_.substr(0, length);
  pending_.erase(0, length);
  return response;
}

bool RawConnection::WaitForClose() {
  char chunk[4096];
  while (true) {
    const ssize_t n = ::recv(socket_.native_handle(), chunk, sizeof(chunk), 0);
    if (n == 0) return true;                // orderly close
    if (n < 0) return errno == ECONNRESET;  // EAGAIN: the safety timeout expired
  }
}

}  // namespace parley::http::testing

// src/blob/s3rver_fixture.h — for the tests of s3_blob_store.h only (not linked into
// parley_blob_s3).
//
// Runs s3rver (test/node, installed by scripts/setup.sh) behind a small Node proxy that checks
// every request's SigV4 signature and payload hash the way S3 does (s3rver 3 checks only the
// access key id, secret "S3RVER"). The proxy also records the requests it forwards and can
// answer the next one with a chosen failure:
//
//   S3rver server;                     // one node process, its own temporary directory
//   ASSERT_TRUE(server.error().empty()) << server.error();
//   GET|DELETE server.url() + "/__log"   the requests seen ("METHOD /path?query [range=…]")
//   POST server.url() + "/__fail/503"    the next request gets 503 and the posted body
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace parley::blob::s3_testing {

// A loopback port that refuses connections while this object lives: a socket bound to it
// and never listening, so no other server can take the port meanwhile.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;

  uint16_t port() const { return port_; }  // 0 when no socket could be bound

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// s3rver behind the verifying proxy, in one node process with its own temporary directory.
// Starting waits (at most 15 s) until the proxy accepts connections; the destructor stops the
// process and removes the directory.
class S3rver {
 public:
  S3rver();
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  // Why the server did not start ("" when it runs).
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Where s3rver keeps its buckets: one directory per bucket.
  std::string data_dir() const { return dir_ + "/data"; }

 private:
  std::string error_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace parley::blob::s3_testing

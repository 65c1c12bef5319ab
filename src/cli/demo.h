// src/cli/demo.h
//
// The out-of-the-box demo (`parley serve --demo`): a demo tenant with an API key and a web
// connection whose allowed origins are Parley's own, created through the server's own admin
// API once it listens, and remembered in <data_dir>/demo.json (mode 0600) so that restarts
// reuse them.
//
//   auto demo = EnsureDemo(client, {.base_url = "http://127.0.0.1:8080", …});
//   std::cout << "console key: " << demo->api_key;
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "http/client.h"

namespace parley::cli {

struct DemoOptions {
  boost::asio::any_io_executor executor{};  // where the admin calls run (the client's I/O)
  std::string base_url{};                   // where this server listens, e.g. http://127.0.0.1:8080
  std::string admin_token{};                // the operator token
  std::string data_dir{};
  std::vector<std::string> origins{};  // the demo pages' origins
};

struct DemoIdentity {
  std::string tenant;
  std::string api_key;     // the console's key (conversations and messages scopes)
  std::string connection;  // the web connection of the demo pages
  std::string private_data_secret;
};

// Blocks (call it from a thread that is not one of `client`'s I/O threads).
// Errors: the admin API's, or kInternal when demo.json cannot be written.
Result<DemoIdentity> EnsureDemo(http::Client& client, const DemoOptions& options);

// A private data token for the demo page, valid one hour.
std::string DemoPrivateDataToken(const DemoIdentity& demo, TimePoint now);

}  // namespace parley::cli

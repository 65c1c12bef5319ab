// The admin subcommands: one HTTP request to a running server's admin API each.
#include <boost/asio/co_spawn.hpp>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>

#include "cli/cli.h"
#include "http/client.h"
#include "http/io_runtime.h"

namespace parley::cli {

namespace {

std::string TokenFrom(const AdminFlags& flags) {
  if (!flags.token.empty()) return flags.token;
  if (const char* env = std::getenv("PARLEY_ADMIN_TOKEN"); env && *env) return env;
  std::ifstream in(flags.data_dir + "/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

boost::asio::awaitable<void> SendInto(http::Client* client, http::ClientRequest request,
                                      std::promise<Result<http::ClientResponse>>* out) {
  out->set_value(co_await client->Send(std::move(request)));
}

}  // namespace

int AdminRequest(const AdminFlags& flags, const std::string& method, const std::string& path,
                 const std::string& body) {
  std::string token = TokenFrom(flags);
  if (token.empty()) {
    std::cerr << "parley: no operator token: set PARLEY_ADMIN_TOKEN, pass --token, or run "
                 "where <data-dir>/admin.token is readable\n";
    return 2;
  }
  http::IoRuntime runtime;
  runtime.Start(1);
  http::Client client(runtime.context(), http::ClientOptions{});
  http::ClientRequest request;
  request.method = method;
  std::string base = flags.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + path;
  request.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  request.body = body;
  std::promise<Result<http::ClientResponse>> promise;
  auto future = promise.get_future();
  http::Spawn(runtime.context().get_executor(), SendInto(&client, std::move(request), &promise),
              "admin_request");
  Result<http::ClientResponse> response = future.get();
  runtime.Stop();
  if (!response.ok()) {
    std::cerr << "parley: " << flags.server << ": " << response.status().ToString() << "\n";
    return 1;
  }
  if (!response->body.empty()) std::cout << response->body << "\n";
  if (response->status >= 400) return 1;
  return 0;
}

}  // namespace parley::cli

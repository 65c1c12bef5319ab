// The admin subcommands: one HTTP request to a running server's admin API each.
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
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
                 const std::string& body, const std::function<void(const std::string&)>& print) {
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
  if (print && response->status < 300) {
    print(response->body);
    return 0;
  }
  if (!response->body.empty()) std::cout << response->body << "\n";
  if (response->status >= 400) return 1;
  return 0;
}

void PrintDataMap(const std::string& json_body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json_body, ec);
  const boost::json::array* items = nullptr;
  if (!ec && v.is_object()) {
    if (auto* data = v.get_object().if_contains("data"); data && data->is_array()) {
      items = &data->get_array();
    }
  }
  if (items == nullptr) {
    std::cout << json_body << "\n";
    return;
  }
  auto text = [](const boost::json::object& o, const char* key) -> std::string {
    const boost::json::value* f = o.if_contains(key);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  auto age = [](const boost::json::value* f) -> std::string {
    if (f == nullptr || !f->is_int64()) return "-";
    int64_t s = f->get_int64();
    if (s >= 86400) return fmt::format("{:.1f} d", s / 86400.0);
    if (s >= 3600) return fmt::format("{:.1f} h", s / 3600.0);
    if (s >= 60) return fmt::format("{:.1f} min", s / 60.0);
    return fmt::format("{} s", s);
  };
  // Columns as wide as their longest value, so that every line stays aligned.
  size_t table_width = 5, sealed_width = 6;
  for (const auto& item : *items) {
    if (!item.is_object()) continue;
    table_width = std::max(table_width, text(item.get_object(), "table").size());
    sealed_width = std::max(sealed_width, text(item.get_object(), "sealed").size());
  }
  auto line = [&](std::string_view table, std::string_view rows, std::string_view oldest,
                  std::string_view sealed, std::string_view rule) {
    std::cout << fmt::format("{:<{}} {:>6} {:>9}  {:<{}}  {}\n", table, table_width, rows, oldest,
                             sealed, sealed_width, rule);
  };
  line("table", "rows", "oldest", "sealed", "deleted");
  for (const auto& item : *items) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    const boost::json::value* rows = o.if_contains("rows");
    line(text(o, "table"), std::to_string(rows && rows->is_int64() ? rows->get_int64() : 0),
         age(o.if_contains("oldest_age_s")), text(o, "sealed"), text(o, "rule"));
  }
}

}  // namespace parley::cli

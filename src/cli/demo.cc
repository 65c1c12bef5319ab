#include "cli/demo.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <optional>
#include <sstream>

#include "crypto/jwt.h"

namespace parley::cli {

namespace json = boost::json;

namespace {

struct Answer {
  int status = 0;
  json::value body;
};

Result<Answer> Call(http::Client& client, const DemoOptions& o, const std::string& method,
                    const std::string& path, const std::string& token, json::value body = {}) {
  http::ClientRequest request;
  request.method = method;
  request.url = o.base_url + path;
  request.headers = {{"Authorization", "Bearer " + token}};
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = json::serialize(body);
  }
  auto future = boost::asio::co_spawn(
      o.executor,
      [&client, request]() -> boost::asio::awaitable<std::optional<Result<http::ClientResponse>>> {
        co_return co_await client.Send(request);
      },
      boost::asio::use_future);
  Result<http::ClientResponse> response = future.get().value();
  if (!response.ok()) return response.status();
  Answer answer;
  answer.status = response->status;
  boost::system::error_code ec;
  answer.body = json::parse(response->body, ec);
  return answer;
}

std::string Field(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  auto it = v.get_object().find(key);
  return it != v.get_object().end() && it->value().is_string()
             ? std::string(it->value().get_string())
             : std::string();
}

Result<std::string> Created(const Result<Answer>& answer, std::string_view what,
                            std::string_view field) {
  if (!answer.ok()) return answer.status();
  std::string value = Field(answer->body, field);
  if (answer->status != 201 && answer->status != 200) {
    return Internal(fmt::format("demo: creating the {} failed with HTTP {}", what, answer->status));
  }
  if (value.empty()) return Internal(fmt::format("demo: the {} has no {}", what, field));
  return value;
}

}  // namespace

Result<DemoIdentity> EnsureDemo(http::Client& client, const DemoOptions& o) {
  std::string file = o.data_dir + "/demo.json";
  std::ifstream in(file);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value saved = json::parse(text.str(), ec);
    DemoIdentity d{Field(saved, "tenant"), Field(saved, "api_key"), Field(saved, "connection"),
                   Field(saved, "private_data_secret")};
    auto check =
        Call(client, o, "GET", "/v1/admin/tenants/" + d.tenant + "/connections/" + d.connection,
             o.admin_token);
    if (!ec && check.ok() && check->status == 200) return d;
  }

  DemoIdentity d;
  PARLEY_ASSIGN_OR_RETURN(d.tenant, Created(Call(client, o, "POST", "/v1/admin/tenants",
                                                 o.admin_token, json::object{{"name", "Demo"}}),
                                            "tenant", "id"));
  json::object key_request{{"name", "demo console"},
                           {"scopes", json::array{"conversations:read", "conversations:write",
                                                  "messages:write", "customers:read"}}};
  PARLEY_ASSIGN_OR_RETURN(
      d.api_key, Created(Call(client, o, "POST", "/v1/admin/tenants/" + d.tenant + "/api-keys",
                              o.admin_token, key_request),
                         "API key", "key"));
  json::array origins;
  for (const auto& origin : o.origins) origins.emplace_back(origin);
  json::object connection_request{
      {"kind", "web"},
      {"name", "Demo website"},
      {"settings", json::object{{"allowed_origins", std::move(origins)},
                                {"cookie_names", json::array{"demo_plan"}},
                                {"title", "Example Shop"}}}};
  auto connection = Call(client, o, "POST", "/v1/admin/tenants/" + d.tenant + "/connections",
                         o.admin_token, connection_request);
  PARLEY_ASSIGN_OR_RETURN(d.connection, Created(connection, "web connection", "id"));
  d.private_data_secret = Field(connection->body, "private_data_secret");

  json::object saved{{"tenant", d.tenant},
                     {"api_key", d.api_key},
                     {"connection", d.connection},
                     {"private_data_secret", d.private_data_secret}};
  std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(saved) << "\n";
    if (!out) return Internal("demo: cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  if (std::rename(tmp.c_str(), file.c_str()) != 0) return Internal("demo: cannot write " + file);
  return d;
}

std::string DemoPrivateDataToken(const DemoIdentity& demo, TimePoint now) {
  int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json::object claims{{"sub", "demo-customer-42"},
                      {"authenticated", true},
                      {"plan", "gold"},
                      {"iat", iat},
                      {"exp", iat + 3600}};
  return crypto::SignHs256Jwt(claims, demo.private_data_secret);
}

}  // namespace parley::cli

#include "channels/web/web_adapter.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "crypto/random.h"

namespace parley::channels::web {

namespace json = boost::json;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 6265 cookie-name: a token (visible ASCII without separators).
bool IsCookieName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  static constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={} \t";
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && kSeparators.find(c) == std::string_view::npos;
  });
}

Result<std::vector<std::string>> StringList(const json::object& obj, std::string_view key,
                                            size_t max_items) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return InvalidArgument(fmt::format("settings.{}: must be an array of strings", key));
  }
  const json::array& items = it->value().get_array();
  if (items.size() > max_items) {
    return InvalidArgument(fmt::format("settings.{}: at most {} entries", key, max_items));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      return InvalidArgument(fmt::format("settings.{}[{}]: must be a string", key, i));
    }
    out.emplace_back(items[i].get_string());
  }
  return out;
}

}  // namespace

Result<std::string> CanonicalOrigin(std::string_view origin) {
  if (origin.size() > kMaxUrlBytes) return InvalidArgument("origin too long");
  auto parsed = boost::urls::parse_absolute_uri(origin);
  if (!parsed) return InvalidArgument("not an absolute URL");
  std::string scheme = Lower(std::string(parsed->scheme()));
  if (scheme != "http" && scheme != "https") return InvalidArgument("scheme must be http or https");
  if (parsed->host().empty()) return InvalidArgument("host required");
  if (parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment() ||
      !(parsed->path().empty() || parsed->path() == "/")) {
    return InvalidArgument("an origin has no path, query, fragment or credentials");
  }
  std::string out = scheme + "://" + Lower(std::string(parsed->encoded_host()));
  if (parsed->has_port()) {
    std::string port(parsed->port());
    bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
    if (!default_port) out += ":" + port;
  }
  return out;
}

WebSettings WebSettings::From(const json::object& settings) {
  WebSettings s;
  if (auto list = StringList(settings, "allowed_origins", kMaxOrigins); list.ok()) {
    s.allowed_origins = std::move(*list);
  }
  if (auto list = StringList(settings, "cookie_names", kMaxCookieNames); list.ok()) {
    s.cookie_names = std::move(*list);
  }
  if (auto it = settings.find("title"); it != settings.end() && it->value().is_string()) {
    s.title = std::string(it->value().get_string());
  }
  return s;
}

bool WebSettings::AllowsOrigin(std::string_view origin) const {
  if (origin.empty() || origin == "null") return false;
  auto canonical = CanonicalOrigin(origin);
  if (!canonical.ok()) return false;
  return std::find(allowed_origins.begin(), allowed_origins.end(), *canonical) !=
         allowed_origins.end();
}

Result<json::object> WebAdapter::PrepareConnection(json::object& settings,
                                                   json::object& credentials) const {
  for (const auto& [key, value] : settings) {
    if (key != "allowed_origins" && key != "cookie_names" && key != "title")
      return InvalidArgument(fmt::format("settings.{}: unknown key", std::string_view(key)));
  }
  for (const auto& [key, value] : credentials) {
    if (key != "private_data_secret")
      return InvalidArgument(fmt::format("credentials.{}: unknown key", std::string_view(key)));
  }
  PARLEY_ASSIGN_OR_RETURN(auto origins, StringList(settings, "allowed_origins", kMaxOrigins));
  if (origins.empty()) {
    return InvalidArgument(
        "settings.allowed_origins: required, 1 to 20 origins such as \"https://www.example.com\"");
  }
  json::array canonical;
  for (size_t i = 0; i < origins.size(); ++i) {
    auto c = CanonicalOrigin(origins[i]);
    if (!c.ok()) {
      return InvalidArgument(
          fmt::format("settings.allowed_origins[{}]: {}", i, c.status().message()));
    }
    canonical.emplace_back(*c);
  }
  settings["allowed_origins"] = std::move(canonical);
  PARLEY_ASSIGN_OR_RETURN(auto cookies, StringList(settings, "cookie_names", kMaxCookieNames));
  for (size_t i = 0; i < cookies.size(); ++i) {
    if (!IsCookieName(cookies[i])) {
      return InvalidArgument(fmt::format("settings.cookie_names[{}]: not a cookie name", i));
    }
  }
  if (auto it = settings.find("title"); it != settings.end()) {
    if (!it->value().is_string() || it->value().get_string().size() > kMaxTitleBytes) {
      return InvalidArgument(
          fmt::format("settings.title: must be a string of at most {} bytes", kMaxTitleBytes));
    }
  }
  json::object shown;
  auto secret_it = credentials.find("private_data_secret");
  if (secret_it == credentials.end()) {
    std::string secret = "pds_" + crypto::RandomToken(32);
    credentials["private_data_secret"] = secret;
    shown["private_data_secret"] = secret;
  } else if (!secret_it->value().is_string() ||
             secret_it->value().get_string().size() < kMinPrivateDataSecretBytes ||
             secret_it->value().get_string().size() > kMaxPrivateDataSecretBytes) {
    return InvalidArgument(
        fmt::format("credentials.private_data_secret: must be a string of {} to {} bytes",
                    kMinPrivateDataSecretBytes, kMaxPrivateDataSecretBytes));
  }
  return shown;
}

Status WebAdapter::VerifyWebhook(const http::Request&, const ConnectionContext&, TimePoint) const {
  return Unauthenticated("web connections take customer messages from the widget, not webhooks");
}

Result<InboundBatch> WebAdapter::ParseWebhook(const http::Request&) const {
  return InvalidArgument("web connections have no webhook format");
}

boost::asio::awaitable<SendOutcome> WebAdapter::Send(OutboundRequest request, ConnectionContext) {
  SendOutcome outcome;
  outcome.kind = SendOutcome::Kind::kSent;
  outcome.provider_message_id = request.message.id.str();
  co_return outcome;
}

}  // namespace parley::channels::web

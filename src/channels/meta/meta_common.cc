#include "channels/meta/meta_common.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/message.h"
#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::meta {

namespace json = boost::json;

namespace {

constexpr std::string_view kSignaturePrefix = "sha256=";
constexpr size_t kMaxIdDigits = 64;
constexpr size_t kMaxChallengeBytes = 256;

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ValidVersion(std::string_view v) {
  // v<digits>.<digits>
  if (v.size() < 4 || v.size() > 16 || v[0] != 'v') return false;
  size_t dot = v.find('.');
  return dot != std::string_view::npos && AllDigits(v.substr(1, dot - 1)) &&
         AllDigits(v.substr(dot + 1));
}

Status RequireSecret(const json::object& credentials, std::string_view key) {
  auto it = credentials.find(key);
  if (it == credentials.end() || !it->value().is_string()) {
    return InvalidArgument(fmt::format("credentials.{}: required string", key));
  }
  std::string_view v = it->value().get_string();
  if (v.empty() || v.size() > kMaxSecretBytes || !PrintableAscii(v)) {
    return InvalidArgument(fmt::format("credentials.{}: must be 1 to {} printable ASCII characters",
                                       key, kMaxSecretBytes));
  }
  return OkStatus();
}

int64_t IntField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
  return 0;
}

}  // namespace

Status VerifyHubSignature(const http::Request& request, std::string_view app_secret) {
  if (app_secret.empty()) return Unauthenticated("the connection has no app secret");
  auto header = request.Header("x-hub-signature-256");
  if (!header) return Unauthenticated("missing X-Hub-Signature-256");
  std::string_view value = *header;
  if (value.size() != kSignaturePrefix.size() + 2 * crypto::kSha256Size ||
      value.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
    return Unauthenticated("malformed X-Hub-Signature-256");
  }
  auto given = crypto::HexDecode(value.substr(kSignaturePrefix.size()));
  if (!given.ok()) return Unauthenticated("malformed X-Hub-Signature-256");
  if (!crypto::ConstantTimeEqual(crypto::HmacSha256(app_secret, request.body), *given)) {
    return Unauthenticated("X-Hub-Signature-256 does not match the body");
  }
  return OkStatus();
}

http::Response AnswerHubHandshake(const http::Request& request, std::string_view verify_token) {
  auto param = [&](const char* key) -> std::string_view {
    auto it = request.query.find(key);
    return it == request.query.end() ? std::string_view() : std::string_view(it->second);
  };
  std::string_view mode = param("hub.mode");
  std::string_view token = param("hub.verify_token");
  std::string_view challenge = param("hub.challenge");
  if (mode != "subscribe" || verify_token.empty() ||
      !crypto::ConstantTimeEqual(crypto::Sha256(token), crypto::Sha256(verify_token))) {
    return http::ErrorResponse(403, "permission_denied", "verification refused");
  }
  if (challenge.empty() || challenge.size() > kMaxChallengeBytes || !PrintableAscii(challenge)) {
    return http::ErrorResponse(400, "invalid_argument", "hub.challenge: missing or malformed");
  }
  http::Response response;
  response.status = 200;
  response.content_type = "text/plain";
  response.body = std::string(challenge);
  return response;
}

Status PrepareMetaConnection(json::object& settings, json::object& credentials,
                             std::string_view id_setting) {
  for (const auto& [key, value] : settings) {
    if (key != id_setting && key != "api_base_url" && key != "api_version") {
      return InvalidArgument(fmt::format("settings.{}: unknown key", std::string_view(key)));
    }
  }
  for (const auto& [key, value] : credentials) {
    if (key != "app_secret" && key != "verify_token" && key != "access_token") {
      return InvalidArgument(fmt::format("credentials.{}: unknown key", std::string_view(key)));
    }
  }
  auto id = settings.find(id_setting);
  if (id == settings.end() || !id->value().is_string() ||
      id->value().get_string().size() > kMaxIdDigits || !AllDigits(id->value().get_string())) {
    return InvalidArgument(
        fmt::format("settings.{}: required string of 1 to {} digits", id_setting, kMaxIdDigits));
  }
  PARLEY_RETURN_IF_ERROR(CheckApiBaseUrl(settings, kDefaultGraphBaseUrl));
  auto version = settings.find("api_version");
  if (version == settings.end()) {
    settings["api_version"] = kDefaultGraphVersion;
  } else if (!version->value().is_string() || !ValidVersion(version->value().get_string())) {
    return InvalidArgument("settings.api_version: must look like \"v21.0\"");
  }
  for (std::string_view key : {"app_secret", "verify_token", "access_token"}) {
    PARLEY_RETURN_IF_ERROR(RequireSecret(credentials, key));
  }
  return OkStatus();
}

std::string StringField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

std::string GraphUrl(const ConnectionContext& connection, std::string_view path) {
  std::string base = StringField(connection.settings, "api_base_url");
  std::string version = StringField(connection.settings, "api_version");
  if (base.empty()) base = kDefaultGraphBaseUrl;
  if (version.empty()) version = kDefaultGraphVersion;
  return fmt::format("{}/{}/{}", base, version, path);
}

SendOutcome ClassifyGraphError(const http::ClientResponse& response) {
  int64_t code = 0;
  bool transient = false;
  std::string message;
  auto parsed = ParseBoundedJson(response.body, 64 * 1024);
  if (parsed.ok() && parsed->is_object()) {
    auto err = parsed->get_object().find("error");
    if (err != parsed->get_object().end() && err->value().is_object()) {
      const json::object& e = err->value().get_object();
      code = IntField(e, "code");
      message = StringField(e, "message");
      auto t = e.find("is_transient");
      transient = t != e.end() && t->value().is_bool() && t->value().get_bool();
    }
  }
  if (message.size() > kMaxStringBytes) message.resize(kMaxStringBytes);
  Millis retry_after = RetryAfterHeader(response.Header("retry-after"));
  bool throttled = code == 4 || code == 17 || code == 32 || code == 613 || code == 80007 ||
                   code == 130429 || code == 131056;
  bool temporary = code == 1 || code == 2 || transient;
  std::string wire_code =
      code != 0 ? fmt::format("meta_{}", code) : fmt::format("http_{}", response.status);
  if (message.empty()) message = fmt::format("Graph API answered {}", response.status);
  if (throttled || temporary || response.status == 429 || response.status >= 500) {
    return RetryLater(std::move(wire_code), std::move(message), retry_after);
  }
  return FailedPermanently(std::move(wire_code), std::move(message));
}

SendOutcome TransportFailure(const Status& status) {
  return RetryLater(status.code() == StatusCode::kDeadlineExceeded ? "timeout" : "unreachable",
                    std::string(StatusCodeName(status.code())));
}

}  // namespace parley::channels::meta

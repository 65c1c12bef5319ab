#include "channels/custom/custom_adapter.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "core/message_json.h"
#include "crypto/random.h"
#include "crypto/signing.h"
#include "http/client.h"

namespace parley::channels::custom {

namespace json = boost::json;

namespace {

Result<std::string> BoundedString(const json::object& obj, std::string_view key,
                                  std::string_view path, size_t max, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    if (required) return InvalidArgument(fmt::format("{}: required", path));
    return std::string();
  }
  if (!it->value().is_string()) return InvalidArgument(fmt::format("{}: must be a string", path));
  const json::string& s = it->value().get_string();
  if (required && s.empty()) return InvalidArgument(fmt::format("{}: must not be empty", path));
  if (s.size() > max) {
    return InvalidArgument(fmt::format("{}: longer than {} bytes", path, max));
  }
  return std::string(s);
}

Result<std::optional<TimePoint>> OptionalTime(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<TimePoint>();
  if (!it->value().is_string()) return InvalidArgument(fmt::format("{}: must be a string", key));
  auto t = ParseRfc3339(std::string_view(it->value().get_string()));
  if (!t.ok()) return InvalidArgument(fmt::format("{}: {}", key, t.status().message()));
  return std::optional<TimePoint>(*t);
}

Result<InboundMessage> ParseMessage(const json::object& obj) {
  InboundMessage m;
  PARLEY_ASSIGN_OR_RETURN(m.provider_message_id,
                          BoundedString(obj, "id", "id", kMaxExternalIdBytes, true));
  auto from_it = obj.find("from");
  if (from_it == obj.end() || !from_it->value().is_object()) {
    return InvalidArgument("from: required object");
  }
  const json::object& from = from_it->value().get_object();
  PARLEY_ASSIGN_OR_RETURN(m.contact_id,
                          BoundedString(from, "id", "from.id", kMaxExternalIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(m.contact_name,
                          BoundedString(from, "name", "from.name", kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(m.sent_at, OptionalTime(obj, "timestamp"));
  PARLEY_ASSIGN_OR_RETURN(m.reply_to_provider_id,
                          BoundedString(obj, "reply_to", "reply_to", kMaxExternalIdBytes, false));
  auto content_it = obj.find("content");
  if (content_it == obj.end()) return InvalidArgument("content: required");
  PARLEY_ASSIGN_OR_RETURN(m.content, ContentFromJson(content_it->value(), "content"));
  if (!ContentAllowedIn(TypeOf(m.content), Direction::kInbound)) {
    return InvalidArgument(fmt::format("content.type: {} is not an inbound content type",
                                       WireName(TypeOf(m.content))));
  }
  return m;
}

Result<InboundStatus> ParseStatus(const json::object& obj) {
  InboundStatus s;
  PARLEY_ASSIGN_OR_RETURN(std::string id,
                          BoundedString(obj, "message", "message", kMaxExternalIdBytes, true));
  auto parsed = MessageId::Parse(id);
  if (!parsed.ok()) return InvalidArgument("message: must be a Parley message id (msg_…)");
  s.message = *parsed;
  PARLEY_ASSIGN_OR_RETURN(std::string status,
                          BoundedString(obj, "status", "status", kMaxTokenBytes, true));
  auto st = FromWireName<DeliveryStatus>(status);
  if (!st || *st == DeliveryStatus::kSent) {
    return InvalidArgument("status: must be delivered, read or failed");
  }
  s.status = *st;
  PARLEY_ASSIGN_OR_RETURN(s.at, OptionalTime(obj, "timestamp"));
  if (auto it = obj.find("error"); it != obj.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return InvalidArgument("error: must be an object");
    ProviderError e;
    PARLEY_ASSIGN_OR_RETURN(e.code, BoundedString(it->value().get_object(), "code", "error.code",
                                                  kMaxTokenBytes, false));
    PARLEY_ASSIGN_OR_RETURN(e.message, BoundedString(it->value().get_object(), "message",
                                                     "error.message", kMaxStringBytes, false));
    s.error = std::move(e);
  }
  return s;
}

// A connection's secret and the HMAC key made from it (ConnectionContext::derived).
struct VerifyKey {
  explicit VerifyKey(std::string s) : secret(std::move(s)), key(secret) {}
  std::string secret;
  crypto::HmacSha256Key key;
};

// The secret in the connection's credentials ("" when none); valid while they are.
// kUnauthenticated-safe (never echoes it).
std::string_view SecretOf(const ConnectionContext& connection) {
  auto it = connection.credentials.find("secret");
  if (it == connection.credentials.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

}  // namespace

Result<json::object> CustomAdapter::PrepareConnection(json::object& settings,
                                                      json::object& credentials) const {
  for (const auto& [key, value] : settings) {
    if (key != "outbound_url")
      return InvalidArgument(fmt::format("settings.{}: unknown key", std::string_view(key)));
  }
  for (const auto& [key, value] : credentials) {
    if (key != "secret")
      return InvalidArgument(fmt::format("credentials.{}: unknown key", std::string_view(key)));
  }
  auto url_it = settings.find("outbound_url");
  if (url_it == settings.end() || !url_it->value().is_string()) {
    return InvalidArgument("settings.outbound_url: required string (http:// or https:// URL)");
  }
  std::string_view url = url_it->value().get_string();
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (url.size() > kMaxUrlBytes || !parsed ||
      (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
    return InvalidArgument("settings.outbound_url: must be an absolute http:// or https:// URL");
  }
  json::object shown;
  auto secret_it = credentials.find("secret");
  if (secret_it == credentials.end()) {
    std::string secret = "cs_" + crypto::RandomToken(32);
    credentials["secret"] = secret;
    shown["secret"] = secret;
  } else if (!secret_it->value().is_string() ||
             secret_it->value().get_string().size() < kMinSecretBytes ||
             secret_it->value().get_string().size() > kMaxSecretBytes) {
    return InvalidArgument(fmt::format("credentials.secret: must be a string of {} to {} bytes",
                                       kMinSecretBytes, kMaxSecretBytes));
  }
  return shown;
}

Status CustomAdapter::VerifyWebhook(const http::Request& request,
                                    const ConnectionContext& connection, TimePoint now) const {
  auto header = request.Header("parley-signature");
  if (!header) return Unauthenticated("missing Parley-Signature header");
  // The key is made once per connection context: its two SHA-256 blocks are otherwise a
  // fifth of the check of a short message. It keeps the secret it was made from, so that a
  // context whose secret changed later is checked with the new one.
  const std::string_view secret = SecretOf(connection);
  if (secret.empty()) return Unauthenticated("connection has no secret");
  std::shared_ptr<const VerifyKey> made = connection.derived.Get<VerifyKey>(
      [&] { return std::make_shared<const VerifyKey>(std::string(secret)); });
  std::optional<crypto::HmacSha256Key> fresh;
  const crypto::HmacSha256Key* key = &made->key;
  if (!crypto::ConstantTimeEqual(made->secret, secret)) key = &fresh.emplace(secret);
  const crypto::HmacSha256Key* keys[] = {key};
  return crypto::VerifySignatureHeaderWithKeys(*header, keys, request.body, ToUnixSeconds(now),
                                               deps_.replay_window.count());
}

Result<InboundBatch> CustomAdapter::ParseWebhook(const http::Request& request) const {
  // Read in an arena on the stack: the tree lives only until the batch is built from it.
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  PARLEY_ASSIGN_OR_RETURN(json::value body,
                          ParseBoundedJson(request.body, kMaxMessageJsonBytes, &arena));
  if (!body.is_object()) return InvalidArgument("body: must be a JSON object");
  const json::object& obj = body.get_object();
  PARLEY_ASSIGN_OR_RETURN(std::string type,
                          BoundedString(obj, "type", "type", kMaxTokenBytes, false));
  InboundBatch batch;
  if (type.empty() || type == "message") {
    PARLEY_ASSIGN_OR_RETURN(InboundMessage m, ParseMessage(obj));
    batch.messages.push_back(std::move(m));
  } else if (type == "status") {
    PARLEY_ASSIGN_OR_RETURN(InboundStatus s, ParseStatus(obj));
    batch.statuses.push_back(std::move(s));
  } else {
    return InvalidArgument("type: must be \"message\" or \"status\"");
  }
  return batch;
}

std::string CustomAdapter::RenderOutbound(const OutboundRequest& request) {
  const Message& m = request.message;
  json::object out;
  out["type"] = "message";
  out["id"] = m.id.str();
  out["conversation"] = m.conversation.str();
  out["to"] = json::object{{"id", request.contact_id}};
  json::object author;
  author["role"] = WireName(m.author.role);
  if (!m.author.name.empty()) author["name"] = m.author.name;
  if (!m.author.agent_id.empty()) author["agent_id"] = m.author.agent_id;
  out["author"] = std::move(author);
  if (!request.reply_to_provider_id.empty()) {
    out["reply_to"] = request.reply_to_provider_id;
  } else {
    out["reply_to"] = nullptr;
  }
  out["content"] = ToJson(m.content);
  return json::serialize(out);
}

boost::asio::awaitable<SendOutcome> CustomAdapter::Send(OutboundRequest request,
                                                        ConnectionContext connection) {
  SendOutcome outcome;
  auto url_it = connection.settings.find("outbound_url");
  const std::string secret(SecretOf(connection));
  if (url_it == connection.settings.end() || !url_it->value().is_string() || secret.empty()) {
    outcome.kind = SendOutcome::Kind::kPermanentFailure;
    outcome.error.code = "connection_misconfigured";
    outcome.error.message = "the connection has no outbound_url or secret";
    co_return outcome;
  }
  std::string body = RenderOutbound(request);
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = std::string(url_it->value().get_string());
  http_request.headers = {
      {"Content-Type", "application/json"},
      {"Parley-Signature",
       crypto::SignatureHeader({secret}, ToUnixSeconds(deps_.clock->Now()), body)},
  };
  http_request.body = std::move(body);
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) {
    outcome.kind = SendOutcome::Kind::kRetry;
    outcome.error.code =
        response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "unreachable";
    outcome.error.message = std::string(StatusCodeName(response.status().code()));
    co_return outcome;
  }
  int status = response->status;
  if (status >= 200 && status < 300) {
    outcome.kind = SendOutcome::Kind::kSent;
    auto parsed = ParseBoundedJson(response->body, 64 * 1024);
    if (parsed.ok() && parsed->is_object()) {
      auto id = BoundedString(parsed->get_object(), "id", "id", kMaxExternalIdBytes, false);
      if (id.ok()) outcome.provider_message_id = *id;
    }
    co_return outcome;
  }
  outcome.error.code = fmt::format("http_{}", status);
  outcome.error.message = fmt::format("outbound URL answered {}", status);
  if (status == 408 || status == 429 || status >= 500) {
    outcome.kind = SendOutcome::Kind::kRetry;
    if (auto retry_after = response->Header("retry-after")) {
      int64_t seconds = 0;
      for (char c : *retry_after) {
        if (c < '0' || c > '9' || seconds > 86400) break;
        seconds = seconds * 10 + (c - '0');
      }
      outcome.retry_after = std::chrono::seconds(seconds);
    }
  } else {
    outcome.kind = SendOutcome::Kind::kPermanentFailure;
  }
  co_return outcome;
}

}  // namespace parley::channels::custom

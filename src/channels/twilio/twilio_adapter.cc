#include "channels/twilio/twilio_adapter.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <cmath>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::twilio {

namespace json = boost::json;

namespace {

constexpr std::string_view kTwiml =
    R"(<?xml version="1.0" encoding="UTF-8"?><Response></Response>)";

std::string StringSetting(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

// A key's string value, nullopt when absent; kInvalidArgument ("settings.from: must be a
// string") for another JSON type.
Result<std::optional<std::string>> OptionalString(const json::object& o, std::string_view key,
                                                  std::string_view section) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return InvalidArgument(fmt::format("{}.{}: must be a string", section, key));
  }
  return std::optional<std::string>(std::string(it->value().get_string()));
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsSid(std::string_view s, std::string_view prefix) {
  return s.size() == prefix.size() + 32 && s.substr(0, prefix.size()) == prefix &&
         IsHex(s.substr(prefix.size()));
}

bool IsE164(std::string_view s) {
  if (s.size() < 3 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsAlnum(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// An absolute http(s) URL with a host and no fragment, at most kMaxUrlBytes.
bool IsHttpUrl(std::string_view url) {
  if (url.empty() || url.size() > kMaxUrlBytes) return false;
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
         !parsed->host().empty() && !parsed->has_fragment();
}

// A parameter's value: "" when absent; kInvalidArgument naming it when required and absent,
// longer than `max` bytes or not UTF-8.
Result<std::string> Param(const FormParams& params, std::string_view key, size_t max,
                          bool required) {
  const std::string* v = FindParam(params, key);
  if (v == nullptr || v->empty()) {
    if (required) return InvalidArgument(fmt::format("{}: required", key));
    return std::string();
  }
  if (v->size() > max) return InvalidArgument(fmt::format("{}: longer than {} bytes", key, max));
  if (!IsValidUtf8(*v)) return InvalidArgument(fmt::format("{}: not valid UTF-8", key));
  return *v;
}

// A message/status sid: ASCII letters and digits ("SM…", "MM…").
Result<std::string> SidParam(const FormParams& params, std::string_view key, bool required) {
  PARLEY_ASSIGN_OR_RETURN(std::string sid, Param(params, key, kMaxSidBytes, required));
  if (!IsAlnum(sid)) return InvalidArgument(fmt::format("{}: must be letters and digits", key));
  return sid;
}

// The message's own sid: MessageSid, or the older SmsMessageSid / SmsSid.
Result<std::string> MessageSid(const FormParams& params) {
  for (std::string_view key : {"MessageSid", "SmsMessageSid", "SmsSid"}) {
    if (FindParam(params, key) != nullptr) return SidParam(params, key, true);
  }
  return InvalidArgument("MessageSid: required");
}

bool LooksLikeMimeType(std::string_view s) {
  size_t slash = s.find('/');
  return !s.empty() && s.size() <= kMaxMimeTypeBytes && slash != std::string_view::npos &&
         slash > 0 && slash + 1 < s.size() && PrintableAscii(s);
}

MediaKind KindOf(std::string_view mime) {
  if (mime.substr(0, 6) == "image/") return MediaKind::kImage;
  if (mime.substr(0, 6) == "video/") return MediaKind::kVideo;
  if (mime.substr(0, 6) == "audio/") return MediaKind::kAudio;
  return MediaKind::kFile;
}

Result<double> Coordinate(const FormParams& params, std::string_view key, double limit) {
  const std::string* v = FindParam(params, key);
  double d = 0;
  auto [end, ec] = v == nullptr ? std::from_chars_result{nullptr, std::errc::invalid_argument}
                                : std::from_chars(v->data(), v->data() + v->size(), d);
  if (v == nullptr || ec != std::errc() || end != v->data() + v->size() || !std::isfinite(d) ||
      d < -limit || d > limit) {
    return InvalidArgument(
        fmt::format("{}: must be a number between -{} and {}", key, limit, limit));
  }
  return d;
}

Result<int> NumMedia(const FormParams& params) {
  const std::string* v = FindParam(params, "NumMedia");
  if (v == nullptr || v->empty()) return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 0 ||
      n > static_cast<int>(kMaxMediaUrls)) {
    return InvalidArgument(fmt::format("NumMedia: must be 0 to {}", kMaxMediaUrls));
  }
  return n;
}

Result<InboundMessage> ParseInbound(const FormParams& params) {
  InboundMessage m;
  PARLEY_ASSIGN_OR_RETURN(m.provider_message_id, MessageSid(params));
  PARLEY_ASSIGN_OR_RETURN(m.contact_id, Param(params, "From", kMaxAddressBytes, true));
  PARLEY_ASSIGN_OR_RETURN(m.client_identity, Param(params, "To", kMaxAddressBytes, false));
  PARLEY_ASSIGN_OR_RETURN(m.contact_name, Param(params, "ProfileName", kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(m.reply_to_provider_id,
                          SidParam(params, "OriginalRepliedMessageSid", false));
  PARLEY_ASSIGN_OR_RETURN(std::string body, Param(params, "Body", kMaxTextBytes, false));
  PARLEY_ASSIGN_OR_RETURN(int num_media, NumMedia(params));

  if (num_media > 0) {
    MediaContent media;
    media.caption = body;
    for (int i = 0; i < num_media; ++i) {
      std::string url_key = fmt::format("MediaUrl{}", i);
      PARLEY_ASSIGN_OR_RETURN(std::string url, Param(params, url_key, kMaxUrlBytes, true));
      if (!IsHttpUrl(url)) {
        return InvalidArgument(fmt::format("{}: must be an absolute http(s) URL", url_key));
      }
      const std::string* type = FindParam(params, fmt::format("MediaContentType{}", i));
      std::string mime =
          type != nullptr && LooksLikeMimeType(*type) ? *type : "application/octet-stream";
      if (i == 0) media.kind = KindOf(mime);
      Attachment a;
      a.mime_type = mime;
      media.attachments.push_back(std::move(a));
      m.media.push_back(MediaRef{.ref = url, .mime_type = mime, .filename = {}, .sha256 = {}});
    }
    m.content = std::move(media);
    return m;
  }
  if (FindParam(params, "Latitude") != nullptr || FindParam(params, "Longitude") != nullptr) {
    LocationContent location;
    PARLEY_ASSIGN_OR_RETURN(location.latitude, Coordinate(params, "Latitude", 90));
    PARLEY_ASSIGN_OR_RETURN(location.longitude, Coordinate(params, "Longitude", 180));
    PARLEY_ASSIGN_OR_RETURN(location.name, Param(params, "Label", kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(location.address, Param(params, "Address", kMaxStringBytes, false));
    m.content = std::move(location);
    return m;
  }
  if (FindParam(params, "ButtonPayload") != nullptr || FindParam(params, "ButtonText") != nullptr) {
    ReplyContent reply;
    reply.source = ReplySource::kButton;
    PARLEY_ASSIGN_OR_RETURN(reply.title, Param(params, "ButtonText", kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(reply.payload, Param(params, "ButtonPayload", kMaxStringBytes, false));
    if (reply.title.empty()) reply.title = reply.payload.empty() ? body : reply.payload;
    m.content = std::move(reply);
    return m;
  }
  if (FindParam(params, "ListId") != nullptr) {
    ReplyContent reply;
    reply.source = ReplySource::kList;
    PARLEY_ASSIGN_OR_RETURN(reply.payload, Param(params, "ListId", kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(reply.title, Param(params, "ListTitle", kMaxStringBytes, false));
    if (reply.title.empty()) reply.title = reply.payload.empty() ? body : reply.payload;
    m.content = std::move(reply);
    return m;
  }
  if (!body.empty()) {
    m.content = TextContent{body};
    return m;
  }
  // A WhatsApp message type Twilio passes without a body (e.g. a reaction or a poll).
  PARLEY_ASSIGN_OR_RETURN(std::string type, Param(params, "MessageType", kMaxTokenBytes, false));
  m.content = UnsupportedContent{type.empty() ? "unknown" : type, "a message without text"};
  return m;
}

// Twilio's status words; nullopt for the ones Parley does not report (queued, sending, …).
std::optional<DeliveryStatus> MapStatus(std::string_view status) {
  if (status == "sent") return DeliveryStatus::kSent;
  if (status == "delivered") return DeliveryStatus::kDelivered;
  if (status == "read") return DeliveryStatus::kRead;
  if (status == "undelivered" || status == "failed" || status == "canceled") {
    return DeliveryStatus::kFailed;
  }
  return std::nullopt;
}

Status ParseStatusCallback(const FormParams& params, std::string_view status_word,
                           InboundBatch& batch) {
  std::optional<DeliveryStatus> status = MapStatus(status_word);
  if (!status) {
    ++batch.ignored;
    return OkStatus();
  }
  InboundStatus s;
  PARLEY_ASSIGN_OR_RETURN(s.provider_message_id, MessageSid(params));
  s.status = *status;
  // On an outbound message's callback the business number is From.
  PARLEY_ASSIGN_OR_RETURN(s.client_identity, Param(params, "From", kMaxAddressBytes, false));
  if (*status == DeliveryStatus::kFailed) {
    PARLEY_ASSIGN_OR_RETURN(std::string code, Param(params, "ErrorCode", kMaxTokenBytes, false));
    if (!code.empty() && !IsAlnum(code)) {
      return InvalidArgument("ErrorCode: must be letters and digits");
    }
    const std::string* message = FindParam(params, "ErrorMessage");
    ProviderError error;
    error.code = code.empty() ? std::string(status_word) : "twilio_" + code;
    if (message != nullptr && IsValidUtf8(*message)) {
      error.message = TruncateUtf8(*message, kMaxStringBytes);
    }
    if (error.message.empty()) error.message = fmt::format("Twilio reported {}", status_word);
    s.error = std::move(error);
  }
  batch.statuses.push_back(std::move(s));
  return OkStatus();
}

std::string Origin(const boost::urls::url_view& u) {
  std::string port(u.port());
  if (port.empty()) port = u.scheme() == "https" ? "443" : "80";
  return fmt::format("{}://{}:{}", std::string_view(u.scheme()), std::string_view(u.encoded_host()),
                     port);
}

Status MediaStatus(int status) {
  if (status == 404 || status == 410)
    return NotFound(fmt::format("media: Twilio answered {}", status));
  if (status == 401 || status == 403) {
    return PermissionDenied(fmt::format("media: Twilio answered {}", status));
  }
  if (status == 429 || status >= 500) {
    return Unavailable(fmt::format("media: Twilio answered {}", status));
  }
  return InvalidArgument(fmt::format("media: Twilio answered {}", status));
}

}  // namespace

Result<InboundBatch> ParseParams(const FormParams& params) {
  InboundBatch batch;
  const std::string* message_status = FindParam(params, "MessageStatus");
  const std::string* sms_status = FindParam(params, "SmsStatus");
  std::string status_word;
  if (message_status != nullptr) {
    status_word = *message_status;
  } else if (sms_status != nullptr && *sms_status != "received") {
    status_word = *sms_status;
  }
  if (!status_word.empty() && status_word != "received") {
    if (status_word.size() > kMaxTokenBytes) return InvalidArgument("MessageStatus: too long");
    PARLEY_RETURN_IF_ERROR(ParseStatusCallback(params, status_word, batch));
    return batch;
  }
  PARLEY_ASSIGN_OR_RETURN(InboundMessage m, ParseInbound(params));
  batch.messages.push_back(std::move(m));
  return batch;
}

std::string SignedUrl(const http::Request& request, const ConnectionContext& connection,
                      std::string_view public_url) {
  std::string_view target = request.target.empty() ? request.path : request.target;
  std::string webhook_url = StringSetting(connection.settings, "webhook_url");
  if (!webhook_url.empty()) {
    size_t q = target.find('?');
    if (webhook_url.find('?') == std::string::npos && q != std::string_view::npos) {
      webhook_url += target.substr(q);
    }
    return webhook_url;
  }
  if (public_url.empty()) return {};
  while (!public_url.empty() && public_url.back() == '/') public_url.remove_suffix(1);
  return std::string(public_url) + std::string(target);
}

std::string StatusCallbackUrl(const ConnectionContext& connection, std::string_view public_url) {
  std::string webhook_url = StringSetting(connection.settings, "webhook_url");
  if (!webhook_url.empty()) return webhook_url;
  if (public_url.empty()) return {};
  while (!public_url.empty() && public_url.back() == '/') public_url.remove_suffix(1);
  return fmt::format("{}/v1/webhooks/{}", public_url, connection.id.str());
}

Result<json::object> TwilioAdapter::PrepareConnection(json::object& settings,
                                                      json::object& credentials) const {
  for (const auto& [key, value] : settings) {
    if (key != "account_sid" && key != "from" && key != "messaging_service_sid" &&
        key != "api_base_url" && key != "webhook_url") {
      return InvalidArgument(fmt::format("settings.{}: unknown key", std::string_view(key)));
    }
  }
  for (const auto& [key, value] : credentials) {
    if (key != "auth_token") {
      return InvalidArgument(fmt::format("credentials.{}: unknown key", std::string_view(key)));
    }
  }
  PARLEY_ASSIGN_OR_RETURN(auto sid, OptionalString(settings, "account_sid", "settings"));
  if (!sid || !IsSid(*sid, "AC")) {
    return InvalidArgument("settings.account_sid: required, \"AC\" followed by 32 hex digits");
  }
  PARLEY_ASSIGN_OR_RETURN(auto service,
                          OptionalString(settings, "messaging_service_sid", "settings"));
  if (service && !IsSid(*service, "MG")) {
    return InvalidArgument(
        "settings.messaging_service_sid: must be \"MG\" followed by 32 hex digits");
  }
  PARLEY_ASSIGN_OR_RETURN(auto from, OptionalString(settings, "from", "settings"));
  if (from) {
    std::string_view number = *from;
    if (number.substr(0, 9) == "whatsapp:") number.remove_prefix(9);
    if (!IsE164(number)) {
      return InvalidArgument(
          "settings.from: must be a number in E.164 form (\"+14155550100\") or "
          "\"whatsapp:+14155550100\"");
    }
  } else if (!service) {
    return InvalidArgument("settings.from: required unless settings.messaging_service_sid is set");
  }
  PARLEY_RETURN_IF_ERROR(CheckApiBaseUrl(settings, kDefaultApiBaseUrl));
  PARLEY_ASSIGN_OR_RETURN(auto webhook, OptionalString(settings, "webhook_url", "settings"));
  if (webhook) {
    if (!IsHttpUrl(*webhook)) {
      return InvalidArgument("settings.webhook_url: must be an absolute http(s) URL");
    }
  }
  PARLEY_ASSIGN_OR_RETURN(auto token, OptionalString(credentials, "auth_token", "credentials"));
  if (!token || token->empty() || token->size() > kMaxCredentialBytes || !PrintableAscii(*token)) {
    return InvalidArgument(
        fmt::format("credentials.auth_token: required, 1 to {} printable ASCII characters",
                    kMaxCredentialBytes));
  }
  return json::object();
}

Status TwilioAdapter::VerifyWebhook(const http::Request& request,
                                    const ConnectionContext& connection, TimePoint) const {
  auto header = request.Header("x-twilio-signature");
  if (!header || header->empty()) return Unauthenticated("missing X-Twilio-Signature");
  std::string token = StringSetting(connection.credentials, "auth_token");
  if (token.empty()) return Unauthenticated("the connection has no auth token");
  std::string url = SignedUrl(request, connection, deps_.public_url);
  if (url.empty()) {
    return Unauthenticated(
        "cannot check X-Twilio-Signature: Twilio signs the public URL it calls; configure "
        "server.public_url or the connection's settings.webhook_url");
  }
  FormParams params;
  if (request.method != "GET") {
    auto body_hash = request.query.find("bodySHA256");
    if (body_hash != request.query.end()) {
      // A JSON-bodied webhook: the URL (with the body's hash) is signed without parameters.
      if (!crypto::ConstantTimeEqual(crypto::HexEncode(crypto::Sha256(request.body)),
                                     body_hash->second)) {
        return Unauthenticated("bodySHA256 does not match the body");
      }
    } else {
      auto parsed = ParseForm(request.body);
      if (!parsed.ok()) return Unauthenticated("X-Twilio-Signature: the body is not a valid form");
      params = std::move(*parsed);
    }
  }
  bool match = false;
  for (const std::string& variant : SignatureUrlVariants(url)) {
    // Every variant is checked, so the time taken does not tell which one matched.
    match |= crypto::ConstantTimeEqual(ComputeSignature(token, variant, params), *header);
  }
  if (!match) return Unauthenticated("X-Twilio-Signature does not match");
  return OkStatus();
}

Result<InboundBatch> TwilioAdapter::ParseWebhook(const http::Request& request) const {
  std::string_view form = request.body;
  if (request.method == "GET") {
    std::string_view target = request.target;
    size_t q = target.find('?');
    form = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  }
  PARLEY_ASSIGN_OR_RETURN(FormParams params, ParseForm(form));
  return ParseParams(params);
}

std::optional<http::Response> TwilioAdapter::Acknowledgement(const InboundBatch&) const {
  http::Response response;
  response.status = 200;
  response.content_type = "text/xml";
  response.body = std::string(kTwiml);
  return response;
}

std::string TwilioAdapter::ClientIdentity(const ConnectionContext& connection) const {
  return StringSetting(connection.settings, "from");
}

boost::asio::awaitable<SendOutcome> TwilioAdapter::Send(OutboundRequest request,
                                                        ConnectionContext connection) {
  Rendered rendered = RenderSend(request, connection, deps_.public_url);
  if (auto* refused = std::get_if<SendOutcome>(&rendered)) co_return std::move(*refused);
  http::ClientRequest http_request = std::get<http::ClientRequest>(std::move(rendered));
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) {
    co_return RetryLater(
        response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "unreachable",
        std::string(StatusCodeName(response.status().code())));
  }
  co_return InterpretSendResponse(*response);
}

boost::asio::awaitable<Result<FetchedMedia>> TwilioAdapter::FetchMedia(MediaRef media,
                                                                       ConnectionContext connection,
                                                                       uint64_t max_bytes) {
  auto first = boost::urls::parse_absolute_uri(media.ref);
  if (!IsHttpUrl(media.ref) || !first) {
    co_return InvalidArgument("media: not an absolute http(s) URL");
  }
  std::string base = StringSetting(connection.settings, "api_base_url");
  if (base.empty()) base = kDefaultApiBaseUrl;
  auto base_url = boost::urls::parse_absolute_uri(base);
  std::string sid = StringSetting(connection.settings, "account_sid");
  std::string token = StringSetting(connection.credentials, "auth_token");
  // The credentials go only to Twilio's API host, never to whatever a URL names.
  bool authorize = base_url && Origin(*first) == Origin(*base_url) && !sid.empty();
  std::string authorization = "Basic " + crypto::Base64Encode(sid + ":" + token);
  http::Client* client = deps_.media_client != nullptr ? deps_.media_client : deps_.client;
  std::string url = media.ref;
  for (int hop = 0;; ++hop) {
    http::ClientRequest http_request;
    http_request.method = "GET";
    http_request.url = url;
    if (authorize) http_request.headers.emplace_back("Authorization", authorization);
    http_request.timeout = deps_.send_timeout;
    http_request.max_response_bytes = max_bytes;
    Result<http::ClientResponse> response = co_await client->Send(std::move(http_request));
    if (!response.ok()) {
      StatusCode code = response.status().code();
      if (code == StatusCode::kDeadlineExceeded) co_return DeadlineExceeded("media: timed out");
      if (code == StatusCode::kResourceExhausted) {
        co_return ResourceExhausted("media: larger than allowed");
      }
      co_return Unavailable(
          fmt::format("media: download failed ({})", StatusCodeName(response.status().code())));
    }
    int status = response->status;
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      if (hop == kMaxMediaRedirects) co_return Unavailable("media: too many redirects");
      auto location = response->Header("location");
      auto ref = location ? boost::urls::parse_uri_reference(*location)
                          : boost::urls::parse_uri_reference("");
      auto current = boost::urls::parse_absolute_uri(url);
      if (!location || !ref || !current)
        co_return Unavailable("media: redirect without a location");
      boost::urls::url next(*current);
      if (!next.resolve(*ref) || !IsHttpUrl(next.buffer())) {
        co_return Unavailable("media: redirect to an unusable location");
      }
      if (Origin(next) != Origin(*current)) authorize = false;
      url = std::string(next.buffer());
      continue;
    }
    if (status < 200 || status >= 300) co_return MediaStatus(status);
    if (response->body.size() > max_bytes) {
      co_return ResourceExhausted(fmt::format("media: larger than {} bytes", max_bytes));
    }
    FetchedMedia fetched;
    fetched.bytes = std::move(response->body);
    if (auto type = response->Header("content-type")) {
      std::string_view mime = type->substr(0, type->find(';'));
      while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
      if (LooksLikeMimeType(mime)) fetched.mime_type = std::string(mime);
    }
    if (fetched.mime_type.empty()) fetched.mime_type = media.mime_type;
    co_return fetched;
  }
}

}  // namespace parley::channels::twilio

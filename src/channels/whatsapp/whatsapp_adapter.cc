#include "channels/whatsapp/whatsapp_adapter.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "channels/meta/meta_common.h"
#include "channels/whatsapp/whatsapp_render.h"
#include "channels/whatsapp/whatsapp_webhook.h"
#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::whatsapp {

namespace json = boost::json;

namespace {

constexpr size_t kMaxMediaIdBytes = 128;
constexpr size_t kMaxMediaInfoBytes = 64 * 1024;

std::vector<std::pair<std::string, std::string>> BearerHeaders(const ConnectionContext& c) {
  return {{"Authorization", "Bearer " + meta::StringField(c.credentials, "access_token")}};
}

// The Status of a failed media call, by HTTP status.
Status MediaHttpError(int status, std::string_view step) {
  std::string m = fmt::format("WhatsApp {} answered {}", step, status);
  if (status == 404) return NotFound(std::move(m));
  if (status == 401 || status == 403) return PermissionDenied(std::move(m));
  if (status == 429 || status >= 500) return Unavailable(std::move(m));
  // Graph answers an unknown or expired media id with 400 (code 100).
  return InvalidArgument(std::move(m));
}

Status MediaTransportError(const Status& s, std::string_view step) {
  std::string m = fmt::format("WhatsApp {}: {}", step, StatusCodeName(s.code()));
  if (s.code() == StatusCode::kDeadlineExceeded) return DeadlineExceeded(std::move(m));
  if (s.code() == StatusCode::kResourceExhausted) return ResourceExhausted(std::move(m));
  return Unavailable(std::move(m));
}

// The download URL Graph named gets the access token: it must be https, or plain http only
// when the connection itself talks plain http to a local simulator.
Status CheckDownloadUrl(std::string_view url, const ConnectionContext& connection) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host().empty() || url.size() > kMaxUrlBytes) {
    return Unavailable("WhatsApp media url: malformed");
  }
  if (parsed->scheme() == "https") return OkStatus();
  std::string base = meta::StringField(connection.settings, "api_base_url");
  if (parsed->scheme() == "http" && base.rfind("http://", 0) == 0) return OkStatus();
  return Unavailable("WhatsApp media url: must be https");
}

bool PrintableMime(std::string_view s) {
  if (s.empty() || s.size() > kMaxMimeTypeBytes || s.find('/') == std::string_view::npos) {
    return false;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ValidMediaId(std::string_view id) {
  if (id.empty() || id.size() > kMaxMediaIdBytes) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<MediaInfo> ParseMediaInfo(std::string_view body) {
  PARLEY_ASSIGN_OR_RETURN(json::value v, ParseBoundedJson(body, kMaxMediaInfoBytes));
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  const json::object& o = v.get_object();
  MediaInfo info;
  info.url = meta::StringField(o, "url");
  if (info.url.empty()) return InvalidArgument("url: required");
  if (info.url.size() > kMaxUrlBytes) return InvalidArgument("url: too long");
  info.mime_type = meta::StringField(o, "mime_type");
  if (!PrintableMime(info.mime_type)) info.mime_type.clear();
  info.sha256 = meta::StringField(o, "sha256");
  if (info.sha256.size() > 128) return InvalidArgument("sha256: too long");
  auto size = o.find("file_size");
  if (size != o.end()) {
    const json::value& s = size->value();
    if (s.is_string()) {
      std::string_view digits = s.get_string();
      if (digits.empty() || digits.size() > 19) return InvalidArgument("file_size: malformed");
      uint64_t n = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') return InvalidArgument("file_size: malformed");
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      info.file_size = n;
    } else if (s.is_uint64()) {
      info.file_size = s.get_uint64();
    } else if (s.is_int64() && s.get_int64() >= 0) {
      info.file_size = static_cast<uint64_t>(s.get_int64());
    } else if (!s.is_null()) {
      return InvalidArgument("file_size: malformed");
    }
  }
  return info;
}

Status CheckDigest(std::string_view bytes, std::string_view digest) {
  std::string expected;
  if (digest.size() == 2 * crypto::kSha256Size) {
    auto raw = crypto::HexDecode(digest);
    if (raw.ok()) expected = std::move(*raw);
  }
  if (expected.empty()) {
    auto raw = crypto::Base64Decode(digest);
    if (raw.ok() && raw->size() == crypto::kSha256Size) expected = std::move(*raw);
  }
  if (expected.empty()) return OkStatus();
  if (!crypto::ConstantTimeEqual(crypto::Sha256(bytes), expected)) {
    return InvalidArgument("media: SHA-256 does not match the digest WhatsApp declared");
  }
  return OkStatus();
}

Result<json::object> WhatsAppAdapter::PrepareConnection(json::object& settings,
                                                        json::object& credentials) const {
  PARLEY_RETURN_IF_ERROR(meta::PrepareMetaConnection(settings, credentials, "phone_number_id"));
  return json::object();
}

Status WhatsAppAdapter::VerifyWebhook(const http::Request& request,
                                      const ConnectionContext& connection, TimePoint) const {
  return meta::VerifyHubSignature(request, meta::StringField(connection.credentials, "app_secret"));
}

Result<InboundBatch> WhatsAppAdapter::ParseWebhook(const http::Request& request) const {
  return ParseWebhookBody(request.body);
}

http::Response WhatsAppAdapter::AnswerHandshake(const http::Request& request,
                                                const ConnectionContext& connection) const {
  return meta::AnswerHubHandshake(request,
                                  meta::StringField(connection.credentials, "verify_token"));
}

std::string WhatsAppAdapter::ClientIdentity(const ConnectionContext& connection) const {
  return meta::StringField(connection.settings, "phone_number_id");
}

http::Client& WhatsAppAdapter::MediaClient() const {
  return deps_.media_client != nullptr ? *deps_.media_client : *deps_.client;
}

boost::asio::awaitable<SendOutcome> WhatsAppAdapter::Send(OutboundRequest request,
                                                          ConnectionContext connection) {
  RenderedMessage rendered = RenderMessage(request);
  if (rendered.failure) {
    co_return FailedPermanently(std::move(rendered.failure->code),
                                std::move(rendered.failure->message));
  }
  std::string phone = meta::StringField(connection.settings, "phone_number_id");
  if (phone.empty() || meta::StringField(connection.credentials, "access_token").empty()) {
    co_return FailedPermanently("connection_misconfigured",
                                "the connection has no phone_number_id or access_token");
  }
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = meta::GraphUrl(connection, phone + "/messages");
  http_request.headers = BearerHeaders(connection);
  http_request.headers.emplace_back("Content-Type", "application/json");
  http_request.body = json::serialize(rendered.body);
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) co_return meta::TransportFailure(response.status());
  co_return InterpretSendResponse(*response);
}

boost::asio::awaitable<Result<FetchedMedia>> WhatsAppAdapter::FetchMedia(
    MediaRef media, ConnectionContext connection, uint64_t max_bytes) {
  if (!ValidMediaId(media.ref)) co_return InvalidArgument("media.ref: not a WhatsApp media id");
  if (meta::StringField(connection.credentials, "access_token").empty()) {
    co_return PermissionDenied("the connection has no access_token");
  }
  http::Client& client = MediaClient();
  // Step 1: the media id's short-lived download URL.
  http::ClientRequest info_request;
  info_request.method = "GET";
  info_request.url = meta::GraphUrl(connection, media.ref);
  std::string phone = meta::StringField(connection.settings, "phone_number_id");
  if (!phone.empty()) info_request.url += "?phone_number_id=" + phone;
  info_request.headers = BearerHeaders(connection);
  info_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> info_response = co_await client.Send(std::move(info_request));
  if (!info_response.ok()) {
    co_return MediaTransportError(info_response.status(), "media lookup");
  }
  if (info_response->status / 100 != 2) {
    co_return MediaHttpError(info_response->status, "media lookup");
  }
  Result<MediaInfo> info = ParseMediaInfo(info_response->body);
  if (!info.ok()) {
    co_return Unavailable(fmt::format("WhatsApp media lookup: {}", info.status().message()));
  }
  if (info->file_size && *info->file_size > max_bytes) {
    co_return ResourceExhausted(fmt::format("media: larger than {} bytes", max_bytes));
  }
  PARLEY_CO_RETURN_IF_ERROR(CheckDownloadUrl(info->url, connection));
  // Step 2: the bytes, with the same token.
  http::ClientRequest download;
  download.method = "GET";
  download.url = info->url;
  download.headers = BearerHeaders(connection);
  download.timeout = deps_.send_timeout;
  download.max_response_bytes = max_bytes;
  Result<http::ClientResponse> file = co_await client.Send(std::move(download));
  if (!file.ok()) co_return MediaTransportError(file.status(), "media download");
  if (file->status / 100 != 2) co_return MediaHttpError(file->status, "media download");
  if (file->body.size() > max_bytes) {
    co_return ResourceExhausted(fmt::format("media: larger than {} bytes", max_bytes));
  }
  PARLEY_CO_RETURN_IF_ERROR(CheckDigest(file->body, info->sha256));
  PARLEY_CO_RETURN_IF_ERROR(CheckDigest(file->body, media.sha256));
  FetchedMedia fetched;
  fetched.mime_type = !info->mime_type.empty() ? info->mime_type : media.mime_type;
  if (fetched.mime_type.empty()) {
    std::string_view header = file->Header("content-type").value_or("");
    if (PrintableMime(header)) fetched.mime_type = std::string(header);
  }
  fetched.filename = media.filename;
  fetched.bytes = std::move(file->body);
  co_return fetched;
}

boost::asio::awaitable<Status> WhatsAppAdapter::SendSignal(SignalRequest request,
                                                           ConnectionContext connection) {
  std::optional<json::object> body = RenderSignal(request);
  if (!body) co_return OkStatus();
  std::string phone = meta::StringField(connection.settings, "phone_number_id");
  if (phone.empty() || meta::StringField(connection.credentials, "access_token").empty()) {
    co_return FailedPrecondition("the connection has no phone_number_id or access_token");
  }
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = meta::GraphUrl(connection, phone + "/messages");
  http_request.headers = BearerHeaders(connection);
  http_request.headers.emplace_back("Content-Type", "application/json");
  http_request.body = json::serialize(*body);
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) {
    co_return Unavailable(
        fmt::format("WhatsApp read mark: {}", StatusCodeName(response.status().code())));
  }
  if (response->status / 100 == 2) co_return OkStatus();
  SendOutcome outcome = meta::ClassifyGraphError(*response);
  std::string m = fmt::format("WhatsApp read mark failed: {}", outcome.error.code);
  if (outcome.kind == SendOutcome::Kind::kRetry) co_return Unavailable(std::move(m));
  co_return InvalidArgument(std::move(m));
}

}  // namespace parley::channels::whatsapp

// MessagingAdapter: the HTTP glue over the pure parsing and rendering of the Messenger
// Platform (messenger_parse.cc, messenger_render.cc).
#include "channels/messenger/messenger_common.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cctype>

#include "channels/meta/meta_common.h"
#include "http/client.h"

namespace parley::channels::messenger {

namespace json = boost::json;

namespace {

// Downloads from Meta's CDN may be large; the send timeout is meant for small API calls.
constexpr Millis kMediaTimeout{60000};
constexpr int kMaxRedirects = 3;

bool IsHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
         !parsed->host().empty() && url.size() <= kMaxUrlBytes;
}

// "image/jpeg; charset=…" -> "image/jpeg"; "" when absent or not type/subtype.
std::string MimeTypeOf(std::optional<std::string_view> content_type) {
  if (!content_type) return {};
  std::string_view v = *content_type;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  size_t slash = v.find('/');
  if (v.size() > kMaxMimeTypeBytes || slash == std::string_view::npos || slash == 0 ||
      slash + 1 == v.size()) {
    return {};
  }
  std::string out;
  for (char c : v) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return {};
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// The absolute URL a redirect's Location names, relative to `base`; "" when malformed.
std::string ResolveLocation(std::string_view base, std::string_view location) {
  auto base_url = boost::urls::parse_absolute_uri(base);
  auto ref = boost::urls::parse_uri_reference(location);
  if (!base_url || !ref) return {};
  boost::urls::url resolved;
  if (!boost::urls::resolve(*base_url, *ref, resolved)) return {};
  return std::string(resolved.buffer());
}

}  // namespace

Result<json::object> MessagingAdapter::PrepareConnection(json::object& settings,
                                                         json::object& credentials) const {
  PARLEY_RETURN_IF_ERROR(meta::PrepareMetaConnection(settings, credentials, flavor_.id_setting));
  return json::object();
}

Status MessagingAdapter::VerifyWebhook(const http::Request& request,
                                       const ConnectionContext& connection, TimePoint) const {
  return meta::VerifyHubSignature(request, meta::StringField(connection.credentials, "app_secret"));
}

Result<InboundBatch> MessagingAdapter::ParseWebhook(const http::Request& request) const {
  return ParseMessagingWebhook(request.body, flavor_);
}

http::Response MessagingAdapter::AnswerHandshake(const http::Request& request,
                                                 const ConnectionContext& connection) const {
  return meta::AnswerHubHandshake(request,
                                  meta::StringField(connection.credentials, "verify_token"));
}

std::string MessagingAdapter::ClientIdentity(const ConnectionContext& connection) const {
  return meta::StringField(connection.settings, flavor_.id_setting);
}

boost::asio::awaitable<SendOutcome> MessagingAdapter::Send(OutboundRequest request,
                                                           ConnectionContext connection) {
  if (meta::StringField(connection.credentials, "access_token").empty() ||
      meta::StringField(connection.settings, flavor_.id_setting).empty()) {
    co_return FailedPermanently(
        "connection_misconfigured",
        fmt::format("the connection has no access_token or {}", flavor_.id_setting));
  }
  RenderedMessage rendered = RenderSendBody(request, flavor_);
  if (!rendered.ok()) {
    co_return FailedPermanently(std::move(rendered.error.code), std::move(rendered.error.message));
  }
  http::ClientRequest http_request =
      BuildGraphPost(connection, flavor_, rendered.body, deps_.send_timeout);
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) co_return meta::TransportFailure(response.status());
  co_return InterpretSendResponse(*response);
}

boost::asio::awaitable<Status> MessagingAdapter::SendSignal(SignalRequest request,
                                                            ConnectionContext connection) {
  if (meta::StringField(connection.credentials, "access_token").empty()) {
    co_return FailedPrecondition("the connection has no access_token");
  }
  json::object body = RenderSenderAction(request.contact_id, request.kind);
  http::ClientRequest http_request = BuildGraphPost(connection, flavor_, body, deps_.send_timeout);
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) co_return response.status();
  if (response->status / 100 == 2) co_return OkStatus();
  // Only the code: Meta's message may name the recipient.
  SendOutcome outcome = meta::ClassifyGraphError(*response);
  if (outcome.kind == SendOutcome::Kind::kRetry) {
    co_return Unavailable(fmt::format("sender action refused: {}", outcome.error.code));
  }
  co_return FailedPrecondition(fmt::format("sender action refused: {}", outcome.error.code));
}

boost::asio::awaitable<Result<FetchedMedia>> MessagingAdapter::FetchMedia(
    MediaRef media, ConnectionContext connection, uint64_t max_bytes) {
  (void)connection;  // CDN URLs need no credentials
  http::Client* client = deps_.media_client != nullptr ? deps_.media_client : deps_.client;
  std::string url = media.ref;
  for (int hop = 0;; ++hop) {
    // Never the URL in an error: its query carries Meta's access hash.
    if (!IsHttpUrl(url)) co_return InvalidArgument("media reference: not an http(s) URL");
    http::ClientRequest http_request;
    http_request.method = "GET";
    http_request.url = url;
    http_request.timeout = kMediaTimeout;
    http_request.max_response_bytes = max_bytes;
    Result<http::ClientResponse> response = co_await client->Send(std::move(http_request));
    if (!response.ok()) {
      StatusCode code = response.status().code();
      if (code == StatusCode::kDeadlineExceeded)
        co_return DeadlineExceeded("media download timed out");
      if (code == StatusCode::kResourceExhausted) {
        co_return ResourceExhausted("media file larger than allowed");
      }
      if (code == StatusCode::kInvalidArgument) co_return InvalidArgument("media URL refused");
      co_return Unavailable("media download failed");
    }
    int status = response->status;
    if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
        hop < kMaxRedirects) {
      url = ResolveLocation(url, response->Header("location").value_or(""));
      continue;
    }
    if (status / 100 == 2) {
      if (response->body.size() > max_bytes) {
        co_return ResourceExhausted(fmt::format("media file larger than {} bytes", max_bytes));
      }
      FetchedMedia out;
      out.bytes = std::move(response->body);
      out.mime_type = MimeTypeOf(response->Header("content-type"));
      out.filename = media.filename;
      co_return out;
    }
    std::string what = fmt::format("media download answered {}", status);
    if (status == 404 || status == 410) co_return NotFound(std::move(what));
    if (status == 401 || status == 403) co_return PermissionDenied(std::move(what));
    if (status == 408 || status == 429 || status >= 500) co_return Unavailable(std::move(what));
    co_return InvalidArgument(std::move(what));
  }
}

}  // namespace parley::channels::messenger

// src/channels/meta/meta_common.h
//
// What the three Meta channels (whatsapp, messenger, instagram) share: the webhook signature
// (X-Hub-Signature-256 over the raw body with the app secret), the subscription handshake
// (hub.mode / hub.verify_token / hub.challenge), the Graph API's base URL and version
// settings, and the Graph error object, whose codes (not the HTTP status) tell a throttle from
// a permanent refusal (../shared/fixtures/PROVIDERS.md §1b, §1c, §2b, §2c).
//
//   PARLEY_RETURN_IF_ERROR(meta::VerifyHubSignature(request, app_secret));
//   std::string url = meta::GraphUrl(connection, phone_number_id + "/messages");
//   if (response.status / 100 != 2) co_return meta::ClassifyGraphError(response);
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "channels/channel_adapter.h"
#include "core/result.h"
#include "http/client.h"
#include "http/message.h"

namespace parley::channels::meta {

inline constexpr std::string_view kDefaultGraphBaseUrl = "https://graph.facebook.com";
inline constexpr std::string_view kDefaultGraphVersion = "v21.0";
inline constexpr size_t kMaxSecretBytes = 256;

// Checks `X-Hub-Signature-256: sha256=<64 hex>` against HMAC-SHA256(app_secret, body), in
// constant time. Errors: kUnauthenticated (missing, malformed or wrong; the message says
// which, never the expected value).
Status VerifyHubSignature(const http::Request& request, std::string_view app_secret);

// The GET handshake: 200 with the challenge as text/plain when hub.mode is "subscribe" and
// hub.verify_token equals `verify_token` (constant time); 403 otherwise.
http::Response AnswerHubHandshake(const http::Request& request, std::string_view verify_token);

// Validates and completes the settings and credentials every Meta connection has:
//   settings:    api_base_url (default kDefaultGraphBaseUrl; http(s), no query),
//                api_version  (default kDefaultGraphVersion; "v" digits "." digits)
//   credentials: app_secret (required), verify_token (required), access_token (required);
//                each 1..kMaxSecretBytes printable ASCII.
// `id_setting` names the channel's identity setting (phone_number_id, page_id,
// instagram_id): required, 1..64 digits. Errors: kInvalidArgument naming the field.
Status PrepareMetaConnection(boost::json::object& settings, boost::json::object& credentials,
                             std::string_view id_setting);

// "<api_base_url>/<api_version>/<path>" from the connection's settings.
std::string GraphUrl(const ConnectionContext& connection, std::string_view path);

// A string field of `o`, or "" when missing or not a string.
std::string StringField(const boost::json::object& o, std::string_view key);

// The outcome of a Graph API call that did not succeed: throttling codes (4, 17, 32, 613,
// 80007, 130429, 131056), temporary errors (1, 2, is_transient), HTTP 429 and 5xx are
// retried (honouring Retry-After); everything else fails permanently with code
// "meta_<code>" (or "http_<status>" without an error object) and Meta's message.
SendOutcome ClassifyGraphError(const http::ClientResponse& response);

// The outcome of a transport failure (no response): retried.
SendOutcome TransportFailure(const Status& status);

}  // namespace parley::channels::meta

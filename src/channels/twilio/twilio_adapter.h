// src/channels/twilio/twilio_adapter.h
//
// The twilio channel (docs/channels/twilio.md): SMS, MMS and WhatsApp through Twilio
// Programmable Messaging. Inbound messages and status callbacks arrive as signed form posts
// (X-Twilio-Signature over the public URL and the sorted parameters); replies go to the
// Messages resource with HTTP Basic auth (../shared/fixtures/PROVIDERS.md §3).
//
//   TwilioAdapter adapter(deps);
//   PARLEY_RETURN_IF_ERROR(adapter.VerifyWebhook(request, connection, clock.Now()));
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter.ParseWebhook(request));
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "channels/channel_adapter.h"
#include "channels/twilio/twilio_wire.h"
#include "http/client.h"

namespace parley::channels::twilio {

inline constexpr std::string_view kDefaultApiBaseUrl = "https://api.twilio.com";
inline constexpr size_t kMaxBodyChars = 1600;  // Body, in Unicode code points
inline constexpr size_t kMaxMediaUrls = 10;
inline constexpr size_t kMaxSidBytes = 64;
inline constexpr size_t kMaxAddressBytes = 256;  // From / To ("whatsapp:+…")
inline constexpr size_t kMaxCredentialBytes = 256;
inline constexpr int kMaxMediaRedirects = 3;

// Parses one webhook's form parameters: an inbound message (SMS, MMS, WhatsApp) or a status
// callback. Errors: kInvalidArgument naming the parameter ("MessageSid: required").
Result<InboundBatch> ParseParams(const FormParams& params);

// The URL Twilio signed for `request`: settings.webhook_url (plus the request's raw query
// when the setting has none), else `public_url` + the raw request target; "" when neither
// is configured.
std::string SignedUrl(const http::Request& request, const ConnectionContext& connection,
                      std::string_view public_url);

// The StatusCallback URL for outbound messages: settings.webhook_url, else `public_url` +
// "/v1/webhooks/" + connection id; "" when neither is configured.
std::string StatusCallbackUrl(const ConnectionContext& connection, std::string_view public_url);

// The provider request for `request`, or the permanent failure to report instead (too_long,
// unsupported_content, public_url_required, connection_misconfigured).
using Rendered = std::variant<http::ClientRequest, SendOutcome>;
Rendered RenderSend(const OutboundRequest& request, const ConnectionContext& connection,
                    std::string_view public_url);

// The form parameters RenderSend puts in the body (without To/From/StatusCallback), or the
// permanent failure. Exposed for tests.
std::variant<FormParams, SendOutcome> RenderContent(const Content& content);

// The outcome of a Messages.json response: 2xx -> sent with `sid`; 429, 5xx and throttling
// codes -> retried (Retry-After honoured); other errors -> permanent "twilio_<code>".
SendOutcome InterpretSendResponse(const http::ClientResponse& response);

class TwilioAdapter final : public ChannelAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit TwilioAdapter(const AdapterDeps& deps) : deps_(deps) {}

  std::string_view kind() const override { return "twilio"; }
  // settings: account_sid (required, "AC" + 32 hex), from ("+E164" or "whatsapp:+E164";
  // required unless messaging_service_sid is set), messaging_service_sid (optional, "MG" +
  // 32 hex), api_base_url (default kDefaultApiBaseUrl), webhook_url (optional absolute URL);
  // credentials: auth_token (required). Nothing is generated.
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  // X-Twilio-Signature over SignedUrl(…) (with and without the default port) and the form
  // body. kUnauthenticated also when no public URL is configured.
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;
  // An empty TwiML document (no automatic reply), for every accepted webhook.
  std::optional<http::Response> Acknowledgement(const InboundBatch& batch) const override;
  // settings.from ("" for a messaging service without a fixed number: accept any).
  std::string ClientIdentity(const ConnectionContext& connection) const override;
  // GET of the MediaUrl with Basic auth (only towards api_base_url's host), following up to
  // kMaxMediaRedirects redirects and dropping Authorization when the host changes.
  boost::asio::awaitable<Result<FetchedMedia>> FetchMedia(MediaRef media,
                                                          ConnectionContext connection,
                                                          uint64_t max_bytes) override;

 private:
  AdapterDeps deps_;
};

}  // namespace parley::channels::twilio

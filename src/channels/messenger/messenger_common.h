// src/channels/messenger/messenger_common.h
//
// What Messenger and Instagram Messaging share (../shared/fixtures/PROVIDERS.md §2): both
// deliver {"object":…,"entry":[{"id":…,"messaging":[event…]}]} webhooks signed like every Meta
// webhook, and both take the same Send API body at POST /<version>/<account id>/messages. A
// Flavor names the few differences; the pure functions below parse, render and interpret
// without a network, and MessagingAdapter glues them to HTTP (docs/channels/messenger.md).
//
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, ParseMessagingWebhook(body, kMessengerFlavor));
//   RenderedMessage rendered = RenderSendBody(request, kMessengerFlavor);
//   if (!rendered.ok()) return FailedPermanently(rendered.error.code, rendered.error.message);
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "channels/channel_adapter.h"
#include "http/client.h"

namespace parley::channels::messenger {

// The differences between the channels built on the Messenger Platform.
struct Flavor {
  std::string_view kind;          // registry kind: "messenger", "instagram"
  std::string_view object;        // the webhook envelope's "object": "page", "instagram"
  std::string_view id_setting;    // the identity setting: "page_id", "instagram_id"
  std::string_view display_name;  // "Messenger", "Instagram" (in error messages)
  // Messenger has the button template; Instagram has not (buttons become quick replies).
  bool button_template = true;
  // Instagram's sender_action "react" (only the ❤ reaction); Messenger has no general one.
  bool react_action = false;
};

inline constexpr Flavor kMessengerFlavor{.kind = "messenger",
                                         .object = "page",
                                         .id_setting = "page_id",
                                         .display_name = "Messenger",
                                         .button_template = true,
                                         .react_action = false};

// Limits of the Send API (PROVIDERS.md §2e and Meta's template reference), in characters
// (Unicode code points) unless said otherwise.
inline constexpr size_t kMaxTextChars = 2000;
inline constexpr size_t kMaxQuickReplies = 13;
inline constexpr size_t kMaxQuickReplyTitleChars = 20;  // longer titles are truncated
inline constexpr size_t kMaxPayloadChars = 1000;        // quick reply and postback payloads
inline constexpr size_t kMaxTemplateButtons = 3;        // button template, generic element
inline constexpr size_t kMaxButtonTemplateTextChars = 640;
inline constexpr size_t kMaxButtonTitleChars = 20;  // longer titles are truncated
inline constexpr size_t kMaxGenericElements = 10;
inline constexpr size_t kMaxElementTextChars = 80;  // element title and subtitle (truncated)
// Inbound bounds, in bytes.
inline constexpr size_t kMaxProviderIdBytes = 512;  // mids, PSIDs, page ids
inline constexpr size_t kMaxDeliveryMids = 100;

// ---- Inbound -----------------------------------------------------------------------------

// Parses a webhook body (entry[].messaging[] events) into messages, statuses and ignored
// events, as documented in docs/channels/messenger.md. Ids stay strings; timestamps are
// milliseconds. Events with no mapping (optin, referral, echoes, …) count in `ignored`.
// Errors: kInvalidArgument naming the field ("entry[0].messaging[1].message.mid: required");
// never quotes the input's values.
Result<InboundBatch> ParseMessagingWebhook(std::string_view body, const Flavor& flavor);

// The provider_message_id of an event without a mid (a postback without mid, a reaction):
// "<prefix>." + 32 hex characters of SHA-256 over the parts, stable across Meta's retries.
std::string DerivedEventId(std::string_view prefix, std::initializer_list<std::string_view> parts);

// ---- Outbound ----------------------------------------------------------------------------

// A Send API body, or the reason the message cannot be sent on this channel.
struct RenderedMessage {
  boost::json::object body;  // when ok()
  ProviderError error;       // code "too_long", "public_url_required", "unsupported_content", …
  bool ok() const { return error.code.empty(); }
};

// Renders `request` as the Send API body {"recipient":{"id"},"messaging_type":"RESPONSE",
// "message":{…}} (or a sender_action for Instagram's reaction), degrading what the channel
// lacks as docs/channels/messenger.md describes.
RenderedMessage RenderSendBody(const OutboundRequest& request, const Flavor& flavor);

// The body of a sender action ("typing_on", "typing_off", "mark_seen") for `contact_id`.
boost::json::object RenderSenderAction(std::string_view contact_id, SignalRequest::Kind kind);

// POST <api_base_url>/<api_version>/<account id>/messages with the page access token as a
// Bearer token. `body` is serialized as is.
http::ClientRequest BuildGraphPost(const ConnectionContext& connection, const Flavor& flavor,
                                   const boost::json::object& body, Millis timeout);

// The outcome of a Send API answer: 2xx -> SentAs(message_id) (an empty id for a sender
// action, which has none); otherwise meta::ClassifyGraphError.
SendOutcome InterpretSendResponse(const http::ClientResponse& response);

// Number of Unicode code points in valid UTF-8 `s`.
size_t CountChars(std::string_view s);
// The first `max_chars` code points of `s`.
std::string TruncateChars(std::string_view s, size_t max_chars);

// ---- The adapter -------------------------------------------------------------------------

// One Messenger-Platform channel; MessengerAdapter and InstagramAdapter only pick the Flavor.
// Settings: <id_setting>, api_base_url, api_version; credentials: app_secret, verify_token,
// access_token (meta::PrepareMetaConnection).
// Thread safety: every method may be called concurrently.
class MessagingAdapter : public ChannelAdapter {
 public:
  std::string_view kind() const override { return flavor_.kind; }
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;
  http::Response AnswerHandshake(const http::Request& request,
                                 const ConnectionContext& connection) const override;
  std::string ClientIdentity(const ConnectionContext& connection) const override;
  // GETs the attachment's CDN URL (no credentials; up to 3 redirects).
  boost::asio::awaitable<Result<FetchedMedia>> FetchMedia(MediaRef media,
                                                          ConnectionContext connection,
                                                          uint64_t max_bytes) override;
  bool SendsSignal(SignalRequest::Kind) const override { return true; }  // sender actions
  boost::asio::awaitable<Status> SendSignal(SignalRequest request,
                                            ConnectionContext connection) override;

  const Flavor& flavor() const { return flavor_; }

 protected:
  // `deps` pointers must outlive the adapter; `flavor` must be a constant.
  MessagingAdapter(const AdapterDeps& deps, const Flavor& flavor) : deps_(deps), flavor_(flavor) {}

 private:
  AdapterDeps deps_;
  const Flavor& flavor_;
};

}  // namespace parley::channels::messenger

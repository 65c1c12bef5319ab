// src/channels/channel_adapter.h
//
// A ChannelAdapter translates between one messaging provider and Parley's common message
// format: it authenticates and parses the provider's webhooks, and renders and sends outbound
// messages. One instance per channel kind serves every connection of that kind; everything
// connection-specific (secrets, URLs) arrives in a ConnectionContext on each call.
//
//   ChannelAdapter* adapter = registry.Find("custom");
//   PARLEY_RETURN_IF_ERROR(adapter->VerifyWebhook(request, connection, clock.Now()));
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter->ParseWebhook(request));
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/message.h"
#include "core/result.h"
#include "http/message.h"

namespace parley::http {
class Client;
}

namespace parley::channels {

// What an adapter derives once from a connection's credentials and uses on every request
// (the custom channel: its signing key made for HMAC), made on first use. A copy or a move
// starts empty, as its credentials may be changed before it is used.
// Thread safety: Get may be called concurrently.
class DerivedCredentials {
 public:
  DerivedCredentials() = default;
  DerivedCredentials(const DerivedCredentials&) noexcept {}
  DerivedCredentials(DerivedCredentials&&) noexcept {}
  DerivedCredentials& operator=(const DerivedCredentials&) {
    Reset();
    return *this;
  }
  DerivedCredentials& operator=(DerivedCredentials&&) {
    Reset();
    return *this;
  }

  // The value `make` made on the first call (it may be null). One context, one T: asking
  // for another type than the first call's is a bug (PARLEY_CHECK). `make` runs under the
  // lock: it must not call Get on the same object.
  template <typename T, typename Make>
  std::shared_ptr<const T> Get(Make&& make) const {
    std::lock_guard lock(mu_);
    if (tag_ == nullptr) {
      value_ = std::forward<Make>(make)();
      tag_ = &kTag<T>;
    }
    PARLEY_CHECK(tag_ == &kTag<T>);
    return std::static_pointer_cast<const T>(value_);
  }

 private:
  template <typename T>
  static constexpr char kTag = 0;

  void Reset() {
    std::lock_guard lock(mu_);
    tag_ = nullptr;
    value_.reset();
  }

  mutable std::mutex mu_;
  mutable const char* tag_ = nullptr;  // the type made, once made
  mutable std::shared_ptr<const void> value_;
};

// One connection as an adapter sees it, with its credentials opened.
struct ConnectionContext {
  TenantId tenant;
  ConnectionId id;
  std::string kind;
  boost::json::object settings;     // non-secret (e.g. outbound_url)
  boost::json::object credentials;  // secrets, in memory only: never log
  // Derived from `credentials` on the first request that needs it.
  DerivedCredentials derived;
};
static_assert(std::is_nothrow_move_constructible_v<ConnectionContext>);

// A media file that a provider message refers to. Before the message is stored, the webhook
// fetches it through FetchMedia into the tenant's attachment storage (the provider's answer
// waits for that), and the stored attachment replaces the reference.
struct MediaRef {
  std::string ref;        // what FetchMedia needs: a media id, a file id or a URL
  std::string mime_type;  // as the provider declared it; "" = unknown
  std::string filename;   // optional
  std::string sha256;     // optional digest from the provider (hex or base64)
};

struct FetchedMedia {
  std::string bytes;
  std::string mime_type;  // from the provider's answer; "" = unknown
  std::string filename;   // optional
};

// A customer message as the provider sent it, before Parley assigns ids and resolves the
// customer and conversation.
struct InboundMessage {
  std::string provider_message_id;  // dedupe key, required
  std::string contact_id;           // the customer's id on the channel (sensitive)
  std::string contact_name;         // optional (sensitive)
  std::optional<TimePoint> sent_at;
  std::string reply_to_provider_id;
  Content content;
  // For a MediaContent from a provider: one reference per attachment, in the same order.
  // The attachments themselves carry only what the provider declared (mime type, name).
  std::vector<MediaRef> media;
  // The business's identity the provider delivered this to (phone number id, page id, the
  // `To` number, …); "" when the payload does not say (Telegram).
  std::string client_identity;
};

// A delivery status for a message Parley sent through the channel.
struct InboundStatus {
  std::optional<MessageId> message;  // when the provider echoes Parley's id
  std::string provider_message_id;   // otherwise, the provider's id of it
  DeliveryStatus status = DeliveryStatus::kDelivered;
  std::optional<ProviderError> error;
  std::optional<TimePoint> at;
  std::string client_identity;  // as in InboundMessage
  // A watermark status (Messenger's delivery/read without ids): every message Parley sent to
  // `contact_id` up to `watermark` reached `status`.
  std::optional<TimePoint> watermark;
  std::string contact_id;
};

// Typing and read signals a customer's app sends (Messenger's typing/read, …).
struct InboundSignal {
  enum class Kind { kTypingOn, kTypingOff };
  Kind kind = Kind::kTypingOn;
  std::string contact_id;
  std::string client_identity;
};

// Where an inbound message lands once Parley has resolved it.
struct InboundPlacement {
  MessageId id;
  TenantId tenant;
  ConversationId conversation;
  ChannelRef channel;
  CustomerId customer;
  TimePoint received_at;
};

// The common-format message for `in` at `where`.
Message ToCommonFormat(const InboundMessage& in, const InboundPlacement& where);

struct InboundBatch {
  std::vector<InboundMessage> messages;
  std::vector<InboundStatus> statuses;
  std::vector<InboundSignal> signals;
  // Provider events Parley does not map and that are not customer messages (Meta's
  // `account_update`, Telegram's `my_chat_member`, Messenger's echoes of Parley's own
  // sends, …): counted, never stored.
  int ignored = 0;
  // Adapter-specific data for Acknowledgement (Telegram: the callback query to answer in the
  // webhook's response). Never logged.
  std::string ack_data;
};

// What to send: the stored outbound message and the recipient's contact id.
struct OutboundRequest {
  Message message;
  std::string contact_id;
  std::string reply_to_provider_id;  // the provider id of the message answered, if any
};

// The result of one send attempt.
struct SendOutcome {
  enum class Kind { kSent, kRetry, kPermanentFailure };
  Kind kind = Kind::kSent;
  std::string provider_message_id;  // kSent
  ProviderError error;              // kRetry / kPermanentFailure (code like "http_503")
  Millis retry_after{0};            // kRetry: the provider asked us to wait this long
};

// A typing indicator or read mark to pass to the customer's app.
struct SignalRequest {
  enum class Kind { kTypingOn, kTypingOff, kRead };
  Kind kind = Kind::kTypingOn;
  std::string contact_id;
  std::string provider_message_id;  // kRead: the customer's message that was read
};

// Shared services an adapter may use. Pointers outlive every adapter.
struct AdapterDeps {
  http::Client* client = nullptr;
  // For provider media downloads: allows bodies up to the largest attachment.
  http::Client* media_client = nullptr;
  const Clock* clock = nullptr;
  Millis send_timeout{10000};
  std::chrono::seconds replay_window{300};
  // server.public_url: the base URL providers call (Twilio signs the URL it called). "" =
  // not configured; a connection's "webhook_url" setting takes precedence.
  std::string public_url;
};

// Outcome helpers for Send: a transient failure (retried, after `retry_after` if the provider
// said) or a permanent one (reported as message.status failed with the provider's code).
SendOutcome SentAs(std::string provider_message_id);
SendOutcome RetryLater(std::string code, std::string message, Millis retry_after = Millis{0});
SendOutcome FailedPermanently(std::string code, std::string message);

// Checks settings.api_base_url (an absolute http(s) URL without query, fragment or trailing
// '/'), or sets `default_url` when it is absent. Errors: kInvalidArgument naming the field.
Status CheckApiBaseUrl(boost::json::object& settings, std::string_view default_url);

// A Retry-After header value in seconds ("120"), as milliseconds; 0 when absent or not a
// number of seconds (HTTP dates are not honoured: the backoff applies), capped at one hour.
Millis RetryAfterHeader(std::optional<std::string_view> value);

// Thread safety: every method may be called concurrently.
class ChannelAdapter {
 public:
  virtual ~ChannelAdapter() = default;

  virtual std::string_view kind() const = 0;

  // Checks (and completes) the settings and credentials given when a connection is created:
  // kInvalidArgument with a field path on bad input. May generate secrets; returns the
  // generated values that the API shows once (e.g. {"secret": …}), or an empty object.
  virtual Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                        boost::json::object& credentials) const = 0;

  // Authenticates one webhook call (signature, token, replay window). Must tolerate hostile
  // input. Errors: kUnauthenticated.
  virtual Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                               TimePoint now) const = 0;

  // Parses an authenticated (or, for `parley normalize`, unauthenticated) webhook body.
  // Errors: kInvalidArgument (malformed; the message names the field).
  virtual Result<InboundBatch> ParseWebhook(const http::Request& request) const = 0;

  // Renders `request.message` for this provider and sends it.
  virtual boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                                   ConnectionContext connection) = 0;

  // --- Optional parts; the defaults suit a channel without them. ---

  // A GET on the connection's webhook URL: the provider's subscription handshake (Meta's
  // hub.mode/hub.verify_token/hub.challenge). Default: 405.
  virtual http::Response AnswerHandshake(const http::Request& request,
                                         const ConnectionContext& connection) const;

  // The answer to an accepted webhook call (after the commit), when the provider expects a
  // particular one (Twilio: an empty TwiML document; Telegram: a method call answering a
  // button press). Default: nullopt, Parley's JSON summary.
  virtual std::optional<http::Response> Acknowledgement(const InboundBatch& batch) const {
    (void)batch;
    return std::nullopt;
  }

  // The business's identity this connection serves on the provider (phone number id, page
  // id, number), from its settings; "" = accept any. Messages and statuses whose
  // client_identity is set and differs are not this connection's.
  virtual std::string ClientIdentity(const ConnectionContext& connection) const;

  // Downloads one media file a parsed message refers to, at most `max_bytes`.
  // Errors: kUnavailable / kDeadlineExceeded (transient: the webhook answers 503 and the
  // provider retries), kResourceExhausted (too large), kNotFound / kPermissionDenied /
  // kInvalidArgument (permanent: the message is stored as `unsupported`). Default:
  // kFailedPrecondition (permanent).
  virtual boost::asio::awaitable<Result<FetchedMedia>> FetchMedia(MediaRef media,
                                                                  ConnectionContext connection,
                                                                  uint64_t max_bytes);

  // Whether SendSignal passes this kind of signal on to the provider (the caller skips the
  // work of preparing one that would not be). Default: none.
  virtual bool SendsSignal(SignalRequest::Kind kind) const {
    (void)kind;
    return false;
  }

  // Sends a typing indicator or read mark to the customer's app, where the provider has them.
  // Best effort: errors are counted, not retried. Default: does nothing.
  virtual boost::asio::awaitable<Status> SendSignal(SignalRequest request,
                                                    ConnectionContext connection);
};

}  // namespace parley::channels

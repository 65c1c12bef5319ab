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
#include <optional>
#include <string>
#include <string_view>
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

// One connection as an adapter sees it, with its credentials opened.
struct ConnectionContext {
  TenantId tenant;
  ConnectionId id;
  std::string kind;
  boost::json::object settings;     // non-secret (e.g. outbound_url)
  boost::json::object credentials;  // secrets, in memory only: never log
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
};

// A delivery status for a message Parley sent through the channel.
struct InboundStatus {
  std::optional<MessageId> message;  // when the provider echoes Parley's id
  std::string provider_message_id;   // otherwise, the provider's id of it
  DeliveryStatus status = DeliveryStatus::kDelivered;
  std::optional<ProviderError> error;
  std::optional<TimePoint> at;
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

// Shared services an adapter may use. Pointers outlive every adapter.
struct AdapterDeps {
  http::Client* client = nullptr;
  const Clock* clock = nullptr;
  Millis send_timeout{10000};
  std::chrono::seconds replay_window{300};
};

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
};

}  // namespace parley::channels

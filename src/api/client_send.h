// src/api/client_send.h
//
// The client API's send (POST /v1/conversations/{id}/messages), sealed before its store
// write when it can be: the message, its serialized form and sealed body, its
// message.created event and the answer kept for an Idempotency-Key are all built off the
// single store writer, as the ingest path does (inbound.h, PrepareInbound). It can be when
// the conversation's channel is known from an earlier send (ConversationChannels), and the
// message has no attachments and answers no earlier message (those are read in the write).
// The write checks the channel against the conversation it reads, and seals the message
// itself when there is nothing prepared or the guess was wrong.
//
// The message's id and time are then taken before the write, as an inbound message's are:
// two messages sent into one conversation at the same moment may commit in the other order
// than their ids. The events' seq (the stream, webhooks) is the commit order.
//
//   std::optional<ChannelRef> channel = channels.Find(tenant, conversation);
//   SealedSend sealed = SealSend(key, clock, message_with_that_channel, key_hash);
//   // in the write: use `sealed` if the conversation's {kind, connection} == *channel
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/message.h"
#include "crypto/keys.h"
#include "delivery/event_recorder.h"

namespace parley::api {

struct SealedSend {
  std::shared_ptr<const Message> message;
  std::string json;                // Serialize(*message): the message row's body and the answer
  std::string body_sealed;         // the message row's body, sealed at its place
  delivery::PreparedEvent event;   // message.created
  std::string idempotency_sealed;  // the answer kept for the Idempotency-Key; "" without one
};

// Serializes and seals `message` (complete: channel, content with its attachments resolved,
// reply_to and its provider id). `key_hash`: the request's Idempotency-Key hash, or "".
// Thread-safe.
SealedSend SealSend(const crypto::DataKey& key, const Clock& clock, Message message,
                    std::string_view key_hash);

// The channel of each conversation a message was last sent into, by tenant and
// conversation. A conversation's connection never changes, so an entry is only ever
// missing, never wrong; the write still checks it. Bounded: cleared when full (beyond that
// many conversations, sends are sealed on the writer again). Thread-safe.
class ConversationChannels {
 public:
  std::optional<ChannelRef> Find(const TenantId& tenant, const ConversationId& conversation) const;
  void Remember(const TenantId& tenant, const ConversationId& conversation, ChannelRef channel);

 private:
  static constexpr size_t kMaxEntries = 20000;
  mutable std::mutex mu_;
  std::unordered_map<std::string, ChannelRef> channels_;  // by Key(); guarded by mu_
};

}  // namespace parley::api

// src/api/client_send.h
//
// The client API's send (POST /v1/conversations/{id}/messages), sealed before its store
// write when it can be (SealMessage, sealed_message.h: the message, its sealed body, its
// message.created event and the answer kept for an Idempotency-Key), off the single store
// writer, as the ingest path does (inbound.h, PrepareInbound). It can be when
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
//   SealedMessage sealed = SealMessage(key, clock, message_with_that_channel, key_hash);
//   // in the write: use `sealed` if the conversation's {kind, connection} == *channel
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/ids.h"
#include "core/message.h"

namespace parley::api {

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

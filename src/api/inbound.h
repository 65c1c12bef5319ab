// src/api/inbound.h
//
// Storing what a customer sends, shared by the channel webhooks and the web chat socket: each
// runs inside one store write (on the writer thread), with the events it records published by
// the caller after the commit.
//
//   store::Store::WriteFn ingest = [&](store::Writer& w) {
//     PARLEY_ASSIGN_OR_RETURN(InboundOutcome out, StoreInbound(w, connection, recorder, m, clock));
//     …
//   };
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/connection_cache.h"
#include "api/sealed_message.h"
#include "channels/channel_adapter.h"
#include "core/clock.h"
#include "delivery/event_recorder.h"
#include "store/store.h"

namespace parley::api {

// Plaintext ephemeral records of a conversation (chat context, cookie data, private data as
// JSON), sealed by StoreInbound into the conversation the message lands in.
struct InboundEphemeral {
  std::optional<std::string> context_json{};
  std::optional<std::string> cookies_json{};
  std::optional<std::string> private_json{};
  bool empty() const { return !context_json && !cookies_json && !private_json; }
};

struct InboundOutcome {
  MessageId message;
  ConversationId conversation;
  CustomerId customer;
  bool duplicate = false;
  bool conversation_started = false;
  std::shared_ptr<const Message> stored;  // the stored message; null for a duplicate
};

// What StoreInbound can do before its write, on the caller's thread: the time, the message
// id, the blind indexes and, when the connection's guesses know the contact's conversation,
// the message and its message.created event built and sealed for that conversation.
struct PreparedInbound {
  TimePoint now;
  MessageId message;
  std::string dedupe_index;
  std::string contact_index;
  std::optional<ConversationGuesses::Guess> guess;  // set when `sealed` is
  SealedMessage sealed;
};
PreparedInbound PrepareInbound(const OpenConnection& c, const channels::InboundMessage& in,
                               const Clock& clock);
// After the write committed: remember the contact's conversation for the next message.
void RememberConversation(const OpenConnection& c, const PreparedInbound& prepared,
                          const InboundOutcome& outcome);

// Dedupes by (connection, provider message id), finds or creates the customer (by the blind
// index of the contact id) and their open conversation, checks the message's attachments,
// stores the sealed message and records conversation.started and message.created.
// `ephemeral`, when given, is sealed onto the conversation this message starts (an open
// conversation keeps what it has: update it with SetConversationEphemeral). `prepared`, when
// given, is PrepareInbound's work for `in`, used where its guess holds.
Result<InboundOutcome> StoreInbound(store::Writer& w, const OpenConnection& c,
                                    delivery::EventRecorder& recorder,
                                    const channels::InboundMessage& in, const Clock& clock,
                                    const InboundEphemeral* ephemeral = nullptr,
                                    const PreparedInbound* prepared = nullptr);

// Applies a delivery status to a message this connection carried, keeping the highest state
// reached (statuses arrive out of order; delivery/message_status.h); `direction` is the
// direction of the message the status is about. A status naming a provider id not recorded
// yet is kept as a pending status for the send's write to apply. Returns false when nothing
// changed.
Result<bool> ApplyStatus(store::Writer& w, const OpenConnection& c,
                         delivery::EventRecorder& recorder, const channels::InboundStatus& st,
                         const Clock& clock,
                         store::Direction direction = store::Direction::kOutbound);

// Seals `e` for conversation `id` in the places the data map lists.
store::ConversationEphemeral SealEphemeral(const crypto::DataKey& key, const TenantId& tenant,
                                           const ConversationId& id, const InboundEphemeral& e);

}  // namespace parley::api

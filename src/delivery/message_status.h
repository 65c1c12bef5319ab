// src/delivery/message_status.h
//
// Moving a message's delivery state, shared by the webhook path (a provider's status
// callback) and the dispatcher (the send's own outcome). States only move forward, since
// providers send statuses out of order. A status that names a provider id Parley has not
// recorded yet (it outran the write recording the send) waits as a pending status, and the
// send's write applies it.
//
//   PARLEY_ASSIGN_OR_RETURN(bool moved,
//                           AdvanceMessageStatus(w, recorder, tenant, data, message.status, now));
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/message.h"
#include "core/result.h"
#include "crypto/keys.h"
#include "delivery/event_recorder.h"
#include "store/store.h"

namespace parley::delivery {

// Ranks of message states: received/queued/failed 0, sent 1, delivered 2, read 3.
int StatusRank(std::string_view status);

// Whether a message in state `current` moves to `next`: to a higher rank, or to failed while
// it was not yet delivered.
bool StatusAdvances(std::string_view current, DeliveryStatus next);

// Moves a message in state `current` to `status.status` when StatusAdvances: updates the
// message row and records message.status (`status.at` is the provider's time, else `now`).
// Returns whether it moved.
Result<bool> AdvanceMessageStatus(store::Writer& w, EventRecorder& recorder, const TenantId& tenant,
                                  const MessageStatusData& status, std::string_view current,
                                  TimePoint now);

// How long a status naming an unknown provider id waits for the send that produced the id.
inline constexpr std::chrono::hours kPendingStatusWindow{1};
// At most this many pending statuses are kept per provider id.
inline constexpr int kMaxPendingStatusesPerId = 8;

// A pending status's sealed form (status, error, provider id and time as JSON), bound to its
// tenant and provider-id index.
std::string SealPendingStatus(const crypto::DataKey& key, const TenantId& tenant,
                              std::string_view key_index, const MessageStatusData& status);
// Errors: kInvalidArgument when it does not open or parse.
Result<MessageStatusData> OpenPendingStatus(const crypto::DataKey& key, const TenantId& tenant,
                                            std::string_view key_index, std::string_view sealed);

// Applies, in arrival order, the pending statuses kept for the provider id whose index is
// `key_index` to `message` (just recorded as sent with that provider id), and deletes them.
Status ApplyPendingStatuses(store::Writer& w, EventRecorder& recorder, const crypto::DataKey& key,
                            const TenantId& tenant, const ConnectionId& connection,
                            const std::string& key_index, const MessageId& message,
                            const ConversationId& conversation, TimePoint now);

}  // namespace parley::delivery

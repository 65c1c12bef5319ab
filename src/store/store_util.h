// src/store/store_util.h
//
// Backend-neutral helpers shared by every Store implementation: the limits of list calls
// and the stable text names under which enums are persisted.
//
//   PARLEY_RETURN_IF_ERROR(store::ValidatePage<ConversationId>(page));
//   std::string_view s = store::ConversationStateName(ConversationState::kOpen);  // "open"
#pragma once

#include <string_view>

#include "core/ids.h"
#include "core/result.h"
#include "store/store.h"

namespace parley::store {

// Moves the conversation's activity to `now` unless the stored time is less than
// kActivityResolution old (store.h allows skipping such touches): a busy conversation's activity
// costs one row write a second. Keeps `conversation.last_activity_at` as stored.
Status TouchConversationIfDue(Writer& w, ConversationRecord& conversation, TimePoint now);

// Largest `limit` any list call accepts (Page.limit, ListEventsAfter, ListOutbox).
inline constexpr int kMaxListLimit = 500;

// Errors: kInvalidArgument unless 1 <= limit <= kMaxListLimit.
Status ValidateLimit(int limit);

// Checks the limit and that `page.after` is empty or a well-formed id of type IdT (cursors are
// ids of the listed record). Errors: kInvalidArgument.
template <typename IdT>
Status ValidatePage(const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(page.limit));
  if (!page.after.empty() && !IdT::Parse(page.after).ok()) {
    return InvalidArgument("page cursor is not a valid id");
  }
  return OkStatus();
}

// Persisted names. Parse* fail with kInternal: an unknown name means a corrupt row.
std::string_view ConversationStateName(ConversationState s);  // "open", "ended"
Result<ConversationState> ParseConversationState(std::string_view name);
std::string_view DirectionName(Direction d);  // "inbound", "outbound"
Result<Direction> ParseDirection(std::string_view name);
std::string_view OutboxKindName(OutboxKind k);  // "webhook", "channel_send"
Result<OutboxKind> ParseOutboxKind(std::string_view name);

}  // namespace parley::store

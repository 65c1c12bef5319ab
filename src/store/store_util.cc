#include "store/store_util.h"

namespace parley::store {

Status TouchConversationIfDue(Writer& w, ConversationRecord& conversation, TimePoint now) {
  if (now - conversation.last_activity_at < kActivityResolution) return OkStatus();
  PARLEY_RETURN_IF_ERROR(w.TouchConversation(conversation.tenant, conversation.id, now));
  conversation.last_activity_at = FromUnixMillis(ToUnixMillis(now));  // as stored
  return OkStatus();
}

Status ValidateLimit(int limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgument("limit must be between 1 and " + std::to_string(kMaxListLimit));
  }
  return OkStatus();
}

std::string_view ConversationStateName(ConversationState s) {
  return s == ConversationState::kOpen ? "open" : "ended";
}

Result<ConversationState> ParseConversationState(std::string_view name) {
  if (name == "open") return ConversationState::kOpen;
  if (name == "ended") return ConversationState::kEnded;
  return Internal("stored conversation state is unknown");
}

std::string_view DirectionName(Direction d) {
  return d == Direction::kInbound ? "inbound" : "outbound";
}

Result<Direction> ParseDirection(std::string_view name) {
  if (name == "inbound") return Direction::kInbound;
  if (name == "outbound") return Direction::kOutbound;
  return Internal("stored message direction is unknown");
}

std::string_view OutboxKindName(OutboxKind k) {
  return k == OutboxKind::kWebhook ? "webhook" : "channel_send";
}

Result<OutboxKind> ParseOutboxKind(std::string_view name) {
  if (name == "webhook") return OutboxKind::kWebhook;
  if (name == "channel_send") return OutboxKind::kChannelSend;
  return Internal("stored outbox kind is unknown");
}

}  // namespace parley::store

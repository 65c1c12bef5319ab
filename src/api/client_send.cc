#include "api/client_send.h"

#include "core/message_json.h"
#include "delivery/tenant_keys.h"

namespace parley::api {

SealedSend SealSend(const crypto::DataKey& key, const Clock& clock, Message message,
                    std::string_view key_hash) {
  SealedSend out;
  const TenantId tenant = message.tenant;
  out.json = Serialize(message);
  out.body_sealed = key.Seal(out.json, delivery::place::MessageBody(tenant, message.id.str()));
  if (!key_hash.empty()) {
    out.idempotency_sealed =
        key.Seal(out.json, delivery::place::IdempotencyResponse(tenant, std::string(key_hash)));
  }
  out.message = std::make_shared<const Message>(std::move(message));
  out.event = delivery::EventRecorder::PrepareMessage(key, clock, out.message, out.json);
  return out;
}

namespace {
std::string Key(const TenantId& tenant, const ConversationId& conversation) {
  return tenant.str() + "/" + conversation.str();
}
}  // namespace

std::optional<ChannelRef> ConversationChannels::Find(const TenantId& tenant,
                                                     const ConversationId& conversation) const {
  const std::string key = Key(tenant, conversation);
  std::lock_guard lock(mu_);
  auto it = channels_.find(key);
  if (it == channels_.end()) return std::nullopt;
  return it->second;
}

void ConversationChannels::Remember(const TenantId& tenant, const ConversationId& conversation,
                                    ChannelRef channel) {
  std::string key = Key(tenant, conversation);
  std::lock_guard lock(mu_);
  if (channels_.size() >= kMaxEntries && !channels_.contains(key)) channels_.clear();
  channels_.insert_or_assign(std::move(key), std::move(channel));
}

}  // namespace parley::api

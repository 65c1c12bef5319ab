#include "api/client_send.h"

namespace parley::api {

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

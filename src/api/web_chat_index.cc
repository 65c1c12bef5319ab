// The web chat's conversation index and per-tenant bus subscriptions (web_chat.h).
#include <algorithm>

#include "api/web_chat.h"

namespace parley::api {

void WebChat::Index(const ConversationId& conversation, const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  auto& list = by_conversation_[conversation.str()];
  std::erase_if(list, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  list.push_back(session);
}

void WebChat::Unindex(const ConversationId& conversation, const Session* session) {
  std::lock_guard lock(mu_);
  auto it = by_conversation_.find(conversation.str());
  if (it == by_conversation_.end()) return;
  std::erase_if(it->second, [session](const std::weak_ptr<Session>& w) {
    auto s = w.lock();
    return !s || s.get() == session;
  });
  if (it->second.empty()) by_conversation_.erase(it);
}

void WebChat::Attach(const TenantId& tenant) {
  {
    std::lock_guard lock(mu_);
    if (tenants_[tenant.str()].sessions++ > 0) return;
  }
  // Subscribed outside the lock: the bus holds its own lock while it runs OnEvent, which
  // takes ours.
  std::unique_ptr<bus::Subscription> subscription =
      app_.bus->Subscribe(tenant, [this](const bus::BusEvent& e) { OnEvent(e); });
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant.str());
  if (it != tenants_.end() && !it->second.subscription) {
    it->second.subscription = std::move(subscription);
  } else {
    // Every session left meanwhile: unsubscribe once the lock is released (see Detach).
    orphans_.push_back(std::move(subscription));
  }
}

void WebChat::Detach(const TenantId& tenant) {
  // Dropped outside the lock: unsubscribing waits for a callback that may be taking it.
  std::unique_ptr<bus::Subscription> released;
  std::vector<std::unique_ptr<bus::Subscription>> orphans;
  {
    std::lock_guard lock(mu_);
    auto it = tenants_.find(tenant.str());
    if (it == tenants_.end()) return;
    if (--it->second.sessions > 0) return;
    released = std::move(it->second.subscription);
    tenants_.erase(it);
    orphans.swap(orphans_);
  }
}

}  // namespace parley::api

#include "bus/in_process_bus.h"

#include <unordered_map>

namespace parley::bus {

struct InProcessBus::State {
  std::shared_mutex mu;
  uint64_t next_id = 1;
  std::unordered_map<TenantId, std::map<uint64_t, Callback>> subscribers;
};

namespace {
class InProcessSubscription final : public Subscription {
 public:
  InProcessSubscription(std::weak_ptr<InProcessBus::State> state, TenantId tenant, uint64_t id)
      : state_(std::move(state)), tenant_(std::move(tenant)), id_(id) {}
  ~InProcessSubscription() override;

 private:
  std::weak_ptr<InProcessBus::State> state_;
  TenantId tenant_;
  uint64_t id_;
};
}  // namespace

InProcessSubscription::~InProcessSubscription() {
  auto state = state_.lock();
  if (!state) return;
  // Taking the lock exclusively waits for any Publish still running our callback.
  std::unique_lock lock(state->mu);
  auto it = state->subscribers.find(tenant_);
  if (it == state->subscribers.end()) return;
  it->second.erase(id_);
  if (it->second.empty()) state->subscribers.erase(it);
}

InProcessBus::InProcessBus() : state_(std::make_shared<State>()) {}
InProcessBus::~InProcessBus() = default;

void InProcessBus::Publish(const BusEvent& event) {
  std::shared_lock lock(state_->mu);
  auto it = state_->subscribers.find(event.tenant);
  if (it == state_->subscribers.end()) return;
  for (auto& [id, callback] : it->second) callback(event);
}

std::unique_ptr<Subscription> InProcessBus::Subscribe(const TenantId& tenant, Callback callback) {
  std::unique_lock lock(state_->mu);
  uint64_t id = state_->next_id++;
  state_->subscribers[tenant].emplace(id, std::move(callback));
  return std::make_unique<InProcessSubscription>(state_, tenant, id);
}

}  // namespace parley::bus

#include <mutex>

#include "crypto/keys.h"

namespace parley::crypto {

KeyRing::KeyRing(MasterKey master) : master_(std::move(master)) {}

Status KeyRing::Add(std::string_view tenant_id, std::string_view wrapped) {
  // Unwrap outside the lock: it is the slow part, and readers must not wait for it.
  PARLEY_ASSIGN_OR_RETURN(DataKey key, master_.UnwrapDataKey(tenant_id, wrapped));
  auto shared = std::make_shared<const DataKey>(std::move(key));
  std::unique_lock lock(mu_);
  auto it = keys_.find(tenant_id);
  if (it == keys_.end()) {
    keys_.emplace(std::string(tenant_id), std::move(shared));
  } else {
    it->second = std::move(shared);
  }
  return OkStatus();
}

std::shared_ptr<const DataKey> KeyRing::Find(std::string_view tenant_id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(tenant_id);
  return it == keys_.end() ? nullptr : it->second;
}

void KeyRing::Forget(std::string_view tenant_id) {
  std::shared_ptr<const DataKey> dropped;
  {
    std::unique_lock lock(mu_);
    auto it = keys_.find(tenant_id);
    if (it == keys_.end()) return;
    dropped = std::move(it->second);
    keys_.erase(it);
  }
  // `dropped` is released here, outside the lock; the key is wiped once no in-flight
  // operation holds it.
}

size_t KeyRing::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

}  // namespace parley::crypto

#include "store/recent_events.h"

#include <algorithm>

namespace parley::store {

size_t RecentEvents::SizeOf(const EventRecord& r) {
  // The strings' contents and a rough fixed cost for the record and the two map nodes.
  return r.payload_json.size() + r.type.size() + r.id.str().size() + r.tenant.str().size() +
         (r.conversation ? r.conversation->str().size() : 0) + 256;
}

void RecentEvents::Stage(const EventRecord& record, int64_t seq) {
  Staged s;
  s.gap = record.payload_json.empty();
  s.record.seq = seq;
  s.record.id = record.id;
  s.record.tenant = record.tenant;
  s.record.conversation = record.conversation;
  s.record.type = record.type;
  s.record.created_at = FromUnixMillis(ToUnixMillis(record.created_at));  // as stored
  s.record.payload_json = record.payload_json;
  staged_.push_back(std::move(s));
}

void RecentEvents::Unstage(size_t from) {
  if (from < staged_.size()) staged_.resize(from);
}

void RecentEvents::Unsure(size_t from) {
  for (size_t i = from; i < staged_.size(); ++i) staged_[i].gap = true;
}

void RecentEvents::SettleUnknown() {
  if (staged_.empty()) return;
  std::lock_guard lock(mu_);
  for (const Staged& s : staged_) RaiseFloor(s.record.tenant.str(), s.record.seq);
  staged_.clear();
  BoundEntries();
}

void RecentEvents::Removed(int64_t seq) {
  for (Staged& s : staged_) {
    if (s.record.seq == seq) s.gap = true;
  }
  std::lock_guard lock(mu_);
  auto it = order_.find(seq);
  if (it != order_.end()) RaiseFloor(std::string(it->second), seq);
  BoundEntries();
}

RecentEvents::Tenant& RecentEvents::EntryOf(const std::string& tenant) {
  auto [it, made] = tenants_.try_emplace(tenant);
  if (made) it->second.floor = absent_floor_;
  return it->second;
}

void RecentEvents::BoundEntries() {
  if (tenants_.size() <= entry_limit_) return;
  for (auto it = tenants_.begin(); it != tenants_.end();) {
    if (it->second.events.empty()) {
      absent_floor_ = std::max(absent_floor_, it->second.floor);
      it = tenants_.erase(it);
    } else {
      ++it;
    }
  }
  entry_limit_ = std::max(kMinEntryLimit, 2 * tenants_.size());
}

void RecentEvents::RaiseFloor(const std::string& tenant, int64_t seq) {
  Tenant& t = EntryOf(tenant);
  t.floor = std::max(t.floor, seq);
  auto end = t.events.upper_bound(seq);
  for (auto it = t.events.begin(); it != end; ++it) {
    bytes_ -= SizeOf(it->second);
    order_.erase(it->first);
  }
  t.events.erase(t.events.begin(), end);
}

void RecentEvents::Commit() {
  std::lock_guard lock(mu_);
  for (Staged& s : staged_) {
    const std::string& tenant = s.record.tenant.str();
    if (s.gap) {
      RaiseFloor(tenant, s.record.seq);
      continue;
    }
    bytes_ += SizeOf(s.record);
    order_.emplace(s.record.seq, tenant);
    int64_t seq = s.record.seq;
    EntryOf(tenant).events.emplace(seq, std::move(s.record));
  }
  staged_.clear();
  while (bytes_ > max_bytes_ && !order_.empty()) {
    auto oldest = order_.begin();
    RaiseFloor(std::string(oldest->second), oldest->first);
  }
  BoundEntries();
}

std::optional<std::vector<EventRecord>> RecentEvents::After(const TenantId& tenant,
                                                            int64_t after_seq, int limit) const {
  std::vector<EventRecord> out;
  std::lock_guard lock(mu_);
  auto t = tenants_.find(tenant.str());
  if (t == tenants_.end()) {
    // Nothing committed for it above the floor of tenants without an entry.
    if (after_seq < absent_floor_) return std::nullopt;
    return out;
  }
  if (after_seq < t->second.floor) return std::nullopt;
  for (auto it = t->second.events.upper_bound(after_seq);
       it != t->second.events.end() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

size_t RecentEvents::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t RecentEvents::tenant_entries() const {
  std::lock_guard lock(mu_);
  return tenants_.size();
}

}  // namespace parley::store

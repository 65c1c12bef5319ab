#include "store/sqlite/lookup_cache.h"

namespace parley::store::sqlite {

namespace {

constexpr char kSep = '\x1f';  // in no id, channel kind or blind index

std::string Key3(std::string_view a, std::string_view b, std::string_view c) {
  std::string key;
  key.reserve(a.size() + b.size() + c.size() + 2);
  key.append(a).push_back(kSep);
  key.append(b).push_back(kSep);
  key.append(c);
  return key;
}

std::string ConnectionKey(const TenantId& tenant, const ConnectionId& id) {
  std::string key;
  key.reserve(tenant.str().size() + id.str().size() + 1);
  key.append(tenant.str()).push_back(kSep);
  key.append(id.str());
  return key;
}

}  // namespace

std::string LookupCache::CustomerKey(const TenantId& tenant, std::string_view channel_kind,
                                     std::string_view contact_index) {
  return Key3(tenant.str(), channel_kind, contact_index);
}

std::string LookupCache::ConversationKey(const TenantId& tenant, const ConnectionId& connection,
                                         const CustomerId& customer) {
  return Key3(tenant.str(), connection.str(), customer.str());
}

const CustomerRecord* LookupCache::FindCustomer(const std::string& key) const {
  return customers_.Find(key);
}

const ConversationRecord* LookupCache::FindConversation(const std::string& key) const {
  return conversations_.Find(key);
}

void LookupCache::PutCustomer(std::string key, int64_t rowid, CustomerRecord record) {
  customers_.Put(std::move(key), rowid, std::move(record));
}

const ConversationRecord* LookupCache::FindConversationById(const TenantId& tenant,
                                                            const ConversationId& id) const {
  const ConversationRecord* r = conversations_.FindById(id.str());
  return r != nullptr && r->tenant == tenant ? r : nullptr;  // another tenant's id: a miss
}

void LookupCache::PutConversation(std::string key, int64_t rowid, ConversationRecord record) {
  conversations_.Put(std::move(key), rowid, std::move(record));
}

const ConnectionRecord* LookupCache::FindConnection(const TenantId& tenant,
                                                    const ConnectionId& id) const {
  return connections_.Find(ConnectionKey(tenant, id));
}

void LookupCache::PutConnection(int64_t rowid, ConnectionRecord record) {
  std::string key = ConnectionKey(record.tenant, record.id);
  connections_.Put(std::move(key), rowid, std::move(record));
}

void LookupCache::ExpectConversationInsert(const std::string& key) {
  conversations_.EraseKey(key);
  expected_ = Expected::kConversationInsert;
}

// The database keeps times in milliseconds (Query::Time); so must the cached rows.
void LookupCache::ExpectCustomerTouch(TimePoint at) {
  expected_ = Expected::kCustomerTouch;
  touch_at_ = FromUnixMillis(ToUnixMillis(at));
}

void LookupCache::ExpectConversationTouch(TimePoint at) {
  expected_ = Expected::kConversationTouch;
  touch_at_ = FromUnixMillis(ToUnixMillis(at));
}

void LookupCache::EndExpected() { expected_ = Expected::kNothing; }

void LookupCache::Clear() {
  customers_.Clear();
  conversations_.Clear();
  connections_.Clear();
}

void LookupCache::Changed(int op, std::string_view table, int64_t rowid) {
  if (table == "customers") {
    // An insert cannot change a cached answer: contacts are unique per tenant and kind.
    if (op == SQLITE_INSERT) return;
    if (op == SQLITE_UPDATE && expected_ == Expected::kCustomerTouch) {
      if (CustomerRecord* r = customers_.ByRow(rowid)) r->last_seen = touch_at_;
      return;
    }
    customers_.EraseRow(rowid);
  } else if (table == "conversations") {
    if (op == SQLITE_INSERT) {
      // A conversation inserted by anything but InsertConversation may be some key's newer
      // open conversation, and the hook does not say whose.
      if (expected_ != Expected::kConversationInsert) conversations_.Clear();
      return;
    }
    if (op == SQLITE_UPDATE && expected_ == Expected::kConversationTouch) {
      if (ConversationRecord* r = conversations_.ByRow(rowid)) r->last_activity_at = touch_at_;
      return;
    }
    conversations_.EraseRow(rowid);
  } else if (table == "connections") {
    // An insert cannot change a cached answer: ids are unique.
    if (op != SQLITE_INSERT) connections_.EraseRow(rowid);
  }
}

}  // namespace parley::store::sqlite

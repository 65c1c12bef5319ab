// src/store/sqlite/lookup_cache.h
//
// The writer's memory of the two lookups every inbound message makes before it is stored:
// the customer of a contact (FindCustomerByContact) and that customer's open conversation on
// the connection (FindOpenConversation). Each costs the writer an index search and a row
// read per message; a busy conversation asks the same two questions again and again. The
// open conversations it holds also answer GetConversation by id, and it keeps the
// connections read by id (GetConnection): an agent's reply reads both.
//
// The cache cannot go stale, because SQLite tells it about every change: the store passes
// it each row the writer connection inserts, updates or deletes in `customers`,
// `conversations` and `connections` (Changed, from SQLite's update hook), and any change to a
// cached row drops it (a touch, announced with ExpectCustomerTouch or ExpectConversationTouch,
// moves its time instead). A rollback, of the transaction or of a savepoint, empties the cache
// (Clear), since the hook does not report what a rollback undoes. So a hit answers what the SQL
// would answer, inside or outside the batch's transaction. Writes from other connections are not
// seen: only the writer writes. The hook sees every change only as long as the tables keep
// their rowids (no WITHOUT ROWID, no VACUUM while open: lookup_cache_test.cc checks the
// schema) and no statement deletes rows unseen (INSERT OR REPLACE, a DELETE without WHERE:
// the store has none).
//
//   LookupCache cache(hit_counter);
//   sqlite3_update_hook(db, …);              // calls cache.Changed(op, table, rowid)
//   SqliteAccess access(writer_db, &cache);  // its Find* consult the cache
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/store.h"

namespace parley::store::sqlite {

// Thread safety: none; used only by the writer thread (the hooks run on it too).
class LookupCache {
 public:
  // Entries per table (each also found by its record's id); a full table starts over empty.
  static constexpr size_t kMaxEntries = 8192;

  // Counts its hits in `hits`, which may be read from any thread and must outlive it.
  explicit LookupCache(std::atomic<uint64_t>& hits) : hits_(hits) {}
  LookupCache(const LookupCache&) = delete;
  LookupCache& operator=(const LookupCache&) = delete;

  static std::string CustomerKey(const TenantId& tenant, std::string_view channel_kind,
                                 std::string_view contact_index);
  static std::string ConversationKey(const TenantId& tenant, const ConnectionId& connection,
                                     const CustomerId& customer);

  // nullptr when not cached.
  const CustomerRecord* FindCustomer(const std::string& key) const;
  const ConversationRecord* FindConversation(const std::string& key) const;
  // A cached open conversation by its id (GetConversation: an agent's reply reads the
  // conversation the customer's message just found).
  const ConversationRecord* FindConversationById(const TenantId& tenant,
                                                 const ConversationId& id) const;
  void PutCustomer(std::string key, int64_t rowid, CustomerRecord record);
  void PutConversation(std::string key, int64_t rowid, ConversationRecord record);
  // A connection by its tenant and id (nullptr when not cached), and one just read.
  const ConnectionRecord* FindConnection(const TenantId& tenant, const ConnectionId& id) const;
  void PutConnection(int64_t rowid, ConnectionRecord record);

  // A new conversation of (tenant, connection, customer) is about to be inserted; the cached
  // open conversation of that key, if any, is no longer the newest.
  void ExpectConversationInsert(const std::string& key);
  // The next update of one row of `customers` (or `conversations`) is a touch to `at`: the
  // cached row, if any, takes the time instead of being dropped. EndExpected after the statement.
  void ExpectCustomerTouch(TimePoint at);
  void ExpectConversationTouch(TimePoint at);
  void EndExpected();

  // A row of `table` changed (SQLite's update hook: op is SQLITE_INSERT, _UPDATE or _DELETE).
  void Changed(int op, std::string_view table, int64_t rowid);
  void Clear();
  void CountHit() { hits_.fetch_add(1, std::memory_order_relaxed); }

 private:
  template <class Record>
  struct Table {
    std::unordered_map<std::string, std::pair<int64_t, Record>> by_key;
    std::unordered_map<int64_t, std::string> key_of_row;
    std::unordered_map<std::string, std::string> key_of_id;  // record id -> key

    const Record* Find(const std::string& key) const {
      auto it = by_key.find(key);
      return it == by_key.end() ? nullptr : &it->second.second;
    }
    const Record* FindById(const std::string& id) const {
      auto it = key_of_id.find(id);
      return it == key_of_id.end() ? nullptr : Find(it->second);
    }
    void Put(std::string key, int64_t rowid, Record record) {
      EraseKey(key);
      EraseRow(rowid);
      if (by_key.size() >= kMaxEntries) Clear();
      key_of_row.emplace(rowid, key);
      key_of_id.insert_or_assign(record.id.str(), key);
      by_key.emplace(std::move(key), std::pair<int64_t, Record>(rowid, std::move(record)));
    }
    Record* ByRow(int64_t rowid) {
      auto it = key_of_row.find(rowid);
      return it == key_of_row.end() ? nullptr : &by_key.at(it->second).second;
    }
    void EraseRow(int64_t rowid) {
      auto it = key_of_row.find(rowid);
      if (it == key_of_row.end()) return;
      std::string key = std::move(it->second);
      key_of_row.erase(it);
      EraseKey(key);
    }
    void EraseKey(const std::string& key) {
      auto it = by_key.find(key);
      if (it == by_key.end()) return;
      key_of_row.erase(it->second.first);
      key_of_id.erase(it->second.second.id.str());
      by_key.erase(it);
    }
    void Clear() {
      by_key.clear();
      key_of_row.clear();
      key_of_id.clear();
    }
  };

  enum class Expected { kNothing, kCustomerTouch, kConversationTouch, kConversationInsert };

  Table<CustomerRecord> customers_;
  Table<ConversationRecord> conversations_;
  Table<ConnectionRecord> connections_;  // keyed by ConnectionKey
  Expected expected_ = Expected::kNothing;
  TimePoint touch_at_{};
  std::atomic<uint64_t>& hits_;
};

}  // namespace parley::store::sqlite

// src/store/recent_events.h
//
// The events a store committed since it opened, in the clear and in memory, so that the
// dispatcher can deliver a webhook cursor's next batch without reading the event rows back
// and opening their sealed payloads (Store::RecentEventsAfter). Bounded by bytes: the oldest
// go first.
//
// It answers only what it knows completely. For each tenant it keeps a floor: every event
// of the tenant with a seq above the floor that is committed is held here. The floor starts
// at the store's last seq when it opened, and rises past any event that leaves early: one
// evicted for room, one deleted or changed (the sweeper, an erasure, a tenant's deletion),
// one recorded without its clear payload. A question about events at or below the floor is
// not answered (std::nullopt): the caller reads the store. Tenants left with no events here
// (deleted, or quiet while others filled the memory) keep their entries until there are
// more than kMinEntryLimit entries; then those without events are let go, and the floor of
// tenants without an entry rises to the highest floor let go (a tenant let go pays one read
// of the store when its events come back). So memory stays bounded whatever the number of
// tenants that came and went.
//
// The writer stages each event it inserts, and commits or discards the staged ones with its
// transaction:
//
//   recent.Stage(record, seq);       // after the INSERT, with record.payload_json
//   size_t mark = recent.staged();   // before a savepoint
//   recent.Unstage(mark);            // after ROLLBACK TO it
//   recent.Commit();                 // after COMMIT (or DropStaged() after a ROLLBACK)
//
//   auto events = recent.After(tenant, cursor.after_seq, 50);  // any thread
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace parley::store {

// Thread safety: Stage, staged, Unstage, Unsure, SettleUnknown, DropStaged, Commit and
// Removed on one thread (the store's writer); After from any thread.
class RecentEvents {
 public:
  // `floor`: the highest seq committed before this object existed.
  RecentEvents(size_t max_bytes, int64_t floor) : max_bytes_(max_bytes), absent_floor_(floor) {}
  RecentEvents(const RecentEvents&) = delete;
  RecentEvents& operator=(const RecentEvents&) = delete;

  // Writer side, inside a transaction: `record` was inserted as `seq`. An event without
  // payload_json is staged as a gap.
  void Stage(const EventRecord& record, int64_t seq);
  size_t staged() const { return staged_.size(); }
  void Unstage(size_t from);
  // The staged events from index `from` on may or may not be committed with the
  // transaction (a ROLLBACK TO that failed): committing them raises floors past them.
  void Unsure(size_t from);
  // The staged events were settled by no COMMIT or rollback seen here, so they may be in the
  // database or not: raises floors past them now, and unstages them.
  void SettleUnknown();
  void DropStaged() { staged_.clear(); }
  void Commit();
  // The event row `seq` was deleted or changed (committed or not).
  void Removed(int64_t seq);

  // The tenant's committed events with seq > after_seq, oldest first, at most `limit`, with
  // payload_json set and payload_sealed empty; std::nullopt when some may be missing. Right
  // after a COMMIT, until the writer calls Commit(), the answer lacks that commit's events:
  // it is a prefix of what the database holds, never a different sequence.
  std::optional<std::vector<EventRecord>> After(const TenantId& tenant, int64_t after_seq,
                                                int limit) const;

  size_t bytes() const;
  size_t tenant_entries() const;  // tenants with an entry (a floor, and maybe events)

 private:
  struct Staged {
    EventRecord record;
    bool gap = false;  // not to be served: its clear payload is unknown, or it was removed
  };
  struct Tenant {
    int64_t floor = 0;
    std::map<int64_t, EventRecord> events;
  };

  static size_t SizeOf(const EventRecord& r);
  // The tenant's entry, made with the floor of tenants without one. Caller holds mu_.
  Tenant& EntryOf(const std::string& tenant);
  // Raises the tenant's floor to `seq`, dropping what it holds up to there. Caller holds mu_.
  void RaiseFloor(const std::string& tenant, int64_t seq);
  // Past the limit, lets go of the entries that hold no events. Caller holds mu_.
  void BoundEntries();

  // Entries are swept when there are more than this (and more than twice the number left
  // after the last sweep, so a sweep's cost is spread over the entries made since). An
  // entry without events takes about 150 bytes.
  static constexpr size_t kMinEntryLimit = 16384;

  const size_t max_bytes_;
  std::vector<Staged> staged_;  // writer thread only

  mutable std::mutex mu_;
  // No tenant without an entry has a committed event above this seq.
  int64_t absent_floor_;                             // guarded by mu_
  std::unordered_map<std::string, Tenant> tenants_;  // guarded by mu_
  size_t entry_limit_ = kMinEntryLimit;              // guarded by mu_
  std::map<int64_t, std::string> order_;             // seq -> tenant, guarded by mu_
  size_t bytes_ = 0;                                 // guarded by mu_
};

}  // namespace parley::store

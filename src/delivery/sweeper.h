// src/delivery/sweeper.h
//
// The retention sweeper keeps DESIGN.md §6's promise that data is gone when it is no longer
// needed (docs/data-lifecycle.md has the rules). Every `interval` it:
//   1. ends open conversations idle for longer than their tenant's inactivity timeout, and
//      sends conversation.ended (reason "inactivity") to the client application;
//   2. deletes, oldest first and in bounded writes: delivered messages and events past the
//      delivered grace, dead letters past their TTL, inbound dedupe records and idempotency
//      keys past their windows, and ended conversations past their TTL.
// Rows are deleted from the database, not hidden; SQLite reuses their pages.
//
//   Sweeper sweeper(deps, options);
//   sweeper.Start();              // its own thread, "retention"
//   auto report = sweeper.RunOnce();  // or one sweep now (tests, `parley sweep`)
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "core/clock.h"
#include "core/result.h"
#include "delivery/tenant_keys.h"
#include "store/store.h"

namespace parley::delivery {

struct SweeperOptions {
  std::chrono::seconds interval{60};
  std::chrono::seconds delivered_grace{3600};
  std::chrono::seconds inactivity_timeout{86400};  // tenants without their own setting
  std::chrono::seconds dedupe_window{604800};
  std::chrono::seconds idempotency_window{86400};
  std::chrono::seconds dead_letter_ttl{259200};
  std::chrono::seconds ended_conversation_ttl{2592000};
  std::chrono::seconds attachment_ttl{86400};  // AttachmentOptions::ttl, for the data map
  int batch = 500;                             // rows per write, so ingest waits at most one batch
  int max_batches = 40;  // writes per record type per sweep; the next sweep goes on
};

// Rows each rule removed in one sweep.
struct SweepReport {
  int conversations_ended = 0;
  int conversations_deleted = 0;
  int messages = 0;
  int events = 0;
  int dead_letters = 0;
  int inbound_dedupe = 0;
  int pending_statuses = 0;
  int idempotency_keys = 0;
  int attachments = 0;
};

// One line of the data map (`parley data-map`, GET /v1/admin/data-map): what Parley holds of
// one record type, and the rule that deletes it.
struct DataMapEntry {
  std::string record;  // "customer messages", "webhook dedupe records", …
  std::string table;
  int64_t rows = 0;
  std::optional<std::chrono::seconds> oldest_age;  // none when the table is empty
  std::string sealed;  // which columns are sealed with the tenant's key, or "no"
  std::string rule;    // when rows are deleted, with the configured durations
};

// The data map for `tables` (Reader::DataMap) under `options`, ages measured at `now`.
std::vector<DataMapEntry> DescribeDataMap(const std::vector<store::TableStats>& tables,
                                          const SweeperOptions& options, TimePoint now);

// The tenant setting that overrides SweeperOptions::inactivity_timeout.
inline constexpr std::string_view kInactivitySetting = "inactivity_timeout_s";

// Thread safety: RunOnce may be called from any thread that may block (never an I/O
// thread); Start/Stop from one thread.
class Sweeper {
 public:
  // All references outlive the sweeper.
  Sweeper(store::Store& store, TenantKeys& keys, bus::EventBus& bus, const Clock& clock,
          SweeperOptions options);
  ~Sweeper();
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  // Deletes up to `limit` expired attachments (rows and blobs) and returns how many; runs
  // on the sweeper's thread, which may block. Set before Start.
  using AttachmentSweep = std::function<Result<int>(int limit)>;
  void SetAttachmentSweep(AttachmentSweep sweep) { attachment_sweep_ = std::move(sweep); }

  void Start();
  void Stop();

  // One sweep with the clock's current time. Errors: the first store error (the rules
  // before it have run).
  Result<SweepReport> RunOnce();

 private:
  Result<int> EndIdleConversations(TimePoint now);
  Result<int> EndIdleConversationsOf(const store::TenantRecord& tenant, TimePoint now);
  // Repeats `sweep` (one bounded write) until it deletes less than a batch.
  Result<int> Repeat(const std::function<Result<int>(store::Writer&)>& sweep);
  void Loop();

  store::Store& store_;
  TenantKeys& keys_;
  bus::EventBus& bus_;
  const Clock& clock_;
  const SweeperOptions options_;
  AttachmentSweep attachment_sweep_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace parley::delivery

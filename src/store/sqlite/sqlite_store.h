// src/store/sqlite/sqlite_store.h
//
// SqliteStore is the embedded default Store: one SQLite database file in WAL mode, a single
// writer thread that commits queued writes in batches (group commit, each write under its own
// savepoint), reader threads with their own read-only connections, and a checkpoint thread
// that keeps WAL checkpoints out of the writer's commits.
//
//   PARLEY_ASSIGN_OR_RETURN(auto store, sqlite::SqliteStore::Open({.path = dir + "/parley.db"}));
//   PARLEY_RETURN_IF_ERROR(store->WriteSync([&](store::Writer& w) { return w.InsertTenant(t); }));
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/recent_events.h"
#include "store/store.h"

struct sqlite3;

namespace parley::store::sqlite {

class Db;
class SqliteAccess;

// Where one committed transaction's time went; SqliteOptions::on_commit hears it.
struct CommitTimes {
  // From the submission of the transaction's oldest write to its first BEGIN: the wait for
  // the writer (the batches before it, their syncs included).
  std::chrono::nanoseconds queued{0};
  // From the first BEGIN to the COMMIT: the writes' statements, with the runs rolled back
  // and run again when a write failed (SqliteStats::batches_run_again).
  std::chrono::nanoseconds statements{0};
  // The COMMIT: the WAL frames written and synced.
  std::chrono::nanoseconds commit{0};
  // False when the transaction changed no page: SQLite then writes and syncs nothing.
  bool wrote_wal = false;
  // The part of `commit` spent in the WAL file's sync (fdatasync); 0 without `wrote_wal`. It
  // grows with the frames the commit wrote, so compare it per write before blaming the disk.
  std::chrono::nanoseconds wal_sync{0};
};

struct SqliteOptions {
  std::string path;     // the database file; created with mode 0600 if missing
  int readers = 2;      // reader threads/connections, 1..64
  int max_batch = 256;  // most writes per transaction, 1..100000
  const Clock* clock = &SystemClock::Instance();  // for schema_migrations.applied_at
  Millis checkpoint_interval{200};  // how often the checkpoint thread looks at the WAL, > 0
  // Past this many WAL frames (a page and a 24-byte header each) the writer restarts the WAL
  // from its start, so a store under constant load reuses the WAL's blocks instead of
  // growing it (64..1000000).
  int wal_restart_frames = 4096;
  // When no batch committed since its last look, the checkpoint thread truncates the WAL
  // file if more than this many frames were written since the WAL last started over (~64
  // MiB at 4 KiB pages): a burst the writer's restarts did not keep short leaves no large
  // file behind (64..1000000).
  int wal_truncate_frames = 16384;
  // A testing aid: every batch that begins with rerunnable writes runs them twice, the first
  // run rolled back as if a later write had failed (Store::SubmitRerunnableWrite). A write
  // submitted as rerunnable that is not safe to run again then misbehaves in every test, not
  // only when a batch fails. Doubles the writer's work: never for production.
  bool rerun_writes = false;
  // Memory for the events committed since Open, in the clear, for RecentEventsAfter
  // (store/recent_events.h); 0 keeps none.
  size_t recent_event_bytes = 16u << 20;
  // Called on the writer thread after each committed transaction, after the writes' `done`
  // callbacks (metrics). It must be cheap, must not throw and must not call into the store.
  std::function<void(const CommitTimes&)> on_commit = nullptr;
};

// Counters since Open, for tests and metrics.
struct SqliteStats {
  uint64_t batches = 0;         // transactions the writer ran (committed or not)
  uint64_t writes = 0;          // WriteFns run
  uint64_t failed_writes = 0;   // WriteFns that ended in an error (their own or the commit's)
  uint64_t failed_commits = 0;  // batches whose BEGIN or COMMIT failed
  uint64_t checkpoints = 0;     // successful WAL checkpoints by the checkpoint thread
  // The sum of the frames those checkpoints reported as in the database. SQLite reports the
  // WAL's total, so a frame counts again in every pass until the WAL restarts: > 0 means
  // checkpoints reach the database, not how much they copied.
  uint64_t checkpointed_frames = 0;
  // Checkpoint thread passes that found the WAL in use (SQLITE_BUSY: a reader on its frames,
  // or the writer) and were left for the next tick.
  uint64_t busy_checkpoints = 0;
  // Restarts of the WAL, seen as its frame count falling after a commit. A restart whose
  // first commit is as large as the WAL was (possible only with a WAL of a few frames) is
  // not seen.
  uint64_t wal_restarts = 0;
  // Batches rolled back and run again with a savepoint per write, because a rerunnable write
  // that ran without one failed (Store::SubmitRerunnableWrite), or SqliteOptions::rerun_writes.
  uint64_t batches_run_again = 0;
  // FindCustomerByContact, FindOpenConversation and GetConversation calls of writes that
  // the writer's LookupCache answered without a query.
  uint64_t lookup_cache_hits = 0;
};

// Thread safety: every public method may be called from any thread. WriteSync must not be
// called from inside a WriteFn or a `done` (the writer would wait for itself), nor ReadSync
// from inside a ReadFn (all readers may be busy waiting); ReadSync from a `done` is fine. A ReadFn
// must not throw (ReadSync would wait forever); a WriteFn that throws is treated as returning
// kInternal.
class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database, applies pragmas (WAL, synchronous=FULL, no
  // automatic checkpoints on the writer) and schema migrations, and starts the threads.
  // Errors: kInvalidArgument (bad options), kFailedPrecondition (database newer than this
  // binary, or WAL unavailable), kUnavailable/kInternal (file or SQLite errors).
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteOptions options);

  // Runs every queued write and read, then joins the threads and closes the connections.
  // Writes submitted after destruction began get kUnavailable.
  ~SqliteStore() override;

  void SubmitWrite(WriteFn fn, Done done) override;
  void SubmitRerunnableWrite(WriteFn fn, Done done) override;
  void SubmitRead(ReadFn fn) override;
  void SetCommitListener(std::function<void()> listener) override;
  std::optional<uint64_t> OutboxVersion() const override {
    return outbox_version_.load(std::memory_order_acquire);
  }
  std::optional<std::vector<EventRecord>> RecentEventsAfter(const TenantId& tenant,
                                                            int64_t after_seq, int limit) override;

  SqliteStats Stats() const;

 private:
  struct PendingWrite {
    WriteFn fn;
    Done done;
    bool rerunnable = false;
    std::chrono::steady_clock::time_point submitted;  // for CommitTimes::queued
  };
  enum class TransactionOutcome { kCommitted, kFailed, kRunAgainWithSavepoints };

  SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer_db,
              std::vector<std::unique_ptr<Db>> reader_dbs, std::unique_ptr<Db> checkpoint_db,
              int64_t last_event_seq);

  void WriterLoop();
  void Submit(PendingWrite write);
  void RunBatch(SqliteAccess& access, std::vector<PendingWrite>& batch,
                std::vector<Status>& results);
  // One transaction over `batch`. The leading rerunnable writes before index `bare_before`
  // run without savepoints; when one of them fails, the transaction is rolled back, its index
  // goes to *failed_at and the result is kRunAgainWithSavepoints. With `rehearse`, the same
  // happens after the last of them succeeded (SqliteOptions::rerun_writes).
  TransactionOutcome RunTransaction(SqliteAccess& access, std::vector<PendingWrite>& batch,
                                    std::vector<Status>& results, size_t bare_before,
                                    size_t* failed_at, bool rehearse);
  Status RunOne(SqliteAccess& access, const WriteFn& fn);
  void ReaderLoop(Db& db);
  void CheckpointLoop();
  void RestartWalIfLong();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

  const SqliteOptions options_;
  // Declared first so it is closed last: the last connection to close checkpoints the WAL.
  const std::unique_ptr<Db> writer_db_;
  const std::vector<std::unique_ptr<Db>> reader_dbs_;
  const std::unique_ptr<Db> checkpoint_db_;

  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<PendingWrite> writes_;  // guarded by write_mu_
  bool write_stopping_ = false;      // guarded by write_mu_

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::deque<ReadFn> reads_;    // guarded by read_mu_
  bool read_stopping_ = false;  // guarded by read_mu_

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mu_
  bool checkpoint_now_ = false;       // guarded by checkpoint_mu_: the writer asks for a pass

  // Incremented after each commit of a batch that touched the outbox (`outbox_touched_`,
  // writer thread only, set by the update hook).
  std::atomic<uint64_t> outbox_version_{0};
  bool outbox_touched_ = false;
  std::mutex listener_mu_;
  std::shared_ptr<const std::function<void()>> listener_;  // guarded by listener_mu_

  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> committed_batches_{0};
  std::atomic<uint64_t> writes_run_{0};
  std::atomic<uint64_t> failed_writes_{0};
  std::atomic<uint64_t> failed_commits_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> checkpointed_frames_{0};
  std::atomic<uint64_t> busy_checkpoints_{0};
  std::atomic<uint64_t> wal_restarts_{0};
  std::atomic<uint64_t> batches_run_again_{0};
  std::atomic<uint64_t> lookup_cache_hits_{0};
  // The highest event seq handed out when the store opened; the writer continues from it.
  const int64_t last_event_seq_;
  RecentEvents recent_events_;
  // Writer thread only (OnWalCommit, RestartWalIfLong): the WAL's frames after the last
  // commit, and the size at which to try a restart next.
  int wal_frames_ = 0;
  int next_restart_try_ = 0;
  // Writer thread only (RestartWalIfLong): the checkpoint thread's progress when the writer
  // last woke it, the batches since then, and how many to wait while it makes none.
  int backfilled_at_wake_ = -1;
  int batches_since_wake_ = 0;
  int stalled_wait_ = 1;
  // Writer thread only: the times of the last transaction RunTransaction committed, when
  // RunBatch began it, and the commits that wrote WAL frames (OnWalCommit).
  CommitTimes commit_times_;
  std::chrono::steady_clock::time_point batch_began_;
  uint64_t wal_commits_ = 0;
  // Frames in the database after the checkpoint thread's last pass (SQLite's count).
  std::atomic<int> backfilled_frames_{0};

  std::thread writer_;
  std::vector<std::thread> readers_;
  std::thread checkpointer_;
};

}  // namespace parley::store::sqlite

#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <utility>

#include "core/thread_name.h"
#include "store/callback_scope.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_access.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/wal_gather_vfs.h"

namespace parley::store::sqlite {

namespace {

Status RunSql(Db& db, const char* sql) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db.Prepare(sql));
  return q.Run();
}

// SQLite creates files with 0644 (minus umask); the database holds tenant data, so create it
// 0600 ourselves first. SQLite gives -wal/-shm the main file's mode; tighten leftovers too.
Status CreatePrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Unavailable(std::string("cannot open database file: ") + std::strerror(errno));
  }
  int rc = ::fchmod(fd, 0600);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Internal(std::string("cannot chmod database file: ") + std::strerror(err));
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    if (::chmod(side.c_str(), 0600) != 0 && errno != ENOENT) {
      return Internal(std::string("cannot chmod database side file: ") + std::strerror(errno));
    }
  }
  return OkStatus();
}

Status ValidateOptions(const SqliteOptions& o) {
  if (o.path.empty() || o.path == ":memory:" || o.path.starts_with("file:")) {
    return InvalidArgument("sqlite path must name a database file");
  }
  if (o.readers < 1 || o.readers > 64) return InvalidArgument("sqlite readers must be 1..64");
  if (o.max_batch < 1 || o.max_batch > 100000) {
    return InvalidArgument("sqlite max_batch must be 1..100000");
  }
  if (o.clock == nullptr) return InvalidArgument("sqlite clock is required");
  if (o.checkpoint_interval <= Millis(0)) {
    return InvalidArgument("sqlite checkpoint_interval must be positive");
  }
  if (o.wal_restart_frames < 64 || o.wal_restart_frames > 1000000) {
    return InvalidArgument("sqlite wal_restart_frames must be 64..1000000");
  }
  if (o.wal_truncate_frames < 64 || o.wal_truncate_frames > 1000000) {
    return InvalidArgument("sqlite wal_truncate_frames must be 64..1000000");
  }
  return OkStatus();
}

Result<std::unique_ptr<Db>> OpenWriter(const SqliteOptions& o) {
  // The writer gathers each commit's WAL frames into one write (wal_gather_vfs.h); that VFS
  // needs the sync of synchronous=FULL, set below.
  PARLEY_ASSIGN_OR_RETURN(
      auto db, Db::Open(o.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kWalGatherVfs));
  {
    PARLEY_ASSIGN_OR_RETURN(Query q, db->Prepare("PRAGMA journal_mode=WAL"));
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.ColText() != "wal") {
      return FailedPrecondition("sqlite: the database cannot use WAL mode");
    }
  }
  // synchronous=FULL: a write's `done(Ok)` promises durability (DESIGN §5: webhooks are
  // answered only after commit). Automatic checkpoints would run inside our commits and make
  // the p99 (ENGINEERING-NOTES), so the checkpoint thread does them. journal_size_limit caps
  // the WAL file that remains after a checkpoint resets it.
  PARLEY_RETURN_IF_ERROR(
      db->Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA busy_timeout=5000;"
               "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
               "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;"));
  PARLEY_RETURN_IF_ERROR(Migrate(*db, *o.clock));
  return db;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteOptions options) {
  PARLEY_RETURN_IF_ERROR(ValidateOptions(options));
  PARLEY_RETURN_IF_ERROR(CreatePrivateFile(options.path));
  PARLEY_ASSIGN_OR_RETURN(auto writer_db, OpenWriter(options));
  int64_t last_event_seq = 0;
  {
    // The highest seq handed out: the table's, or the floor a deleted newest event left.
    // Without the floor's row (which the schema creates) a seq could be handed out again.
    PARLEY_ASSIGN_OR_RETURN(
        Query q, writer_db->Prepare("SELECT max(coalesce((SELECT max(seq) FROM events), 0), value)"
                                    " FROM store_counters WHERE name = 'events_seq_floor'"));
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return FailedPrecondition("sqlite: store_counters has no events_seq_floor row");
    last_event_seq = q.ColInt();
  }

  std::vector<std::unique_ptr<Db>> reader_dbs;
  for (int i = 0; i < options.readers; ++i) {
    PARLEY_ASSIGN_OR_RETURN(auto db, Db::Open(options.path, SQLITE_OPEN_READONLY));
    PARLEY_RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384;"));
    reader_dbs.push_back(std::move(db));
  }

  PARLEY_ASSIGN_OR_RETURN(auto checkpoint_db, Db::Open(options.path, SQLITE_OPEN_READWRITE));
  // A short busy timeout: TRUNCATE waits for readers while holding the write lock, and the
  // writer must not stall behind it for long.
  PARLEY_RETURN_IF_ERROR(
      checkpoint_db->Exec("PRAGMA busy_timeout=50; PRAGMA wal_autocheckpoint=0;"));
  // A connection learns that the database is in WAL mode only when it first reads it; until
  // then sqlite3_wal_checkpoint_v2 does nothing and still answers SQLITE_OK.
  PARLEY_RETURN_IF_ERROR(checkpoint_db->Exec("SELECT count(*) FROM sqlite_schema"));

  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(options), std::move(writer_db),
                                                      std::move(reader_dbs),
                                                      std::move(checkpoint_db), last_event_seq));
}

SqliteStore::SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer_db,
                         std::vector<std::unique_ptr<Db>> reader_dbs,
                         std::unique_ptr<Db> checkpoint_db, int64_t last_event_seq)
    : options_(std::move(options)),
      writer_db_(std::move(writer_db)),
      reader_dbs_(std::move(reader_dbs)),
      checkpoint_db_(std::move(checkpoint_db)),
      last_event_seq_(last_event_seq),
      recent_events_(options_.recent_event_bytes, last_event_seq) {
  next_restart_try_ = options_.wal_restart_frames;
  // Replaces SQLite's own autocheckpoint hook (off here: wal_autocheckpoint=0). Setting
  // PRAGMA wal_autocheckpoint on the writer later would remove this hook.
  sqlite3_wal_hook(writer_db_->raw(), &SqliteStore::OnWalCommit, this);
  writer_ = std::thread([this] {
    core::NameThisThread("store-writer");
    WriterLoop();
  });
  for (const auto& db : reader_dbs_) {
    readers_.emplace_back([this, raw = db.get()] {
      core::NameThisThread("store-reader");
      ReaderLoop(*raw);
    });
  }
  checkpointer_ = std::thread([this] {
    core::NameThisThread("store-checkpoint");
    CheckpointLoop();
  });
}

SqliteStore::~SqliteStore() {
  // Writes first: their `done` callbacks may still submit reads.
  {
    std::lock_guard lock(write_mu_);
    write_stopping_ = true;
  }
  write_cv_.notify_all();
  writer_.join();
  {
    std::lock_guard lock(read_mu_);
    read_stopping_ = true;
  }
  read_cv_.notify_all();
  for (std::thread& t : readers_) t.join();
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  checkpointer_.join();
}

std::optional<std::vector<EventRecord>> SqliteStore::RecentEventsAfter(const TenantId& tenant,
                                                                       int64_t after_seq,
                                                                       int limit) {
  if (options_.recent_event_bytes == 0 || limit <= 0) return std::nullopt;
  return recent_events_.After(tenant, after_seq, limit);
}

void SqliteStore::SubmitWrite(WriteFn fn, Done done) {
  Submit(PendingWrite{std::move(fn), std::move(done), false, {}});
}

void SqliteStore::SubmitRerunnableWrite(WriteFn fn, Done done) {
  Submit(PendingWrite{std::move(fn), std::move(done), true, {}});
}

void SqliteStore::Submit(PendingWrite write) {
  {
    std::lock_guard lock(write_mu_);
    if (!write_stopping_) {
      write.submitted = std::chrono::steady_clock::now();
      writes_.push_back(std::move(write));
      write_cv_.notify_one();
      return;
    }
  }
  if (write.done) write.done(Unavailable("store is shutting down"));
}

void SqliteStore::SubmitRead(ReadFn fn) {
  {
    std::lock_guard lock(read_mu_);
    reads_.push_back(std::move(fn));
  }
  read_cv_.notify_one();
}

void SqliteStore::SetCommitListener(std::function<void()> listener) {
  auto shared =
      listener ? std::make_shared<const std::function<void()>>(std::move(listener)) : nullptr;
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(shared);
}

SqliteStats SqliteStore::Stats() const {
  SqliteStats s;
  s.batches = batches_.load();
  s.writes = writes_run_.load();
  s.failed_writes = failed_writes_.load();
  s.failed_commits = failed_commits_.load();
  s.checkpoints = checkpoints_.load();
  s.checkpointed_frames = checkpointed_frames_.load();
  s.busy_checkpoints = busy_checkpoints_.load();
  s.wal_restarts = wal_restarts_.load();
  s.batches_run_again = batches_run_again_.load();
  s.lookup_cache_hits = lookup_cache_hits_.load();
  return s;
}

namespace {

// What the writer connection's update and rollback hooks tell: the rows it changes, and
// that a transaction was rolled back (ROLLBACK TO a savepoint is not reported: the store
// calls SqliteAccess::RolledBackTo after it). Registered for the writer thread's lifetime.
class WriterHooks {
 public:
  WriterHooks(sqlite3* db, LookupCache& cache, RecentEvents& recent, bool& outbox_touched)
      : db_(db), cache_(cache), recent_(recent), outbox_touched_(outbox_touched) {
    sqlite3_update_hook(db_, &WriterHooks::OnUpdate, this);
    sqlite3_rollback_hook(db_, &WriterHooks::OnRollback, this);
  }
  ~WriterHooks() {
    sqlite3_update_hook(db_, nullptr, nullptr);
    sqlite3_rollback_hook(db_, nullptr, nullptr);
  }
  WriterHooks(const WriterHooks&) = delete;
  WriterHooks& operator=(const WriterHooks&) = delete;

 private:
  static void OnUpdate(void* self, int op, const char* /*db*/, const char* table,
                       sqlite3_int64 rowid) {
    auto* hooks = static_cast<WriterHooks*>(self);
    std::string_view name(table);
    if (name == "events") {
      if (op != SQLITE_INSERT) hooks->recent_.Removed(rowid);  // rowid is the seq
      return;
    }
    if (name == "outbox") {
      // Only new or changed rows can be work that an earlier read did not see.
      if (op != SQLITE_DELETE) hooks->outbox_touched_ = true;
      return;
    }
    hooks->cache_.Changed(op, name, rowid);
  }
  static void OnRollback(void* self) {
    auto* hooks = static_cast<WriterHooks*>(self);
    hooks->cache_.Clear();
    hooks->recent_.DropStaged();
  }

  sqlite3* db_;
  LookupCache& cache_;
  RecentEvents& recent_;
  bool& outbox_touched_;
};

}  // namespace

void SqliteStore::WriterLoop() {
  LookupCache cache(lookup_cache_hits_);
  WriterHooks hooks(writer_db_->raw(), cache, recent_events_, outbox_touched_);
  SqliteAccess access(*writer_db_, &cache,
                      options_.recent_event_bytes > 0 ? &recent_events_ : nullptr);
  access.SetLastEventSeq(last_event_seq_);
  const size_t max_batch = static_cast<size_t>(options_.max_batch);
  std::vector<PendingWrite> batch;
  std::vector<Status> results;
  batch.reserve(max_batch);
  while (true) {
    {
      std::unique_lock lock(write_mu_);
      write_cv_.wait(lock, [this] { return !writes_.empty() || write_stopping_; });
      if (writes_.empty()) return;  // stopping, and everything queued has run
      size_t n = std::min(writes_.size(), max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(writes_.front()));
        writes_.pop_front();
      }
    }
    RunBatch(access, batch, results);
    batch.clear();
  }
}

namespace {

Status Call(const Store::WriteFn& fn, SqliteAccess& access) {
  try {
    return fn(access);
  } catch (const std::exception&) {
    return Internal("write function threw");
  } catch (...) {
    return Internal("write function threw");
  }
}

}  // namespace

Status SqliteStore::RunOne(SqliteAccess& access, const WriteFn& fn) {
  const size_t mark = access.SavepointMark();
  PARLEY_RETURN_IF_ERROR(RunSql(*writer_db_, "SAVEPOINT w"));
  Status s = Call(fn, access);
  // Some errors (I/O, out of memory, disk full) make SQLite roll back the whole transaction;
  // the savepoint is gone then and the caller (RunBatch) fails the batch.
  if (sqlite3_get_autocommit(writer_db_->raw()) != 0) {
    return s.ok() ? Internal("sqlite: transaction was rolled back") : s;
  }
  if (s.ok()) {
    Status released = RunSql(*writer_db_, "RELEASE w");
    if (released.ok()) return s;
    s = released;
  }
  Status undo = RunSql(*writer_db_, "ROLLBACK TO w");
  if (!undo.ok()) {
    // The write's changes would stay in the transaction, and commit although its caller
    // hears of a failure: give the whole batch up instead (RunTransaction sees it gone).
    RunSql(*writer_db_, "ROLLBACK").IgnoreError();
  }
  access.RolledBackTo(mark, undo.ok() || sqlite3_get_autocommit(writer_db_->raw()) != 0);
  if (undo.ok()) undo = RunSql(*writer_db_, "RELEASE w");
  return undo.ok() ? s : undo;
}

SqliteStore::TransactionOutcome SqliteStore::RunTransaction(SqliteAccess& access,
                                                            std::vector<PendingWrite>& batch,
                                                            std::vector<Status>& results,
                                                            size_t bare_before, size_t* failed_at,
                                                            bool rehearse) {
  results.assign(batch.size(), OkStatus());
  // A ROLLBACK that failed would have left the connection inside a transaction, and every
  // later BEGIN would fail with it.
  if (sqlite3_get_autocommit(writer_db_->raw()) == 0) {
    RunSql(*writer_db_, "ROLLBACK").IgnoreError();
  }
  access.Beginning();
  Status begin = RunSql(*writer_db_, "BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (Status& r : results) r = begin;
    return TransactionOutcome::kFailed;
  }
  // While only rerunnable writes have run, a failure can be undone by rolling back the whole
  // transaction and running them again, so they need no savepoint: the leading rerunnable
  // writes before `bare_before` run bare.
  size_t leading = 0;
  while (leading < std::min(bare_before, batch.size()) && batch[leading].rerunnable) ++leading;
  size_t i = 0;
  for (; i < leading; ++i) {
    Status s = Call(batch[i].fn, access);
    if (s.ok() && sqlite3_get_autocommit(writer_db_->raw()) == 0) continue;
    if (sqlite3_get_autocommit(writer_db_->raw()) == 0) {
      RunSql(*writer_db_, "ROLLBACK").IgnoreError();
    }
    *failed_at = i;
    return TransactionOutcome::kRunAgainWithSavepoints;
  }
  if (rehearse && leading > 0) {
    // SqliteOptions::rerun_writes: as if the write after the leading ones had failed.
    RunSql(*writer_db_, "ROLLBACK").IgnoreError();
    *failed_at = leading;
    return TransactionOutcome::kRunAgainWithSavepoints;
  }
  for (; i < batch.size(); ++i) {
    results[i] = RunOne(access, batch[i].fn);
    if (sqlite3_get_autocommit(writer_db_->raw()) != 0) break;  // transaction is gone
  }
  if (i < batch.size()) {
    // Nothing of this batch survives: fail the writes that looked fine and the ones not run.
    Status lost = Unavailable("store transaction was rolled back; retry");
    for (size_t j = 0; j < batch.size(); ++j) {
      if (j > i || results[j].ok()) results[j] = lost;
    }
    return TransactionOutcome::kFailed;
  }
  const auto committing = std::chrono::steady_clock::now();
  const uint64_t wal_commits = wal_commits_;
  TakeWalSyncTime();
  Status commit = RunSql(*writer_db_, "COMMIT");
  if (commit.ok()) {
    commit_times_.statements = committing - batch_began_;
    commit_times_.commit = std::chrono::steady_clock::now() - committing;
    commit_times_.wrote_wal = wal_commits_ != wal_commits;
    commit_times_.wal_sync = TakeWalSyncTime();
    access.Committed();
    return TransactionOutcome::kCommitted;
  }
  if (sqlite3_get_autocommit(writer_db_->raw()) == 0) {
    RunSql(*writer_db_, "ROLLBACK").IgnoreError();
  }
  for (Status& r : results) {
    if (r.ok()) r = commit;
  }
  return TransactionOutcome::kFailed;
}

void SqliteStore::RunBatch(SqliteAccess& access, std::vector<PendingWrite>& batch,
                           std::vector<Status>& results) {
  outbox_touched_ = false;  // a rolled-back run may leave it set: one needless read at worst
  batch_began_ = std::chrono::steady_clock::now();
  commit_times_.queued = batch_began_ - batch.front().submitted;  // FIFO: the longest wait
  size_t failed_at = 0;
  TransactionOutcome outcome =
      RunTransaction(access, batch, results, batch.size(), &failed_at, options_.rerun_writes);
  if (outcome == TransactionOutcome::kRunAgainWithSavepoints) {
    batches_run_again_.fetch_add(1, std::memory_order_relaxed);
    // The writes before the failed one succeeded and run bare again; from the failed one on,
    // every write has its own savepoint. So a sender whose writes keep failing costs a batch
    // one more bare run of the writes before its own. Should a bare write fail this time
    // (it did not the first), the last run gives every write a savepoint.
    outcome = RunTransaction(access, batch, results, failed_at, &failed_at, false);
    if (outcome == TransactionOutcome::kRunAgainWithSavepoints) {
      outcome = RunTransaction(access, batch, results, 0, &failed_at, false);
    }
  }
  const bool committed = outcome == TransactionOutcome::kCommitted;
  if (!committed) failed_commits_.fetch_add(1, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  writes_run_.fetch_add(batch.size(), std::memory_order_relaxed);
  bool any_ok = false;
  uint64_t failed = 0;
  for (const Status& r : results) {
    if (r.ok()) {
      any_ok = true;
    } else {
      ++failed;
    }
  }
  failed_writes_.fetch_add(failed, std::memory_order_relaxed);
  if (committed) committed_batches_.fetch_add(1, std::memory_order_release);
  // Only now, after the COMMIT: a reader that sees the new number sees the batch's rows.
  if (committed && outbox_touched_) outbox_version_.fetch_add(1, std::memory_order_acq_rel);

  try {
    // The callbacks' posts to one event loop go out together when the scope closes.
    CallbackScope scope;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].done) continue;
      try {
        batch[i].done(std::move(results[i]));
      } catch (...) {
        // A throwing callback must not take the writer down with it.
      }
    }
  } catch (...) {
  }
  if (committed && options_.on_commit) {
    try {
      options_.on_commit(commit_times_);
    } catch (...) {
    }
  }
  if (committed && any_ok) {
    std::shared_ptr<const std::function<void()>> listener;
    {
      std::lock_guard lock(listener_mu_);
      listener = listener_;
    }
    if (listener) {
      try {
        (*listener)();
      } catch (...) {
      }
    }
  }
  RestartWalIfLong();
}

void SqliteStore::ReaderLoop(Db& db) {
  SqliteAccess access(db);
  while (true) {
    ReadFn fn;
    {
      std::unique_lock lock(read_mu_);
      read_cv_.wait(lock, [this] { return !reads_.empty() || read_stopping_; });
      if (reads_.empty()) return;
      fn = std::move(reads_.front());
      reads_.pop_front();
    }
    // One read transaction per ReadFn, so all its queries see the same snapshot.
    bool in_txn = RunSql(db, "BEGIN").ok();
    try {
      fn(access);
    } catch (...) {
      // Reader methods do not throw; a throwing ReadFn is the caller's bug.
    }
    if (in_txn) RunSql(db, "COMMIT").IgnoreError();
  }
}

}  // namespace parley::store::sqlite

#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "store/contract/store_contract_test.h"
#include "store/sqlite/schema.h"

namespace parley::store::sqlite {
namespace {

using contract::StoreContractTest;
using contract::StoreFactory;

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContractTest,
    ::testing::Values(StoreFactory([](const std::string& dir) -> std::unique_ptr<Store> {
      auto store = SqliteStore::Open({.path = dir + "/parley.db"});
      if (!store.ok()) {
        ADD_FAILURE() << store.status().ToString();
        return nullptr;
      }
      return std::move(store).value();
    })));

TenantRecord Tenant(int n) {
  return {TenantId::New(FromUnixMillis(1'700'000'000'000 + n)), "t" + std::to_string(n),
          std::string("k\0y", 3), "{}", FromUnixMillis(1'700'000'000'000 + n)};
}

// Runs one SQL statement on a separate raw connection (outside the store) and returns the
// first column of the first row as text ("" when none).
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return out;
}

// A read-only connection outside the store inside a read transaction, so its snapshot is
// held (and with it the WAL frames it reads) until the transaction ends or it is closed.
using RawReader = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
RawReader BeginRawRead(const std::string& path) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  RawReader reader(raw, &sqlite3_close_v2);
  EXPECT_EQ(sqlite3_exec(raw, "BEGIN; SELECT count(*) FROM tenants;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  return reader;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "parley_sqlite_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/parley.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options = {}) {
    if (options.path.empty()) options.path = path_;
    auto store = SqliteStore::Open(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Holds the writer inside a plain write (inserting Tenant(tenant)) until `released` is
  // ready, so that writes submitted meanwhile queue up as one batch. Returns that write's
  // result.
  static std::future<Status> HoldWriter(SqliteStore& store, std::shared_future<void> released,
                                        int tenant) {
    auto holding = std::make_shared<std::promise<void>>();
    std::future<void> held = holding->get_future();
    std::future<Status> write = std::async(std::launch::async, [&store, holding, released, tenant] {
      return store.WriteSync([&](Writer& w) {
        holding->set_value();
        released.wait();
        return w.InsertTenant(Tenant(tenant));
      });
    });
    held.wait();
    return write;
  }

  // Submits a write that counts its runs in `runs`, inserts Tenant(tenant), then returns
  // `after` (an error makes it a write that fails after writing). Returns its result.
  static std::future<Status> SubmitCounted(SqliteStore& store, bool rerunnable, int tenant,
                                           std::atomic<int>& runs, Status after = OkStatus()) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> result = done->get_future();
    Store::WriteFn fn = [&runs, tenant, after](Writer& w) -> Status {
      ++runs;
      PARLEY_RETURN_IF_ERROR(w.InsertTenant(Tenant(tenant)));
      return after;
    };
    Store::Done finish = [done](Status s) { done->set_value(std::move(s)); };
    if (rerunnable) {
      store.SubmitRerunnableWrite(std::move(fn), std::move(finish));
    } else {
      store.SubmitWrite(std::move(fn), std::move(finish));
    }
    return result;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, DatabaseFilesArePrivateToTheOwner) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteSync([](Writer& w) { return w.InsertTenant(Tenant(1)); }).ok());
  for (const std::string& p : {path_, path_ + "-wal", path_ + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
  }
}

TEST_F(SqliteStoreTest, ExistingWorldReadableFileIsTightened) {
  { std::ofstream create(path_); }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SqliteStoreTest, JournalModeIsWal) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQuery(path_, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, MigrationsApplyOnceAcrossReopens) {
  OpenOrDie().reset();
  OpenOrDie().reset();
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM schema_migrations"),
            std::to_string(LatestSchemaVersion()));
  EXPECT_EQ(RawQuery(path_, "SELECT max(version) FROM schema_migrations"),
            std::to_string(LatestSchemaVersion()));
}

TEST_F(SqliteStoreTest, DatabaseFromANewerBinaryIsRefused) {
  OpenOrDie().reset();
  RawQuery(path_, "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)");
  auto store = SqliteStore::Open({.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  TenantRecord t = Tenant(2);
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.InsertTenant(t); }).ok());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto got = store->ReadSync<TenantRecord>([&](Reader& r) { return r.GetTenant(t.id); });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(contract::Fields(*got), contract::Fields(t));
}

TEST_F(SqliteStoreTest, GroupCommitPutsQueuedWritesInFewTransactions) {
  auto store = OpenOrDie({.path = path_, .max_batch = 256});
  ASSERT_NE(store, nullptr);
  // The first write holds the writer until everything else is queued, so the rest must be
  // committed in batches of max_batch — deterministic, without timing.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  constexpr int kWrites = 1000;
  std::vector<std::future<Status>> done;
  for (int i = 0; i < kWrites; ++i) {
    auto p = std::make_shared<std::promise<Status>>();
    done.push_back(p->get_future());
    TenantRecord t = Tenant(100 + i);
    store->SubmitWrite(
        [t, i, released](Writer& w) {
          if (i == 0) released.wait();
          return w.InsertTenant(t);
        },
        [p](Status s) { p->set_value(std::move(s)); });
  }
  release.set_value();
  for (auto& f : done) ASSERT_TRUE(f.get().ok());
  SqliteStats stats = store->Stats();
  EXPECT_EQ(stats.writes, static_cast<uint64_t>(kWrites));
  EXPECT_LE(stats.batches, 1u + (kWrites - 1 + 255) / 256);
  EXPECT_EQ(stats.failed_writes, 0u);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), std::to_string(kWrites));
}

TEST_F(SqliteStoreTest, AWriteThatThrowsFailsAloneWithInternal) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  TenantRecord t = Tenant(3);
  Status s = store->WriteSync([&](Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(
      store->ReadSync<TenantRecord>([&](Reader& r) { return r.GetTenant(t.id); }).status().code(),
      StatusCode::kNotFound);
  EXPECT_TRUE(store->WriteSync([&](Writer& w) { return w.InsertTenant(t); }).ok());
  EXPECT_EQ(store->Stats().failed_writes, 1u);
}

// Rerunnable writes at the head of a batch run without savepoints. When one of them fails,
// the batch is rolled back and run again with a savepoint per write: the failure undoes
// only its own changes, every other write commits, and a write not marked rerunnable never
// runs twice.
TEST_F(SqliteStoreTest, AFailingRerunnableWriteIsUndoneAloneAndOthersRunOnce) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<std::future<Status>> done;
  std::vector<std::shared_ptr<std::atomic<int>>> runs;
  std::vector<TenantId> ids;
  // kind: 'r' rerunnable insert, 'f' rerunnable insert then error, 't' rerunnable that
  // throws, 'p' plain (not rerunnable) insert.
  auto submit = [&](int n, char kind, bool hold = false) {
    auto p = std::make_shared<std::promise<Status>>();
    done.push_back(p->get_future());
    auto count = std::make_shared<std::atomic<int>>(0);
    runs.push_back(count);
    TenantRecord t = Tenant(n);
    ids.push_back(t.id);
    Store::WriteFn fn = [t, kind, hold, count, released](Writer& w) -> Status {
      ++*count;
      if (hold) released.wait();
      PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
      if (kind == 'f') return InvalidArgument("refused after writing");
      if (kind == 't') throw std::runtime_error("boom");
      return OkStatus();
    };
    Store::Done finish = [p](Status s) { p->set_value(std::move(s)); };
    if (kind == 'p') {
      store->SubmitWrite(std::move(fn), std::move(finish));
    } else {
      store->SubmitRerunnableWrite(std::move(fn), std::move(finish));
    }
  };
  submit(0, 'r', /*hold=*/true);  // holds the writer in a batch of its own
  // Wait until the writer holds it, so the rest queue up as one batch.
  while (runs[0]->load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string kinds = "rrfrtrpr";
  for (size_t i = 0; i < kinds.size(); ++i) submit(1 + static_cast<int>(i), kinds[i]);
  release.set_value();
  std::vector<Status> results;
  for (auto& f : done) results.push_back(f.get());

  ASSERT_EQ(results.size(), 1 + kinds.size());
  EXPECT_TRUE(results[0].ok());
  for (size_t i = 0; i < kinds.size(); ++i) {
    const Status& s = results[1 + i];
    SCOPED_TRACE(std::string(1, kinds[i]) + " #" + std::to_string(i));
    const TenantId id = ids[1 + i];
    const bool stored =
        store->ReadSync<TenantRecord>([&](Reader& r) { return r.GetTenant(id); }).ok();
    if (kinds[i] == 'f') {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(stored);
    } else if (kinds[i] == 't') {
      EXPECT_EQ(s.code(), StatusCode::kInternal);
      EXPECT_FALSE(stored);
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_TRUE(stored);
    }
  }
  // The writes up to the first failure ran twice (bare, then those before it bare again and
  // it with a savepoint); the rest, the plain write among them, ran once.
  EXPECT_EQ(runs[1]->load(), 2);
  EXPECT_EQ(runs[2]->load(), 2);
  EXPECT_EQ(runs[3]->load(), 2);
  for (size_t i = 4; i <= kinds.size(); ++i) EXPECT_EQ(runs[i]->load(), 1) << i;
  SqliteStats stats = store->Stats();
  EXPECT_EQ(stats.batches_run_again, 1u);
  EXPECT_EQ(stats.failed_writes, 2u);
  EXPECT_EQ(stats.failed_commits, 0u);
}

// A plain write ends the run of bare writes: a rerunnable write failing after it is undone
// by its own savepoint, and nothing runs twice.
TEST_F(SqliteStoreTest, AfterAPlainWriteEveryWriteHasItsOwnSavepoint) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> leading_runs{0}, plain_runs{0}, failing_runs{0};
  std::future<Status> first = HoldWriter(*store, released, 20);
  std::future<Status> a = SubmitCounted(*store, true, 21, leading_runs);
  std::future<Status> b = SubmitCounted(*store, false, 22, plain_runs);
  std::future<Status> c = SubmitCounted(*store, true, 23, failing_runs, InvalidArgument("no"));
  release.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  EXPECT_EQ(c.get().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plain_runs.load(), 1);
  EXPECT_EQ(failing_runs.load(), 1);
  EXPECT_EQ(store->Stats().batches_run_again, 0u);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "3");
}

// A bare write that succeeded the first time and fails when run again: the batch's last run
// gives every write a savepoint, and each failure is still its own.
TEST_F(SqliteStoreTest, ABareWriteFailingOnlyWhenRunAgainLeadsToSavepointsForAll) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> flaky_runs{0}, failing_runs{0}, plain_runs{0};
  std::future<Status> first = HoldWriter(*store, released, 30);
  std::promise<Status> a;
  store->SubmitRerunnableWrite(
      [&](Writer& w) -> Status {
        PARLEY_RETURN_IF_ERROR(w.InsertTenant(Tenant(31)));
        if (++flaky_runs >= 2) return FailedPrecondition("changed its mind");
        return OkStatus();
      },
      [&](Status s) { a.set_value(s); });
  std::future<Status> b = SubmitCounted(*store, true, 32, failing_runs, InvalidArgument("no"));
  std::future<Status> c = SubmitCounted(*store, false, 33, plain_runs);
  release.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(a.get_future().get().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.get().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.get().ok());
  EXPECT_EQ(flaky_runs.load(), 3);    // bare, bare again (fails), with a savepoint
  EXPECT_EQ(failing_runs.load(), 2);  // bare, with a savepoint
  EXPECT_EQ(plain_runs.load(), 1);
  EXPECT_EQ(store->Stats().batches_run_again, 1u);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "2");
}

// The testing aid: a batch's leading rerunnable writes run twice, the first run rolled back;
// a plain write and every write after it run once, and everything commits once.
TEST_F(SqliteStoreTest, RerunWritesRunsTheLeadingRerunnableWritesTwice) {
  SqliteOptions options;
  options.rerun_writes = true;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> leading_runs{0}, plain_runs{0}, trailing_runs{0};
  std::future<Status> first = HoldWriter(*store, released, 40);
  std::vector<std::future<Status>> done;
  done.push_back(SubmitCounted(*store, true, 41, leading_runs));
  done.push_back(SubmitCounted(*store, true, 42, leading_runs));
  done.push_back(SubmitCounted(*store, false, 43, plain_runs));
  done.push_back(SubmitCounted(*store, true, 44, trailing_runs));
  release.set_value();
  EXPECT_TRUE(first.get().ok());
  for (auto& f : done) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(leading_runs.load(), 4);  // two writes, twice each
  EXPECT_EQ(plain_runs.load(), 1);
  EXPECT_EQ(trailing_runs.load(), 1);  // after a plain write: with a savepoint, once
  EXPECT_EQ(store->Stats().batches_run_again, 1u);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "5");
}

// With the testing aid, a batch that begins with a plain write is not run again, and a
// leading rerunnable write that fails is still undone alone.
TEST_F(SqliteStoreTest, RerunWritesLeavesPlainWritesAloneAndFailuresTheirOwn) {
  SqliteOptions options;
  options.rerun_writes = true;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  {
    // A batch that begins with a plain write: nothing in it runs twice.
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> plain_runs{0}, rerunnable_runs{0};
    std::future<Status> first = HoldWriter(*store, released, 50);
    std::future<Status> a = SubmitCounted(*store, false, 51, plain_runs);
    std::future<Status> b = SubmitCounted(*store, true, 52, rerunnable_runs);
    release.set_value();
    EXPECT_TRUE(first.get().ok());
    EXPECT_TRUE(a.get().ok());
    EXPECT_TRUE(b.get().ok());
    EXPECT_EQ(plain_runs.load(), 1);
    EXPECT_EQ(rerunnable_runs.load(), 1);
    EXPECT_EQ(store->Stats().batches_run_again, 0u);
  }
  // A good rerunnable write, then one that fails after writing: the failure is its own.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> good_runs{0}, failing_runs{0};
  std::future<Status> first = HoldWriter(*store, released, 53);
  std::future<Status> a = SubmitCounted(*store, true, 54, good_runs);
  std::future<Status> b = SubmitCounted(*store, true, 55, failing_runs, InvalidArgument("no"));
  release.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(a.get().ok());
  EXPECT_EQ(b.get().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(good_runs.load(), 2);     // bare, then bare again before the failed write
  EXPECT_EQ(failing_runs.load(), 2);  // bare, then with its savepoint
  EXPECT_EQ(store->Stats().batches_run_again, 1u);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "5");
}

TEST_F(SqliteStoreTest, DestructionRunsEveryQueuedWrite) {
  constexpr int kWrites = 200;
  std::atomic<int> ok{0};
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kWrites; ++i) {
      TenantRecord t = Tenant(1000 + i);
      store->SubmitWrite([t](Writer& w) { return w.InsertTenant(t); },
                         [&](Status s) { ok += s.ok() ? 1 : 0; });
    }
  }
  EXPECT_EQ(ok.load(), kWrites);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), std::to_string(kWrites));
}

TEST_F(SqliteStoreTest, CorruptStoredEnumIsInternalNotACrash) {
  ConversationRecord cv;
  cv.id = ConversationId::New(FromUnixMillis(1));
  cv.tenant = TenantId::New(FromUnixMillis(1));
  cv.connection = ConnectionId::New(FromUnixMillis(1));
  cv.customer = CustomerId::New(FromUnixMillis(1));
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.InsertConversation(cv); }).ok());
  }
  RawQuery(path_, "UPDATE conversations SET state = 'bogus'");
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto got = store->ReadSync<ConversationRecord>(
      [&](Reader& r) { return r.GetConversation(cv.tenant, cv.id); });
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
}

TEST_F(SqliteStoreTest, InvalidOptionsAreRejected) {
  EXPECT_EQ(SqliteStore::Open({.path = ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = ":memory:"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .readers = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .max_batch = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .clock = nullptr}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .wal_restart_frames = 63}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .wal_truncate_frames = 63}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path_, .wal_truncate_frames = 1000001}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, UnopenablePathIsAnErrorNotACrash) {
  auto store = SqliteStore::Open({.path = dir_ + "/missing/dir/parley.db"});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

TEST_F(SqliteStoreTest, CheckpointThreadCheckpointsAfterCommits) {
  auto store = OpenOrDie({.path = path_, .checkpoint_interval = Millis(1)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteSync([](Writer& w) { return w.InsertTenant(Tenant(4)); }).ok());
  // Waits for a background event (not for an amount of time); bounded so a bug fails fast.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Stats().checkpointed_frames == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_GT(store->Stats().checkpoints, 0u);
  // The frames really went into the database (a connection that never read the database
  // "checkpoints" nothing and still succeeds).
  EXPECT_GT(store->Stats().checkpointed_frames, 0u);
}

// Under constant writes the checkpoint thread alone never lets the WAL start over (each of its
// passes copies what was committed before it began); past wal_restart_frames the writer makes
// it start over, so the WAL file stops growing. The checkpoint thread runs here only when the
// writer asks it to copy the bulk (its interval is an hour).
TEST_F(SqliteStoreTest, TheWriterRestartsALongWalUnderConstantWrites) {
  auto store = OpenOrDie(
      {.path = path_, .checkpoint_interval = Millis(3'600'000), .wal_restart_frames = 64});
  ASSERT_NE(store, nullptr);
  const std::string big(3000, 'x');  // about one page per tenant row
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(store
                    ->WriteSync([&](Writer& w) {
                      TenantRecord t = Tenant(1000 + i);
                      t.settings_json = big;
                      return w.InsertTenant(t);
                    })
                    .ok());
  }
  EXPECT_GE(store->Stats().wal_restarts, 4u);
  // 600 commits of at least two frames each need 1200+ frames without restarts; with them
  // the file stays near the limit (64 frames), plus what is written while the checkpoint
  // thread, when asked, copies the bulk (it may be slow to run on a busy machine).
  auto wal_bytes = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LT(wal_bytes, 600u * 4120u) << wal_bytes;
  store.reset();
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "600");
  EXPECT_EQ(RawQuery(path_, "PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStoreTest, AReaderOnOldFramesHoldsTheWalRestartOffAndWritesGoOn) {
  auto store = OpenOrDie(
      {.path = path_, .checkpoint_interval = Millis(3'600'000), .wal_restart_frames = 64});
  ASSERT_NE(store, nullptr);
  const std::string big(3000, 'x');  // about one page per tenant row
  auto write = [&](int n) {
    TenantRecord t = Tenant(n);
    t.settings_json = big;
    return store->WriteSync([t](Writer& w) { return w.InsertTenant(t); });
  };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(write(1000 + i).ok());

  // A reader outside the store keeps a snapshot. One that began while every frame was in the
  // database reads the database file alone, and lets the next write start the WAL over once;
  // from then on its snapshot holds frames that no checkpoint may copy, so the WAL cannot
  // start over again while it reads. The baseline is taken after that one write.
  RawReader reader = BeginRawRead(path_);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(write(1999).ok());
  const uint64_t restarts_held = store->Stats().wal_restarts;
  const auto wal_before = std::filesystem::file_size(path_ + "-wal");
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(write(2000 + i).ok()) << i;
  EXPECT_EQ(store->Stats().wal_restarts, restarts_held);
  // 300 commits of at least one 4 KiB-page frame each: the WAL grew instead.
  EXPECT_GE(std::filesystem::file_size(path_ + "-wal"), wal_before + 300u * 4096u);

  // The reader ends: the WAL starts over again (once the checkpoint thread, woken by the
  // writer, has copied the bulk; bounded so a bug fails fast).
  ASSERT_EQ(sqlite3_exec(reader.get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  reader.reset();
  int n = 3000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Stats().wal_restarts == restarts_held &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(write(n++).ok());
  }
  EXPECT_GT(store->Stats().wal_restarts, restarts_held);
  store.reset();
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), std::to_string(321 + (n - 3000)));
  EXPECT_EQ(RawQuery(path_, "PRAGMA integrity_check"), "ok");
}

// A burst leaves a long WAL file behind; once no batch commits, the checkpoint thread
// truncates it, but only when no reader is on its frames: until then it tries again on each
// tick. (The writer's own restarts are kept out of the way: wal_restart_frames is high.)
TEST_F(SqliteStoreTest, AnIdleStoreTruncatesALongWalOnceNoReaderHoldsIt) {
  auto store = OpenOrDie({.path = path_,
                          .checkpoint_interval = Millis(2),
                          .wal_restart_frames = 1000000,
                          .wal_truncate_frames = 64});
  ASSERT_NE(store, nullptr);
  // A reader outside the store holds a snapshot from before the burst: no checkpoint may
  // copy the burst's frames over what it reads, nor truncate the WAL, until it is done.
  RawReader reader = BeginRawRead(path_);
  ASSERT_NE(reader, nullptr);
  const std::string big(3000, 'x');  // about one page per tenant row
  ASSERT_TRUE(store
                  ->WriteSync([&](Writer& w) -> Status {
                    for (int i = 0; i < 200; ++i) {
                      TenantRecord t = Tenant(1000 + i);
                      t.settings_json = big;
                      PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
                    }
                    return OkStatus();
                  })
                  .ok());
  // Waits for background events (not for an amount of time); bounded so a bug fails fast.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Stats().busy_checkpoints < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(store->Stats().busy_checkpoints, 3u);
  EXPECT_GT(std::filesystem::file_size(path_ + "-wal"), 200u * 4096u);

  ASSERT_EQ(sqlite3_exec(reader.get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  reader.reset();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::file_size(path_ + "-wal") > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);
  // The store goes on writing after the truncation.
  ASSERT_TRUE(store->WriteSync([](Writer& w) { return w.InsertTenant(Tenant(5000)); }).ok());
  store.reset();
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM tenants"), "201");
  EXPECT_EQ(RawQuery(path_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace parley::store::sqlite

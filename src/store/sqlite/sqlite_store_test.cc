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
#include <vector>

#include "core/clock.h"
#include "store/contract/store_contract_test.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store_test_util.h"

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

using sqlite_testing::RawQuery;
using sqlite_testing::SqliteStoreTest;
using sqlite_testing::Tenant;

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
  EXPECT_EQ(OpenAfter("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)"),
            StatusCode::kFailedPrecondition);
}

EventRecord Event(const TenantId& t, int n) {
  EventRecord r;
  r.id = EventId::New(FromUnixMillis(1'700'000'000'000 + n));
  r.tenant = t;
  r.type = "message.created";
  r.payload_sealed = "sealed" + std::to_string(n);
  r.created_at = FromUnixMillis(1'700'000'000'000 + n);
  return r;
}

// Inserts tenant `t` and `events` events of it in one write; returns the last one's seq.
int64_t InsertTenantEvents(Store& store, const TenantRecord& t, int events, int first_n) {
  int64_t seq = 0;
  EXPECT_TRUE(store
                  .WriteSync([&](Writer& w) -> Status {
                    PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
                    for (int i = 0; i < events; ++i) {
                      PARLEY_ASSIGN_OR_RETURN(seq, w.InsertEvent(Event(t.id, first_n + i)));
                    }
                    return OkStatus();
                  })
                  .ok());
  return seq;
}

// The newest events deleted, the store closed and opened again: the next event still gets a
// seq above every one handed out before (the floor kept by the schema's trigger).
TEST_F(SqliteStoreTest, EventSeqsAreNotReusedAfterTheNewestAreDeletedAndTheStoreReopens) {
  TenantRecord t = Tenant(3);
  int64_t newest = 0;
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    newest = InsertTenantEvents(*store, t, 3, 0);
    ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.DeleteTenantData(t.id); }).ok());
  }
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM events"), "0");
  EXPECT_EQ(RawQuery(path_, "SELECT value FROM store_counters WHERE name = 'events_seq_floor'"),
            std::to_string(newest));
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(InsertTenantEvents(*store, Tenant(4), 1, 10), newest + 1);
}

// The dispatcher reads the outbox only when OutboxVersion moved since it found it empty.
TEST_F(SqliteStoreTest, TheOutboxVersionMovesWithEachCommitThatAddsOrChangesOutboxRows) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto version = [&] { return store->OutboxVersion().value_or(0); };
  ASSERT_TRUE(store->OutboxVersion().has_value());
  const uint64_t v0 = version();
  TenantRecord t = Tenant(7);
  ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.InsertTenant(t); }).ok());
  EXPECT_EQ(version(), v0);  // no outbox row written
  OutboxRecord row;
  row.kind = OutboxKind::kChannelSend;
  row.tenant = t.id;
  row.target_id = "ch_x";
  row.ref_id = "msg_x";
  row.conversation_id = "cv_x";
  row.created_at = row.next_attempt_at = FromUnixMillis(1'700'000'000'000);
  int64_t seq = 0;
  ASSERT_TRUE(store
                  ->WriteSync([&](Writer& w) -> Status {
                    PARLEY_ASSIGN_OR_RETURN(seq, w.InsertOutbox(row));
                    return OkStatus();
                  })
                  .ok());
  const uint64_t v1 = version();
  EXPECT_GT(v1, v0);
  ASSERT_TRUE(store
                  ->WriteSync([&](Writer& w) {
                    return w.RescheduleOutbox(seq, 1, FromUnixMillis(1'700'000'001'000), "down");
                  })
                  .ok());
  const uint64_t v2 = version();
  EXPECT_GT(v2, v1);
  // A deletion leaves nothing new to read.
  ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.DeleteOutbox({seq}); }).ok());
  EXPECT_EQ(version(), v2);
}

// Without the floor the store could hand a seq out again: it refuses to open.
TEST_F(SqliteStoreTest, AStoreWithoutItsEventSeqFloorIsRefused) {
  EXPECT_EQ(OpenAfter("DELETE FROM store_counters WHERE name = 'events_seq_floor'"),
            StatusCode::kFailedPrecondition);
}

// Schema 8 rebuilt the events table without AUTOINCREMENT: a database from before keeps its
// events and seqs, and the seqs of its deleted newest events stay used.
TEST_F(SqliteStoreTest, TheEventsOfAVersion7DatabaseKeepTheirSeqsAndItsDeletedOnesStayUsed) {
  {
    auto db = Db::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, SystemClock::Instance(), 7).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO events (id, tenant_id, conversation_id, type,"
                           " payload_sealed, created_at) VALUES"
                           " ('ev_1', 'tn_a', NULL, 'typing', X'01', 1),"
                           " ('ev_2', 'tn_a', 'cv_1', 'message.created', X'02', 2),"
                           " ('ev_3', 'tn_a', NULL, 'typing', X'03', 3),"
                           " ('ev_4', 'tn_a', NULL, 'typing', X'04', 4);"
                           "DELETE FROM events WHERE seq >= 3;")
                    .ok());
  }
  EXPECT_EQ(RawQuery(path_, "SELECT seq FROM sqlite_sequence WHERE name = 'events'"), "4");
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQuery(path_, "SELECT max(version) FROM schema_migrations"), "8");
  EXPECT_EQ(RawQuery(path_,
                     "SELECT group_concat(seq || ':' || id || ':' ||"
                     " coalesce(conversation_id, '-') || ':' || hex(payload_sealed), ' ')"
                     " FROM (SELECT * FROM events ORDER BY seq)"),
            "1:ev_1:-:01 2:ev_2:cv_1:02");
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM sqlite_sequence WHERE name = 'events'"), "0");
  EXPECT_EQ(RawQuery(path_,
                     "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'events' AND"
                     " name IN ('events_by_tenant', 'events_seq_floor')"),
            "2");
  TenantRecord t = Tenant(5);
  EXPECT_EQ(InsertTenantEvents(*store, t, 1, 20), 5);
  // The migrated database's floor rises too.
  ASSERT_TRUE(store->WriteSync([&](Writer& w) { return w.DeleteTenantData(t.id); }).ok());
  store.reset();
  store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(InsertTenantEvents(*store, Tenant(6), 1, 30), 6);
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

}  // namespace
}  // namespace parley::store::sqlite

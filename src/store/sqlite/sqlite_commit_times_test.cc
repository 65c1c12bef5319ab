// The SQLite store's report of where each committed transaction spent its time
// (SqliteOptions::on_commit, CommitTimes).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_store_test_util.h"

namespace parley::store::sqlite {
namespace {

using sqlite_testing::SqliteStoreTest;
using sqlite_testing::Tenant;

// on_commit hears each committed transaction: how long its oldest write waited for the
// writer, its statements, and its COMMIT with the WAL sync inside it.
TEST_F(SqliteStoreTest, OnCommitHearsWhereEachTransactionSpentItsTime) {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  std::vector<CommitTimes> heard;
  SqliteOptions options;
  options.on_commit = [&](const CommitTimes& t) {
    std::lock_guard lock(mu);
    heard.push_back(t);
  };
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  // The first transaction holds the writer (inside its write, after its BEGIN) while the
  // second write is queued.
  std::promise<void> release;
  std::future<Status> first = HoldWriter(*store, release.get_future().share(), 50);
  const Clock::time_point held = Clock::now();
  std::atomic<int> runs{0};
  std::future<Status> second = SubmitCounted(*store, false, 51, runs);
  const Clock::time_point queued = Clock::now();
  while (Clock::now() == queued) {
  }
  const Clock::time_point released = Clock::now();
  release.set_value();
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(second.get().ok());
  // A third that changes nothing: SQLite writes no WAL frame for it.
  ASSERT_TRUE(store->WriteSync([](Writer&) { return OkStatus(); }).ok());
  store.reset();  // joins the writer: every on_commit call has returned

  ASSERT_EQ(heard.size(), 3u);
  EXPECT_GE(heard[0].statements, released - held);
  EXPECT_GE(heard[1].queued, released - queued);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(heard[i].wrote_wal) << i;
    EXPECT_GT(heard[i].wal_sync.count(), 0) << i;  // synchronous=FULL: a WAL commit syncs
    EXPECT_GE(heard[i].commit, heard[i].wal_sync) << i;
  }
  EXPECT_FALSE(heard[2].wrote_wal);
  EXPECT_EQ(heard[2].wal_sync.count(), 0);
}

// A batch rolled back and run again is heard once, when it commits, and its statements
// count every run.
TEST_F(SqliteStoreTest, OnCommitHearsABatchRunAgainOnceWithAllItsRuns) {
  using Clock = std::chrono::steady_clock;
  std::vector<CommitTimes> heard;  // written on the writer thread, read once it is joined
  SqliteOptions options;
  options.rerun_writes = true;  // the leading rerunnable write runs twice, first rolled back
  options.on_commit = [&](const CommitTimes& t) { heard.push_back(t); };
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  std::atomic<int> runs{0};
  Clock::duration first_run{};
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  store->SubmitRerunnableWrite(
      [&](Writer& w) {
        if (runs++ == 0) {  // the run that is rolled back takes a measurable time
          const Clock::time_point start = Clock::now();
          while (Clock::now() - start < std::chrono::milliseconds(2)) {
          }
          first_run = Clock::now() - start;
        }
        return w.InsertTenant(Tenant(60));
      },
      [done](Status s) { done->set_value(std::move(s)); });
  ASSERT_TRUE(result.get().ok());
  store.reset();
  EXPECT_EQ(runs.load(), 2);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_TRUE(heard[0].wrote_wal);
  EXPECT_GE(heard[0].statements, first_run);
}

}  // namespace
}  // namespace parley::store::sqlite

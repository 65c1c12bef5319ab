// The SQLite store's WAL upkeep: the checkpoint thread, the writer's restarts of a long WAL
// under constant writes, readers that hold them off, and the idle truncation.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_store_test_util.h"

namespace parley::store::sqlite {
namespace {

using sqlite_testing::BeginRawRead;
using sqlite_testing::RawQuery;
using sqlite_testing::RawReader;
using sqlite_testing::SqliteStoreTest;
using sqlite_testing::Tenant;

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
  auto passes = [&] { return store->Stats().checkpoints + store->Stats().busy_checkpoints; };
  const uint64_t passes_before = passes();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(write(2000 + i).ok()) << i;
  EXPECT_EQ(store->Stats().wal_restarts, restarts_held);
  // Passes that can copy nothing while the reader holds its frames are not asked for after
  // every batch (the thread's own ticks are an hour apart here): the writer waits 1, 2, 4 …
  // up to 32 batches between them, about 13 wakes here (287 when it woke after each batch).
  EXPECT_LE(passes() - passes_before, 40u);
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

#include "store/sqlite/wal_gather_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/test_temp_dir.h"
#include "store/sqlite/sqlite_db.h"

namespace parley::store::sqlite {
namespace {

class WalGatherVfsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }

  std::unique_ptr<Db> OpenWriter() {
    auto db = Db::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kWalGatherVfs);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    EXPECT_TRUE((*db)
                    ->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                           "PRAGMA wal_autocheckpoint=0;")
                    .ok());
    return std::move(db).value();
  }

  // Inserts `rows` rows of 1 KiB (a few hundred WAL frames) in one transaction.
  static void InsertRows(Db& db, int first, int rows) {
    ASSERT_TRUE(db.Exec("BEGIN IMMEDIATE").ok());
    for (int i = first; i < first + rows; ++i) {
      auto q = db.Prepare("INSERT INTO t (id, body) VALUES (?, ?)");
      ASSERT_TRUE(q.ok());
      std::string body(1024, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(q->Int(i).Blob(body).Run().ok());
    }
    ASSERT_TRUE(db.Exec("COMMIT").ok());
  }

  // COUNT(*) and integrity through a separate connection on the default VFS.
  std::string CountThroughDefaultVfs(const char* sql = "SELECT count(*) FROM t") {
    auto db = Db::Open(path_, SQLITE_OPEN_READONLY);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return "";
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok());
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return q->ColText();
  }

  TestTempDir tmp_{"parley_vfs"};
  std::string dir_ = tmp_.path();
  std::string path_ = dir_ + "/t.db";
};

TEST_F(WalGatherVfsTest, CommitGoesOutInOneWriteAndOtherConnectionsSeeIt) {
  auto db = OpenWriter();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)").ok());

  internal::WalGatherCounts before = internal::WalGatherStats();
  InsertRows(*db, 0, 300);
  internal::WalGatherCounts after = internal::WalGatherStats();
  uint64_t writes = after.wal_writes - before.wal_writes;
  uint64_t flushes = after.wal_flushes - before.wal_flushes;
  // ~80 pages of rows plus B-tree pages, two writes per frame, and the WAL header.
  EXPECT_GT(writes, 150u);
  // 124 KiB per write (the unix VFS's limit), and the header may go out apart.
  EXPECT_LE(flushes, writes / 2 * 4120 / (124 * 1024) + 2);
  EXPECT_LT(flushes * 10, writes);

  // Committed means on disk for every other connection, before the writer closes.
  EXPECT_EQ(CountThroughDefaultVfs(), "300");
  InsertRows(*db, 300, 5);
  EXPECT_EQ(CountThroughDefaultVfs(), "305");
  db.reset();
  EXPECT_EQ(CountThroughDefaultVfs("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(CountThroughDefaultVfs(), "305");
}

TEST_F(WalGatherVfsTest, WalRestartAfterACheckpointKeepsEveryCommit) {
  auto db = OpenWriter();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)").ok());
  InsertRows(*db, 0, 50);
  // Another connection checkpoints and truncates the WAL: the writer's next commit starts the
  // file again at offset 0 (its header), a write that is not contiguous with the last one.
  {
    auto other = Db::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->Exec("SELECT count(*) FROM sqlite_schema").ok());  // learns it is WAL
    int log = -1;
    int done = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2((*other)->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log,
                                        &done),
              SQLITE_OK);
    EXPECT_EQ(log, 0);
  }
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);
  InsertRows(*db, 50, 50);
  ASSERT_TRUE(db->Exec("DELETE FROM t WHERE id % 2 = 0").ok());
  EXPECT_EQ(CountThroughDefaultVfs(), "50");
  db.reset();
  EXPECT_EQ(CountThroughDefaultVfs("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(CountThroughDefaultVfs("SELECT sum(id) FROM t"), "2500");  // 1 + 3 + … + 99
}

TEST_F(WalGatherVfsTest, RolledBackTransactionLeavesNoTrace) {
  auto db = OpenWriter();
  ASSERT_NE(db, nullptr);
  // A tiny cache makes SQLite spill uncommitted pages into the WAL mid-transaction.
  ASSERT_TRUE(db->Exec("PRAGMA cache_size=10;"
                       "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
                  .ok());
  InsertRows(*db, 0, 10);
  ASSERT_TRUE(db->Exec("BEGIN IMMEDIATE").ok());
  for (int i = 100; i < 400; ++i) {
    auto q = db->Prepare("INSERT INTO t (id, body) VALUES (?, ?)");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Int(i).Blob(std::string(1024, 'x')).Run().ok());
  }
  ASSERT_TRUE(db->Exec("ROLLBACK").ok());
  InsertRows(*db, 10, 10);
  EXPECT_EQ(CountThroughDefaultVfs(), "20");
  db.reset();
  EXPECT_EQ(CountThroughDefaultVfs("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(CountThroughDefaultVfs(), "20");
}

}  // namespace
}  // namespace parley::store::sqlite

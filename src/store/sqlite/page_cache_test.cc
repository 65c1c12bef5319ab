#include "store/sqlite/page_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <string>

#include "core/test_temp_dir.h"
#include "store/sqlite/sqlite_db.h"

namespace parley::store::sqlite {
namespace {

class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InstallPageCache()) << "SQLite was initialized before the layer";
    ASSERT_TRUE(tmp_.ok());
    auto db = Db::Open(dir_ + "/t.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("PRAGMA journal_mode=WAL; PRAGMA cache_size=-8192;"
                          "CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;")
                    .ok());
  }
  void TearDown() override { db_.reset(); }

  // Inserts `n` rows with random 32-byte keys (random places in the B-tree: many splits).
  void InsertRandom(int n) {
    const std::string value(200, 'v');  // Query binds without copying: must outlive Run()
    for (int i = 0; i < n; ++i) {
      std::string key(32, '\0');
      for (char& c : key) c = static_cast<char>(rng_());
      auto ins = db_->Prepare("INSERT INTO t (k, v) VALUES (?, ?)");
      ASSERT_TRUE(ins.ok());
      ins->Blob(key).Blob(value);
      ASSERT_TRUE(ins->Run().ok());
      ++rows_;
    }
  }

  std::string One(const char* sql) {
    auto q = db_->Prepare(sql);
    EXPECT_TRUE(q.ok());
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return std::string(q->ColText());
  }

  TestTempDir tmp_{"parley_pcache"};  // first: removed after the database closes
  std::string dir_ = tmp_.path();
  std::unique_ptr<Db> db_;
  std::mt19937 rng_{7};
  long rows_ = 0;
};

TEST_F(PageCacheTest, CommitsAfterPageSplitsSkipTheTruncate) {
  auto before = internal::PageCacheTruncates();
  for (int t = 0; t < 50; ++t) {
    ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
    InsertRandom(40);
    ASSERT_TRUE(db_->Exec("COMMIT").ok());
  }
  auto after = internal::PageCacheTruncates();
  // SQLite asks for a truncate at the end of every transaction; after a split renumbered
  // pages, its own cache would scan every cached page. The layer knows nothing is there.
  EXPECT_GE(after.skipped - before.skipped, 50);
  EXPECT_EQ(One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(One("SELECT count(*) FROM t"), std::to_string(rows_));
}

TEST_F(PageCacheTest, RollbackOfAGrowingTransactionStillDropsItsPages) {
  ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
  InsertRandom(200);
  ASSERT_TRUE(db_->Exec("COMMIT").ok());
  long committed = rows_;
  std::string pages = One("PRAGMA page_count");

  auto before = internal::PageCacheTruncates();
  ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
  InsertRandom(2000);  // grows the file by many pages, all in the cache
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  rows_ = committed;
  auto after = internal::PageCacheTruncates();
  EXPECT_GE(after.passed - before.passed, 1) << "the rollback's truncate must reach SQLite";
  EXPECT_EQ(One("PRAGMA page_count"), pages);

  // Growing again reuses the page numbers of the rolled-back pages: stale copies in the
  // cache would corrupt the tree.
  ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
  InsertRandom(2000);
  ASSERT_TRUE(db_->Exec("COMMIT").ok());
  EXPECT_EQ(One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(One("SELECT count(*) FROM t"), std::to_string(rows_));
}

}  // namespace
}  // namespace parley::store::sqlite

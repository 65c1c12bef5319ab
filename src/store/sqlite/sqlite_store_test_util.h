// src/store/sqlite/sqlite_store_test_util.h
//
// What the SQLite store's tests share: the SqliteStoreTest fixture (a temporary directory
// and a store opened in it), tenant rows, and raw connections outside the store.
//
//   using sqlite_testing::SqliteStoreTest;
//   TEST_F(SqliteStoreTest, Something) { auto store = OpenOrDie({.path = path_}); … }
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "core/test_temp_dir.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::store::sqlite::sqlite_testing {

inline TenantRecord Tenant(int n) {
  return {TenantId::New(FromUnixMillis(1'700'000'000'000 + n)), "t" + std::to_string(n),
          std::string("k\0y", 3), "{}", FromUnixMillis(1'700'000'000'000 + n)};
}

// Runs one SQL statement on a separate raw connection (outside the store) and returns the
// first column of the first row as text ("" when none).
inline std::string RawQuery(const std::string& path, const std::string& sql) {
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
inline RawReader BeginRawRead(const std::string& path) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  RawReader reader(raw, &sqlite3_close_v2);
  EXPECT_EQ(sqlite3_exec(raw, "BEGIN; SELECT count(*) FROM tenants;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  return reader;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }
  std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options = {}) {
    if (options.path.empty()) options.path = path_;
    auto store = SqliteStore::Open(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  // Creates the store, runs `sql` on the closed database, and opens it again: the code of
  // that open (kOk when it opened).
  StatusCode OpenAfter(const std::string& sql) {
    OpenOrDie().reset();
    RawQuery(path_, sql);
    auto store = SqliteStore::Open({.path = path_});
    return store.ok() ? StatusCode::kOk : store.status().code();
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

  TestTempDir tmp_{"parley_sqlite"};  // first: removed after everything below
  std::string dir_ = tmp_.path();
  std::string path_ = dir_ + "/parley.db";
};

}  // namespace parley::store::sqlite::sqlite_testing

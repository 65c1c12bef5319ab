// src/store/sqlite/sqlite_db.h
//
// Thin RAII layer over one SQLite connection: a cache of persistent prepared statements,
// a Query that binds parameters and reads columns in order and always resets its statement,
// and the mapping of SQLite result codes to Status.
//
//   PARLEY_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT name FROM tenants WHERE id = ?"));
//   q.Text(id.str());
//   PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
//   if (row) name = q.ColText();
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace parley::store::sqlite {

// Maps a SQLite result code to Status: unique/primary-key constraint -> kAlreadyExists,
// busy/locked -> kUnavailable, anything else -> kInternal with SQLite's message (which names
// tables and columns, never bound values). `what` says which operation failed.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// One prepared statement in use. Binds parameters left to right (Text, Blob, Int, …) and
// reads result columns left to right (ColText, ColBlob, …). Bound strings are NOT copied:
// they must outlive the Query. The destructor resets the statement and clears bindings.
// Thread safety: none; used by the thread that owns the connection.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, const char* sql) : db_(db), stmt_(stmt), sql_(sql) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  ~Query();

  Query& Text(std::string_view v);
  Query& Blob(std::string_view v);
  Query& Int(int64_t v);
  Query& Time(TimePoint t) { return Int(ToUnixMillis(t)); }
  Query& OptTime(const std::optional<TimePoint>& t);
  Query& OptText(const std::string* v);  // nullptr binds NULL
  Query& OptBlob(const std::string* v);  // nullptr binds NULL

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();
  // Rows changed by the last Run() on this connection.
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

  std::string ColText();
  std::string ColBlob();
  int64_t ColInt();
  TimePoint ColTime() { return FromUnixMillis(ColInt()); }
  std::optional<TimePoint> ColOptTime();
  std::optional<std::string> ColOptText();
  // Restarts column reading at column 0 (for the next row).
  void NextRow() { col_ = 0; }

 private:
  std::string What() const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const char* sql_;
  int param_ = 0;
  int col_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// One connection and its statement cache. Owns the handle (closed in the destructor after
// finalizing every cached statement). Thread safety: none; one thread at a time.
class Db {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_NOMUTEX is added) through the
  // VFS named `vfs` (nullptr: the default; kWalGatherVfs is registered on first use) and
  // enables extended result codes. Errors: kInternal / kUnavailable.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int flags,
                                          const char* vfs = nullptr);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results (schema, pragmas). Not for hot paths.
  Status Exec(const char* sql);

  // A Query over the cached statement for `sql`. The cache is keyed by the pointer, so pass
  // string literals (or other storage that lives as long as the Db). Statements are prepared
  // once with SQLITE_PREPARE_PERSISTENT. A statement must not be used by two live Queries.
  Result<Query> Prepare(const char* sql);

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// The single row of `q`, or kNotFound("<what> not found").
template <typename Decode>
auto One(Query& q, Decode decode, const char* what) -> decltype(decode(q)) {
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound(std::string(what) + " not found");
  return decode(q);
}

// Every row of `q`, decoded.
template <typename T>
Result<std::vector<T>> All(Query& q, Result<T> (*decode)(Query&)) {
  std::vector<T> out;
  while (true) {
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    PARLEY_ASSIGN_OR_RETURN(T rec, decode(q));
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace parley::store::sqlite

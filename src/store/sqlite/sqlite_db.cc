#include "store/sqlite/sqlite_db.h"

#include <string>

#include "store/sqlite/page_cache.h"
#include "store/sqlite/wal_gather_vfs.h"

namespace parley::store::sqlite {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(std::string(what) + ": already exists");
  }
  int primary = rc & 0xff;
  // errmsg describes the last failed call on this connection; fall back to the generic text
  // when the code did not come from it (e.g. a bind error remembered by Query).
  const char* msg = (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                          : sqlite3_errstr(rc);
  std::string text = std::string(what) + ": sqlite: " + msg;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Unavailable(std::move(text));
  return Internal(std::move(text));
}

Query::Query(Query&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      sql_(other.sql_),
      param_(other.param_),
      col_(other.col_),
      bind_rc_(other.bind_rc_) {
  other.stmt_ = nullptr;
}

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

std::string Query::What() const {
  // "INSERT INTO messages", "UPDATE outbox", "SELECT … FROM events": enough to locate a
  // failure without ever quoting values.
  std::string_view sql(sql_);
  auto words = [](std::string_view s, int n) {
    size_t cut = 0;
    for (int i = 0; i < n && cut < s.size(); ++i) {
      size_t next = s.find(' ', cut + 1);
      cut = next == std::string_view::npos ? s.size() : next;
    }
    return std::string(s.substr(0, cut));
  };
  if (sql.starts_with("SELECT")) {
    size_t from = sql.find(" FROM ");
    if (from != std::string_view::npos) return "SELECT …" + words(sql.substr(from), 2);
  }
  return words(sql, sql.starts_with("UPDATE") ? 2 : 3);
}

Query& Query::Text(std::string_view v) {
  int rc = sqlite3_bind_text64(stmt_, ++param_, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Blob(std::string_view v) {
  // A null data pointer would bind NULL; an empty string_view may have one, so point at a
  // static byte to store a zero-length blob instead.
  static const char kEmpty = 0;
  const char* data = v.empty() ? &kEmpty : v.data();
  int rc = sqlite3_bind_blob64(stmt_, ++param_, data, v.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Int(int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, ++param_, v);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::OptTime(const std::optional<TimePoint>& t) {
  if (t) return Time(*t);
  int rc = sqlite3_bind_null(stmt_, ++param_);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::OptBlob(const std::string* v) {
  if (v != nullptr) return Blob(*v);
  int rc = sqlite3_bind_null(stmt_, ++param_);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::OptText(const std::string* v) {
  if (v != nullptr) return Text(*v);
  int rc = sqlite3_bind_null(stmt_, ++param_);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Query::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteStatus(nullptr, bind_rc_, What());
  col_ = 0;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(db_, sqlite3_extended_errcode(db_), What());
}

Status Query::Run() {
  PARLEY_ASSIGN_OR_RETURN(bool row, Step());
  (void)row;  // statements run this way return no rows; a stray row is harmless
  return OkStatus();
}

std::string Query::ColText() {
  int c = col_++;
  const unsigned char* p = sqlite3_column_text(stmt_, c);
  int n = sqlite3_column_bytes(stmt_, c);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Query::ColBlob() {
  int c = col_++;
  const void* p = sqlite3_column_blob(stmt_, c);
  int n = sqlite3_column_bytes(stmt_, c);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

int64_t Query::ColInt() { return sqlite3_column_int64(stmt_, col_++); }

std::optional<TimePoint> Query::ColOptTime() {
  if (sqlite3_column_type(stmt_, col_) == SQLITE_NULL) {
    ++col_;
    return std::nullopt;
  }
  return ColTime();
}

std::optional<std::string> Query::ColOptText() {
  if (sqlite3_column_type(stmt_, col_) == SQLITE_NULL) {
    ++col_;
    return std::nullopt;
  }
  return ColText();
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int flags, const char* vfs) {
  // Process-wide settings go in before SQLite initializes; afterwards these are no-ops.
  static const bool configured = [] {
    // No global allocation statistics: they take a process-wide mutex on every allocation.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return InstallPageCache();
  }();
  (void)configured;
  if (vfs != nullptr && std::string_view(vfs) == kWalGatherVfs && !RegisterWalGatherVfs()) {
    return Internal("sqlite: cannot register the WAL gathering VFS");
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(raw, rc, "open database");
    sqlite3_close_v2(raw);  // a handle is returned even on failure
    return s;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(db_, sqlite3_extended_errcode(db_), "exec");
  return OkStatus();
}

Result<Query> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, sqlite3_extended_errcode(db_), "prepare");
    it = cache_.emplace(sql, stmt).first;
  }
  return Query(db_, it->second, sql);
}

}  // namespace parley::store::sqlite

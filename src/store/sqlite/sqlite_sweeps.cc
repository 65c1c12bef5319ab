// The lifecycle sweeps of SqliteAccess (store.h, "lifecycle sweeps"; docs/data-lifecycle.md).
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_access.h"
#include "store/store_util.h"

namespace parley::store::sqlite {

namespace {

// Runs `sql`, a DELETE of at most `limit` rows created before `created_before`, oldest first
// (its two parameters in that order); answers how many rows went.
Result<int> DeleteOldest(Db& db, const char* sql, TimePoint created_before, int limit) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db.Prepare(sql));
  q.Time(created_before).Int(limit);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return static_cast<int>(q.Changes());
}

}  // namespace

// ---- lifecycle sweeps ----

Result<bool> SqliteAccess::IsPending(std::string_view ref) {
  if (ref.starts_with(EventId::kPrefix) && ref.size() > EventId::kPrefix.size() &&
      ref[EventId::kPrefix.size()] == '_') {
    // An event a webhook cursor of its tenant has not passed yet.
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT 1 FROM events e JOIN webhook_cursors c ON c.tenant_id ="
                             " e.tenant_id WHERE e.id = ? AND e.seq > c.after_seq LIMIT 1"));
    q.Text(ref);
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) return true;
  }
  {
    PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT 1 FROM outbox WHERE ref_id = ? LIMIT 1"));
    q.Text(ref);
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) return true;
  }
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT 1 FROM dead_letters WHERE ref_id = ? LIMIT 1"));
  q.Text(ref);
  return q.Step();
}

Result<int> SqliteAccess::SweepInboundDedupe(TimePoint created_before, int limit) {
  return DeleteOldest(db_,
                      "DELETE FROM inbound_dedupe WHERE (tenant_id, connection_id, key_index)"
                      " IN (SELECT tenant_id, connection_id, key_index FROM inbound_dedupe"
                      " WHERE created_at < ? ORDER BY created_at LIMIT ?)",
                      created_before, limit);
}

Result<int> SqliteAccess::SweepPendingStatuses(TimePoint created_before, int limit) {
  return DeleteOldest(db_,
                      "DELETE FROM pending_statuses WHERE seq IN (SELECT seq FROM"
                      " pending_statuses WHERE created_at < ? ORDER BY created_at LIMIT ?)",
                      created_before, limit);
}

Result<int> SqliteAccess::SweepIdempotency(TimePoint created_before, int limit) {
  return DeleteOldest(db_,
                      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM"
                      " idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)",
                      created_before, limit);
}

Result<int> SqliteAccess::SweepDeadLetters(TimePoint failed_before, int limit) {
  // Dead-letter ids are made when the delivery fails, so the id order is the failure order.
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters"
                           " WHERE id < ? AND failed_at < ? ORDER BY id LIMIT ?)"));
  std::string floor = DeadLetterId::Floor(failed_before).str();
  q.Text(floor).Time(failed_before).Int(limit);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return static_cast<int>(q.Changes());
}

namespace {
// Rows looked at per sweep call at most: pending rows are skipped, and a call must end even
// when most old rows are pending.
constexpr int kMaxScan = 10000;
constexpr int kScanPage = 256;
}  // namespace

Result<int> SqliteAccess::SweepEvents(TimePoint created_before, int limit) {
  // seq order is commit order, so created_at rises with it (up to the few milliseconds a
  // write waits for its commit): the scan stops at the first event that is too young.
  int deleted = 0;
  int scanned = 0;
  int64_t after = 0;
  bool done = false;
  while (!done && deleted < limit && scanned < kMaxScan) {
    std::vector<std::pair<int64_t, std::string>> page;
    {
      PARLEY_ASSIGN_OR_RETURN(
          Query q,
          db_.Prepare("SELECT seq, id, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?"));
      q.Int(after).Int(kScanPage);
      while (true) {
        PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        int64_t seq = q.ColInt();
        std::string id = q.ColText();
        if (q.ColTime() >= created_before) break;
        page.emplace_back(seq, std::move(id));
      }
    }
    if (static_cast<int>(page.size()) < kScanPage) done = true;
    for (const auto& [seq, id] : page) {
      after = seq;
      ++scanned;
      if (deleted >= limit) break;
      PARLEY_ASSIGN_OR_RETURN(bool pending, IsPending(id));
      if (pending) continue;
      PARLEY_ASSIGN_OR_RETURN(Query d, db_.Prepare("DELETE FROM events WHERE seq = ?"));
      d.Int(seq);
      PARLEY_RETURN_IF_ERROR(d.Run());
      deleted += static_cast<int>(d.Changes());
    }
  }
  return deleted;
}

Result<int> SqliteAccess::SweepMessages(TimePoint created_before, int limit) {
  // Message ids are made at creation, so `id < floor` is a range scan of the primary key.
  const std::string floor = MessageId::Floor(created_before).str();
  int deleted = 0;
  int scanned = 0;
  std::string after;
  bool done = false;
  while (!done && deleted < limit && scanned < kMaxScan) {
    std::vector<std::pair<std::string, bool>> page;  // (id, may be deleted)
    {
      PARLEY_ASSIGN_OR_RETURN(
          Query q,
          db_.Prepare("SELECT id, status != 'queued' AND created_at < ? AND (connection_id NOT IN"
                      " (SELECT id FROM connections WHERE kind = 'web') OR EXISTS (SELECT 1 FROM"
                      " conversations c WHERE c.id = messages.conversation_id AND"
                      " c.state = 'ended'))"
                      " FROM messages WHERE id > ? AND id < ? ORDER BY id LIMIT ?"));
      q.Time(created_before).Text(after).Text(floor).Int(kScanPage);
      while (true) {
        PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::string id = q.ColText();
        page.emplace_back(std::move(id), q.ColInt() != 0);
      }
    }
    if (static_cast<int>(page.size()) < kScanPage) done = true;
    for (const auto& [id, eligible] : page) {
      after = id;
      ++scanned;
      if (deleted >= limit) break;
      if (!eligible) continue;
      PARLEY_ASSIGN_OR_RETURN(bool pending, IsPending(id));
      if (pending) continue;
      // "msg_X" -> its message.created event "ev_X".
      PARLEY_ASSIGN_OR_RETURN(bool event_pending,
                              IsPending("ev_" + id.substr(MessageId::kPrefix.size() + 1)));
      if (event_pending) continue;
      PARLEY_ASSIGN_OR_RETURN(Query d, db_.Prepare("DELETE FROM messages WHERE id = ?"));
      d.Text(id);
      PARLEY_RETURN_IF_ERROR(d.Run());
      deleted += static_cast<int>(d.Changes());
    }
  }
  return deleted;
}

Result<int> SqliteAccess::SweepEndedConversations(TimePoint ended_before, int limit) {
  std::vector<std::pair<std::string, std::string>> ended;  // (tenant, conversation)
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT tenant_id, id FROM conversations WHERE state = 'ended'"
                             " AND ended_at < ? ORDER BY ended_at LIMIT ?"));
    q.Time(ended_before).Int(limit);
    while (true) {
      PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      std::string tenant(q.ColText());
      ended.emplace_back(std::move(tenant), std::string(q.ColText()));
    }
  }
  for (const auto& [tenant, conversation] : ended) {
    {
      PARLEY_ASSIGN_OR_RETURN(
          Query d, db_.Prepare("DELETE FROM messages WHERE tenant_id = ? AND conversation_id = ?"));
      d.Text(tenant).Text(conversation);
      PARLEY_RETURN_IF_ERROR(d.Run());
    }
    PARLEY_ASSIGN_OR_RETURN(Query d, db_.Prepare("DELETE FROM conversations WHERE id = ?"));
    d.Text(conversation);
    PARLEY_RETURN_IF_ERROR(d.Run());
  }
  return static_cast<int>(ended.size());
}

// ---- the data map (what the lifecycle rules act on) ----

Result<std::vector<TableStats>> SqliteAccess::DataMap() {
  // Each table with the column that dates its rows. Literal SQL per table: Prepare caches by
  // pointer, and the names are ours, never input.
  struct Source {
    const char* table;
    const char* sql;
  };
  static constexpr Source kSources[] = {
      {"tenants", "SELECT count(*), min(created_at) FROM tenants"},
      {"api_keys", "SELECT count(*), min(created_at) FROM api_keys"},
      {"endpoints", "SELECT count(*), min(created_at) FROM endpoints"},
      {"connections", "SELECT count(*), min(created_at) FROM connections"},
      {"customers", "SELECT count(*), min(first_seen) FROM customers"},
      {"conversations", "SELECT count(*), min(started_at) FROM conversations"},
      {"conversations.context",
       "SELECT count(*), min(started_at) FROM conversations WHERE length(context_sealed) > 0"},
      {"conversations.cookies",
       "SELECT count(*), min(started_at) FROM conversations WHERE length(cookies_sealed) > 0"},
      {"conversations.private_data",
       "SELECT count(*), min(started_at) FROM conversations WHERE length(private_sealed) > 0"},
      {"messages", "SELECT count(*), min(created_at) FROM messages"},
      {"events", "SELECT count(*), min(created_at) FROM events"},
      {"inbound_dedupe", "SELECT count(*), min(created_at) FROM inbound_dedupe"},
      {"pending_statuses", "SELECT count(*), min(created_at) FROM pending_statuses"},
      {"inbound_retries", "SELECT count(*), min(created_at) FROM inbound_retries"},
      {"outbox", "SELECT count(*), min(created_at) FROM outbox"},
      {"dead_letters", "SELECT count(*), min(failed_at) FROM dead_letters"},
      {"idempotency_keys", "SELECT count(*), min(created_at) FROM idempotency_keys"},
      {"audit_log", "SELECT count(*), min(at) FROM audit_log"},
      {"attachments", "SELECT count(*), min(created_at) FROM attachments"},
  };
  std::vector<TableStats> out;
  for (const Source& source : kSources) {
    PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare(source.sql));
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Internal("data map: no result");
    TableStats stats;
    stats.table = source.table;
    stats.rows = q.ColInt();
    stats.oldest = q.ColOptTime();
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace parley::store::sqlite

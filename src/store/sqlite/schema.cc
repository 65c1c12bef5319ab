#include "store/sqlite/schema.h"

#include <string>
#include <vector>

namespace parley::store::sqlite {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Never edit a migration that has shipped: append a new one. Timestamps are Unix
// milliseconds; sealed values and wrapped keys are BLOBs. There are no foreign keys on
// purpose: the hot ingest path would pay an index probe per reference, the single writer
// already orders dependent writes, and DeleteTenantData removes rows table by table.
// A seq is never reused after the newest row is deleted: stream cursors and the
// dispatcher rely on seqs only ever growing. outbox uses AUTOINCREMENT for that; events did
// until version 8, which keeps a floor instead (see there).
const Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  wrapped_key BLOB NOT NULL,
  settings_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret_sealed BLOB NOT NULL,
  previous_secret_sealed BLOB NOT NULL,
  previous_secret_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX endpoints_by_tenant ON endpoints (tenant_id, id);

CREATE TABLE connections (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  identity_sealed BLOB NOT NULL,
  identity_index TEXT NOT NULL,
  credentials_sealed BLOB NOT NULL,
  settings_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX connections_by_tenant ON connections (tenant_id, id);
-- One provider identity routes to exactly one connection.
CREATE UNIQUE INDEX connections_by_identity ON connections (kind, identity_index)
  WHERE identity_index <> '';

CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  channel_kind TEXT NOT NULL,
  contact_sealed BLOB NOT NULL,
  contact_index TEXT NOT NULL,
  profile_sealed BLOB NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX customers_by_contact ON customers (tenant_id, channel_kind, contact_index);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT NOT NULL,
  context_sealed BLOB NOT NULL
) STRICT;
-- id last, so FindOpenConversation's ORDER BY id is served by this index too (without it the
-- planner picks conversations_by_state and scans every open conversation of the tenant).
CREATE INDEX conversations_by_customer
  ON conversations (tenant_id, connection_id, customer_id, state, id);
CREATE INDEX conversations_by_tenant ON conversations (tenant_id, id);
CREATE INDEX conversations_by_state ON conversations (tenant_id, state, id);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  direction TEXT NOT NULL,
  body_sealed BLOB NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_conversation ON messages (tenant_id, conversation_id, id);

CREATE TABLE inbound_dedupe (
  tenant_id TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  key_index TEXT NOT NULL,
  message_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, connection_id, key_index)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT,
  type TEXT NOT NULL,
  payload_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_tenant ON events (tenant_id, seq);

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_kind ON outbox (kind, seq);
CREATE INDEX outbox_by_tenant ON outbox (tenant_id);

CREATE TABLE dead_letters (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  target_id TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX dead_letters_by_tenant ON dead_letters (tenant_id, id);

CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response_status INTEGER NOT NULL,
  response_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key_hash)
) STRICT;

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  tenant_id TEXT,
  target TEXT NOT NULL,
  detail_json TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
)sql"},
    // The retention sweeper (docs/data-lifecycle.md): oldest-first scans of the windowed
    // tables, and the "still pending?" checks of events and messages.
    {2, R"sql(
CREATE INDEX inbound_dedupe_by_time ON inbound_dedupe (created_at);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
CREATE INDEX outbox_by_ref ON outbox (ref_id);
CREATE INDEX dead_letters_by_ref ON dead_letters (ref_id);
CREATE INDEX conversations_by_end ON conversations (state, ended_at);
)sql"},
    // Attachments (docs/data-lifecycle.md): bytes in blob storage, this row to find, serve,
    // expire and erase them; and the per-customer lookups erasure and export need.
    {3, R"sql(
CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT,
  conversation_id TEXT,
  blob_name TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  meta_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_by_expiry ON attachments (expires_at);
CREATE INDEX attachments_by_customer ON attachments (tenant_id, customer_id);
CREATE INDEX conversations_of_customer ON conversations (tenant_id, customer_id);
)sql"},
    // The conversation's other ephemeral records (DESIGN.md §6), cleared with its context.
    {4, R"sql(
ALTER TABLE conversations ADD COLUMN cookies_sealed BLOB NOT NULL DEFAULT X'';
ALTER TABLE conversations ADD COLUMN private_sealed BLOB NOT NULL DEFAULT X'';
)sql"},
    // Webhooks are delivered from a cursor per endpoint over the events (store.h,
    // WebhookCursorRecord) instead of an outbox row per event and endpoint. Existing
    // endpoints start after the last event: the outbox rows already queued still go out.
    {5, R"sql(
CREATE TABLE webhook_cursors (
  endpoint_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  after_seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_cursors_by_tenant ON webhook_cursors (tenant_id);
INSERT INTO webhook_cursors (endpoint_id, tenant_id, after_seq, attempts, next_attempt_at,
                             last_error)
  SELECT id, tenant_id, (SELECT coalesce(max(seq), 0) FROM events), 0, 0, '' FROM endpoints;
)sql"},
    // Provider statuses that arrived before the send's own write recorded the provider's id
    // (store.h, PendingStatusRecord).
    {6, R"sql(
CREATE TABLE pending_statuses (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  key_index TEXT NOT NULL,
  status_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_statuses_by_key ON pending_statuses (tenant_id, connection_id, key_index);
CREATE INDEX pending_statuses_by_time ON pending_statuses (created_at);
)sql"},
    // Webhook calls kept for another try while their media cannot be fetched (store.h,
    // InboundRetryRecord).
    {7, R"sql(
CREATE TABLE inbound_retries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  request_sealed BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
) STRICT;
CREATE INDEX inbound_retries_by_due ON inbound_retries (next_attempt_at);
CREATE INDEX inbound_retries_by_tenant ON inbound_retries (tenant_id);
)sql"},
    // Event seqs without AUTOINCREMENT, which rewrote its sqlite_sequence row on every
    // insert. The writer assigns each event the next seq above both the table's highest and
    // `events_seq_floor`; the trigger raises the floor past any deleted event above it, so a
    // seq is still never handed out twice (webhook cursors and stream resumes rely on it),
    // even after the newest events are deleted and the store reopens.
    {8, R"sql(
CREATE TABLE store_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO store_counters (name, value)
  SELECT 'events_seq_floor',
         max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
             coalesce((SELECT max(seq) FROM events), 0));
ALTER TABLE events RENAME TO events_v7;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT,
  type TEXT NOT NULL,
  payload_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
INSERT INTO events (seq, id, tenant_id, conversation_id, type, payload_sealed, created_at)
  SELECT seq, id, tenant_id, conversation_id, type, payload_sealed, created_at FROM events_v7;
DROP TABLE events_v7;
CREATE INDEX events_by_tenant ON events (tenant_id, seq);
CREATE TRIGGER events_seq_floor AFTER DELETE ON events
  WHEN OLD.seq > (SELECT value FROM store_counters WHERE name = 'events_seq_floor')
BEGIN
  UPDATE store_counters SET value = OLD.seq WHERE name = 'events_seq_floor';
END;
)sql"},
};

}  // namespace

int LatestSchemaVersion() { return std::end(kMigrations)[-1].version; }

Result<int> CurrentSchemaVersion(Db& db) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Internal("schema_migrations: no result");
  return static_cast<int>(q.ColInt());
}

Status Migrate(Db& db, const Clock& clock, int up_to) {
  PARLEY_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT"));
  PARLEY_ASSIGN_OR_RETURN(int current, CurrentSchemaVersion(db));
  if (current > LatestSchemaVersion()) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this binary (" +
                              std::to_string(LatestSchemaVersion()) + "); upgrade parley");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    if (up_to > 0 && m.version > up_to) break;
    PARLEY_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = db.Exec(m.sql);
    if (s.ok()) {
      auto q = db.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      if (!q.ok()) {
        s = q.status();
      } else {
        q->Int(m.version).Time(clock.Now());
        s = q->Run();
      }
    }
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return Status(s.code(), "migration " + std::to_string(m.version) + ": " + s.message());
    }
  }
  return OkStatus();
}

}  // namespace parley::store::sqlite

// The Writer half of SqliteAccess. Runs on the single writer thread inside a batch
// transaction, each caller's closure under its own savepoint; statements are cached per
// connection so the ingest path never re-prepares.
#include <limits>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_access.h"
#include "store/store_util.h"

namespace parley::store::sqlite {

Status SqliteAccess::RunExpectingRow(Query& q, const char* what) {
  PARLEY_RETURN_IF_ERROR(q.Run());
  if (q.Changes() == 0) return NotFound(std::string(what) + " not found");
  return OkStatus();
}

Status SqliteAccess::InsertTenant(const TenantRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO tenants (id, name, wrapped_key, settings_json, created_at)"
                           " VALUES (?, ?, ?, ?, ?)"));
  q.Text(r.id.str()).Text(r.name).Blob(r.wrapped_key).Text(r.settings_json).Time(r.created_at);
  return q.Run();
}

Status SqliteAccess::UpdateTenantSettings(const TenantId& id, std::string_view settings_json) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE tenants SET settings_json = ? WHERE id = ?"));
  q.Text(settings_json).Text(id.str());
  return RunExpectingRow(q, "tenant");
}

Status SqliteAccess::ClearTenantKey(const TenantId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE tenants SET wrapped_key = X'' WHERE id = ?"));
  q.Text(id.str());
  return RunExpectingRow(q, "tenant");
}

Status SqliteAccess::DeleteTenantData(const TenantId& id) {
  {
    PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT 1 FROM tenants WHERE id = ?"));
    q.Text(id.str());
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("tenant not found");
  }
  // Every table with a tenant_id; keep in step with schema.cc (the contract suite checks
  // that nothing of the tenant survives).
  static const char* const kDeletes[] = {
      "DELETE FROM api_keys WHERE tenant_id = ?",
      "DELETE FROM endpoints WHERE tenant_id = ?",
      "DELETE FROM connections WHERE tenant_id = ?",
      "DELETE FROM customers WHERE tenant_id = ?",
      "DELETE FROM conversations WHERE tenant_id = ?",
      "DELETE FROM messages WHERE tenant_id = ?",
      "DELETE FROM inbound_dedupe WHERE tenant_id = ?",
      "DELETE FROM pending_statuses WHERE tenant_id = ?",
      "DELETE FROM inbound_retries WHERE tenant_id = ?",
      "DELETE FROM events WHERE tenant_id = ?",
      "DELETE FROM outbox WHERE tenant_id = ?",
      "DELETE FROM webhook_cursors WHERE tenant_id = ?",
      "DELETE FROM dead_letters WHERE tenant_id = ?",
      "DELETE FROM idempotency_keys WHERE tenant_id = ?",
      "DELETE FROM audit_log WHERE tenant_id = ?",
      "DELETE FROM attachments WHERE tenant_id = ?",
      "DELETE FROM tenants WHERE id = ?",
  };
  for (const char* sql : kDeletes) {
    PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare(sql));
    q.Text(id.str());
    PARLEY_RETURN_IF_ERROR(q.Run());
  }
  return OkStatus();
}

Status SqliteAccess::InsertApiKey(const ApiKeyRecord& r) {
  // Scopes are stored space-separated, so a scope can be neither empty nor contain a space.
  std::string scopes;
  for (const std::string& s : r.scopes) {
    if (s.empty() || s.find(' ') != std::string::npos) {
      return InvalidArgument("api key scope must be non-empty and contain no spaces");
    }
    if (!scopes.empty()) scopes += ' ';
    scopes += s;
  }
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO api_keys (id, tenant_id, name, secret_hash, scopes,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.name)
      .Text(r.secret_hash)
      .Text(scopes)
      .Time(r.created_at);
  return q.Run();
}

Status SqliteAccess::DeleteApiKey(const TenantId& tenant, const ApiKeyId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM api_keys WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "api key");
}

Status SqliteAccess::InsertEndpoint(const EndpointRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO endpoints (id, tenant_id, url, secret_sealed,"
                           " previous_secret_sealed, previous_secret_expires_at, created_at,"
                           " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.url)
      .Blob(r.secret_sealed)
      .Blob(r.previous_secret_sealed)
      .OptTime(r.previous_secret_expires_at)
      .Time(r.created_at)
      .Time(r.updated_at);
  PARLEY_RETURN_IF_ERROR(q.Run());
  PARLEY_ASSIGN_OR_RETURN(
      Query c, db_.Prepare("INSERT INTO webhook_cursors (endpoint_id, tenant_id, after_seq,"
                           " attempts, next_attempt_at, last_error) VALUES (?, ?, (SELECT"
                           " coalesce(max(seq), 0) FROM events WHERE tenant_id = ?), 0, 0, '')"));
  c.Text(r.id.str()).Text(r.tenant.str()).Text(r.tenant.str());
  return c.Run();
}

Status SqliteAccess::UpdateEndpoint(const EndpointRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE endpoints SET url = ?, secret_sealed = ?,"
                                      " previous_secret_sealed = ?, previous_secret_expires_at = ?,"
                                      " updated_at = ? WHERE id = ? AND tenant_id = ?"));
  q.Text(r.url)
      .Blob(r.secret_sealed)
      .Blob(r.previous_secret_sealed)
      .OptTime(r.previous_secret_expires_at)
      .Time(r.updated_at)
      .Text(r.id.str())
      .Text(r.tenant.str());
  return RunExpectingRow(q, "endpoint");
}

Status SqliteAccess::DeleteEndpoint(const TenantId& tenant, const EndpointId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM endpoints WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  PARLEY_RETURN_IF_ERROR(RunExpectingRow(q, "endpoint"));
  PARLEY_ASSIGN_OR_RETURN(
      Query c, db_.Prepare("DELETE FROM webhook_cursors WHERE endpoint_id = ? AND tenant_id = ?"));
  c.Text(id.str()).Text(tenant.str());
  return c.Run();
}

Status SqliteAccess::AdvanceWebhookCursor(const TenantId& tenant, const EndpointId& endpoint,
                                          int64_t from_seq, int64_t to_seq) {
  if (to_seq < from_seq) return InvalidArgument("a webhook cursor only moves forward");
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE webhook_cursors SET after_seq = ?, attempts = 0,"
                           " next_attempt_at = 0, last_error = '' WHERE endpoint_id = ? AND"
                           " tenant_id = ? AND after_seq = ?"));
  q.Int(to_seq).Text(endpoint.str()).Text(tenant.str()).Int(from_seq);
  return RunExpectingRow(q, "webhook cursor");
}

Status SqliteAccess::DelayWebhookCursor(const TenantId& tenant, const EndpointId& endpoint,
                                        int64_t at_seq, int attempts, TimePoint next_attempt_at,
                                        std::string_view last_error) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE webhook_cursors SET attempts = ?, next_attempt_at = ?,"
                           " last_error = ? WHERE endpoint_id = ? AND tenant_id = ? AND"
                           " after_seq = ?"));
  q.Int(attempts)
      .Time(next_attempt_at)
      .Text(last_error)
      .Text(endpoint.str())
      .Text(tenant.str())
      .Int(at_seq);
  return RunExpectingRow(q, "webhook cursor");
}

Status SqliteAccess::InsertConnection(const ConnectionRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO connections (id, tenant_id, kind, name, identity_sealed,"
                           " identity_index, credentials_sealed, settings_json, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.kind)
      .Text(r.name)
      .Blob(r.identity_sealed)
      .Text(r.identity_index)
      .Blob(r.credentials_sealed)
      .Text(r.settings_json)
      .Time(r.created_at);
  return q.Run();
}

Status SqliteAccess::DeleteConnection(const TenantId& tenant, const ConnectionId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM connections WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "connection");
}

Status SqliteAccess::InsertCustomer(const CustomerRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO customers (id, tenant_id, channel_kind, contact_sealed,"
                           " contact_index, profile_sealed, first_seen, last_seen)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.channel_kind)
      .Blob(r.contact_sealed)
      .Text(r.contact_index)
      .Blob(r.profile_sealed)
      .Time(r.first_seen)
      .Time(r.last_seen);
  return q.Run();
}

Status SqliteAccess::TouchCustomer(const TenantId& tenant, const CustomerId& id, TimePoint seen) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE customers SET last_seen = ? WHERE id = ? AND tenant_id = ?"));
  q.Time(seen).Text(id.str()).Text(tenant.str());
  if (cache_ == nullptr) return RunExpectingRow(q, "customer");
  cache_->ExpectCustomerTouch(seen);
  Status s = RunExpectingRow(q, "customer");
  cache_->EndExpected();
  return s;
}

Status SqliteAccess::DeleteCustomer(const TenantId& tenant, const CustomerId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM customers WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "customer");
}

Status SqliteAccess::InsertConversation(const ConversationRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("INSERT INTO conversations (id, tenant_id, connection_id, customer_id, state,"
                  " started_at, last_activity_at, ended_at, end_reason, context_sealed,"
                  " cookies_sealed, private_sealed)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.connection.str())
      .Text(r.customer.str())
      .Text(ConversationStateName(r.state))
      .Time(r.started_at)
      .Time(r.last_activity_at)
      .OptTime(r.ended_at)
      .Text(r.end_reason)
      .Blob(r.context_sealed)
      .Blob(r.cookies_sealed)
      .Blob(r.private_sealed);
  if (cache_ == nullptr) return q.Run();
  cache_->ExpectConversationInsert(
      LookupCache::ConversationKey(r.tenant, r.connection, r.customer));
  Status s = q.Run();
  cache_->EndExpected();
  return s;
}

Status SqliteAccess::TouchConversation(const TenantId& tenant, const ConversationId& id,
                                       TimePoint at) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE conversations SET last_activity_at = ?"
                                               " WHERE id = ? AND tenant_id = ?"));
  q.Time(at).Text(id.str()).Text(tenant.str());
  if (cache_ == nullptr) return RunExpectingRow(q, "conversation");
  cache_->ExpectConversationTouch(at);
  Status s = RunExpectingRow(q, "conversation");
  cache_->EndExpected();
  return s;
}

Status SqliteAccess::SetConversationEphemeral(const TenantId& tenant, const ConversationId& id,
                                              const ConversationEphemeral& data) {
  // coalesce keeps a column whose value is not given (bound as NULL).
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE conversations SET context_sealed = coalesce(?, context_sealed),"
                           " cookies_sealed = coalesce(?, cookies_sealed),"
                           " private_sealed = coalesce(?, private_sealed)"
                           " WHERE id = ? AND tenant_id = ? AND state = 'open'"));
  q.OptBlob(data.context_sealed ? &*data.context_sealed : nullptr)
      .OptBlob(data.cookies_sealed ? &*data.cookies_sealed : nullptr)
      .OptBlob(data.private_sealed ? &*data.private_sealed : nullptr)
      .Text(id.str())
      .Text(tenant.str());
  PARLEY_RETURN_IF_ERROR(q.Run());
  if (q.Changes() == 1) return OkStatus();
  PARLEY_RETURN_IF_ERROR(GetConversation(tenant, id).status());  // kNotFound
  return FailedPrecondition("conversation has ended");
}

Status SqliteAccess::EndConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                                     std::string_view reason) {
  return EndOpenConversation(tenant, id, at, reason, std::nullopt);
}

Status SqliteAccess::EndIdleConversation(const TenantId& tenant, const ConversationId& id,
                                         TimePoint at, TimePoint active_before) {
  return EndOpenConversation(tenant, id, at, "inactivity", active_before);
}

Status SqliteAccess::EndOpenConversation(const TenantId& tenant, const ConversationId& id,
                                         TimePoint at, std::string_view reason,
                                         std::optional<TimePoint> active_before) {
  // DESIGN §6: the chat context, cookie data and private data live only as long as the
  // conversation, so ending it also drops them.
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("UPDATE conversations SET state = 'ended', ended_at = ?,"
                             " end_reason = ?, context_sealed = X'', cookies_sealed = X'',"
                             " private_sealed = X''"
                             " WHERE id = ? AND tenant_id = ? AND state = 'open'"
                             " AND last_activity_at < ?"));
    q.Time(at).Text(reason).Text(id.str()).Text(tenant.str());
    q.Int(active_before ? ToUnixMillis(*active_before) : std::numeric_limits<int64_t>::max());
    PARLEY_RETURN_IF_ERROR(q.Run());
    if (q.Changes() == 1) return OkStatus();
  }
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT state FROM conversations WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  PARLEY_ASSIGN_OR_RETURN(bool exists, q.Step());
  if (!exists) return NotFound("conversation not found");
  if (q.ColText() == "open") {
    return FailedPrecondition("conversation active again since it was found idle");
  }
  return FailedPrecondition("conversation already ended");
}

Status SqliteAccess::InsertMessage(const MessageRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO messages (id, tenant_id, conversation_id, connection_id,"
                           " direction, body_sealed, status, created_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(r.conversation.str())
      .Text(r.connection.str())
      .Text(DirectionName(r.direction))
      .Blob(r.body_sealed)
      .Text(r.status)
      .Time(r.created_at)
      .Time(r.updated_at);
  return q.Run();
}

Status SqliteAccess::UpdateMessageStatus(const TenantId& tenant, const MessageId& id,
                                         std::string_view status, TimePoint at) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE messages SET status = ?, updated_at = ?"
                                               " WHERE id = ? AND tenant_id = ?"));
  q.Text(status).Time(at).Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "message");
}

Status SqliteAccess::DeleteMessage(const TenantId& tenant, const MessageId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM messages WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "message");
}

Result<std::optional<MessageId>> SqliteAccess::RecordInboundOnce(const TenantId& tenant,
                                                                 const ConnectionId& connection,
                                                                 std::string_view key_index,
                                                                 const MessageId& message,
                                                                 TimePoint at) {
  // Insert first: a new provider message is the common case, and it costs one statement.
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO inbound_dedupe (tenant_id, connection_id, key_index,"
                             " message_id, created_at) VALUES (?, ?, ?, ?, ?)"
                             " ON CONFLICT DO NOTHING"));
    q.Text(tenant.str()).Text(connection.str()).Text(key_index).Text(message.str()).Time(at);
    PARLEY_RETURN_IF_ERROR(q.Run());
    if (q.Changes() == 1) return std::optional<MessageId>();
  }
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT message_id FROM inbound_dedupe WHERE tenant_id = ?"
                                      " AND connection_id = ? AND key_index = ?"));
  q.Text(tenant.str()).Text(connection.str()).Text(key_index);
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Internal("inbound dedupe: conflicting row vanished");
  return std::optional<MessageId>(MessageId::FromTrusted(q.ColText()));
}

Result<std::optional<MessageId>> SqliteAccess::FindInboundKey(const TenantId& tenant,
                                                              const ConnectionId& connection,
                                                              std::string_view key_index) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT message_id FROM inbound_dedupe WHERE tenant_id = ?"
                                      " AND connection_id = ? AND key_index = ?"));
  q.Text(tenant.str()).Text(connection.str()).Text(key_index);
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<MessageId>();
  return std::optional<MessageId>(MessageId::FromTrusted(q.ColText()));
}

Result<int64_t> SqliteAccess::InsertInboundRetry(const InboundRetryRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO inbound_retries (tenant_id, connection_id, request_sealed,"
                           " attempts, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)"));
  q.Text(r.tenant.str())
      .Text(r.connection.str())
      .Blob(r.request_sealed)
      .Int(r.attempts)
      .Time(r.created_at)
      .Time(r.next_attempt_at);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return q.LastInsertRowid();
}

Status SqliteAccess::RescheduleInboundRetry(int64_t seq, int attempts, TimePoint next_attempt_at) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE inbound_retries SET attempts = ?, next_attempt_at = ?"
                                      " WHERE seq = ?"));
  q.Int(attempts).Time(next_attempt_at).Int(seq);
  return RunExpectingRow(q, "inbound retry");
}

Status SqliteAccess::DeleteInboundRetry(int64_t seq) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM inbound_retries WHERE seq = ?"));
  q.Int(seq);
  return q.Run();
}

Result<bool> SqliteAccess::InsertPendingStatus(const PendingStatusRecord& r, int max_per_key) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO pending_statuses (tenant_id, connection_id, key_index,"
                           " status_sealed, created_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE"
                           " (SELECT count(*) FROM pending_statuses WHERE tenant_id = ?1 AND"
                           " connection_id = ?2 AND key_index = ?3) < ?6"));
  q.Text(r.tenant.str())
      .Text(r.connection.str())
      .Text(r.key_index)
      .Blob(r.status_sealed)
      .Time(r.created_at)
      .Int(max_per_key);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return q.Changes() == 1;
}

Result<std::vector<PendingStatusRecord>> SqliteAccess::TakePendingStatuses(
    const TenantId& tenant, const ConnectionId& connection, std::string_view key_index) {
  std::vector<PendingStatusRecord> taken;
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q,
        db_.Prepare("SELECT status_sealed, created_at FROM pending_statuses WHERE"
                    " tenant_id = ? AND connection_id = ? AND key_index = ? ORDER BY seq"));
    q.Text(tenant.str()).Text(connection.str()).Text(key_index);
    while (true) {
      PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      PendingStatusRecord r;
      r.tenant = tenant;
      r.connection = connection;
      r.key_index = std::string(key_index);
      r.status_sealed = q.ColBlob();
      r.created_at = q.ColTime();
      taken.push_back(std::move(r));
    }
  }
  if (taken.empty()) return taken;
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM pending_statuses WHERE tenant_id = ? AND"
                                      " connection_id = ? AND key_index = ?"));
  q.Text(tenant.str()).Text(connection.str()).Text(key_index);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return taken;
}

Result<int64_t> SqliteAccess::InsertEvent(const EventRecord& r) {
  if (last_event_seq_ < 0) return Internal("sqlite: events are inserted by the writer only");
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO events (seq, id, tenant_id, conversation_id, type,"
                           " payload_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  const int64_t seq = last_event_seq_ + 1;
  q.Int(seq)
      .Text(r.id.str())
      .Text(r.tenant.str())
      .OptText(r.conversation ? &r.conversation->str() : nullptr)
      .Text(r.type)
      .Blob(r.payload_sealed)
      .Time(r.created_at);
  PARLEY_RETURN_IF_ERROR(q.Run());
  last_event_seq_ = seq;
  if (recent_ != nullptr) recent_->Stage(r, seq);
  return seq;
}

Result<int64_t> SqliteAccess::InsertOutbox(const OutboxRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO outbox (kind, tenant_id, target_id, ref_id,"
                           " conversation_id, attempts, created_at, next_attempt_at, last_error)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(OutboxKindName(r.kind))
      .Text(r.tenant.str())
      .Text(r.target_id)
      .Text(r.ref_id)
      .Text(r.conversation_id)
      .Int(r.attempts)
      .Time(r.created_at)
      .Time(r.next_attempt_at)
      .Text(r.last_error);
  PARLEY_RETURN_IF_ERROR(q.Run());
  return q.LastInsertRowid();
}

Status SqliteAccess::DeleteOutbox(const std::vector<int64_t>& seqs) {
  // Seqs already gone are skipped: deleting a delivered row twice is harmless.
  for (int64_t seq : seqs) {
    PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM outbox WHERE seq = ?"));
    q.Int(seq);
    PARLEY_RETURN_IF_ERROR(q.Run());
  }
  return OkStatus();
}

Status SqliteAccess::RescheduleOutbox(int64_t seq, int attempts, TimePoint next_attempt_at,
                                      std::string_view last_error) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?"
                           " WHERE seq = ?"));
  q.Int(attempts).Time(next_attempt_at).Text(last_error).Int(seq);
  return RunExpectingRow(q, "outbox row");
}

Status SqliteAccess::InsertDeadLetter(const DeadLetterRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO dead_letters (id, tenant_id, kind, target_id, ref_id,"
                           " conversation_id, attempts, last_error, created_at, failed_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .Text(OutboxKindName(r.kind))
      .Text(r.target_id)
      .Text(r.ref_id)
      .Text(r.conversation_id)
      .Int(r.attempts)
      .Text(r.last_error)
      .Time(r.created_at)
      .Time(r.failed_at);
  return q.Run();
}

Status SqliteAccess::DeleteDeadLetter(const TenantId& tenant, const DeadLetterId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM dead_letters WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "dead letter");
}

Status SqliteAccess::InsertIdempotency(const IdempotencyRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO idempotency_keys (tenant_id, key_hash, request_hash,"
                           " response_status, response_sealed, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)"));
  q.Text(r.tenant.str())
      .Text(r.key_hash)
      .Text(r.request_hash)
      .Int(r.response_status)
      .Blob(r.response_sealed)
      .Time(r.created_at);
  return q.Run();
}

Status SqliteAccess::InsertAudit(const AuditRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO audit_log (id, at, actor, action, tenant_id, target,"
                           " detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  q.Text(r.id.str())
      .Time(r.at)
      .Text(r.actor)
      .Text(r.action)
      .OptText(r.tenant ? &r.tenant->str() : nullptr)
      .Text(r.target)
      .Text(r.detail_json);
  return q.Run();
}

}  // namespace parley::store::sqlite

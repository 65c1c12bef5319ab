// The Reader half of SqliteAccess. Every tenant-scoped statement filters on tenant_id, so
// another tenant's id is indistinguishable from a missing one.
#include <string>
#include <vector>

#include "store/sqlite/sqlite_access.h"
#include "store/store_util.h"

namespace parley::store::sqlite {

namespace {

// Column lists, in the order the Read* decoders consume them.
#define TENANT_COLS "id, name, wrapped_key, settings_json, created_at"
#define API_KEY_COLS "id, tenant_id, name, secret_hash, scopes, created_at"
#define ENDPOINT_COLS                                                                       \
  "id, tenant_id, url, secret_sealed, previous_secret_sealed, previous_secret_expires_at, " \
  "created_at, updated_at"
#define CONNECTION_COLS                                                              \
  "id, tenant_id, kind, name, identity_sealed, identity_index, credentials_sealed, " \
  "settings_json, created_at"
#define CUSTOMER_COLS                                                                        \
  "id, tenant_id, channel_kind, contact_sealed, contact_index, profile_sealed, first_seen, " \
  "last_seen"
#define CONVERSATION_COLS                                                                      \
  "id, tenant_id, connection_id, customer_id, state, started_at, last_activity_at, ended_at, " \
  "end_reason, context_sealed, cookies_sealed, private_sealed"
#define MESSAGE_COLS                                                                            \
  "id, tenant_id, conversation_id, connection_id, direction, body_sealed, status, created_at, " \
  "updated_at"
#define EVENT_COLS "seq, id, tenant_id, conversation_id, type, payload_sealed, created_at"
#define OUTBOX_COLS                                                                  \
  "seq, kind, tenant_id, target_id, ref_id, conversation_id, attempts, created_at, " \
  "next_attempt_at, last_error"
#define DEAD_LETTER_COLS                                                                        \
  "id, tenant_id, kind, target_id, ref_id, conversation_id, attempts, last_error, created_at, " \
  "failed_at"
#define IDEMPOTENCY_COLS \
  "tenant_id, key_hash, request_hash, response_status, response_sealed, created_at"
#define AUDIT_COLS "id, at, actor, action, tenant_id, target, detail_json"

// Descending cursors compare with `id < ?`; ids are lower-case ASCII, so "~" sorts after every
// id and stands for "from the newest".
constexpr std::string_view kAfterNewest = "~";

std::vector<std::string> SplitScopes(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find(' ', start);
    if (end == std::string::npos) end = joined.size();
    if (end > start) out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<TenantRecord> ReadTenant(Query& q) {
  TenantRecord r;
  r.id = TenantId::FromTrusted(q.ColText());
  r.name = q.ColText();
  r.wrapped_key = q.ColBlob();
  r.settings_json = q.ColText();
  r.created_at = q.ColTime();
  return r;
}

Result<ApiKeyRecord> ReadApiKey(Query& q) {
  ApiKeyRecord r;
  r.id = ApiKeyId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.name = q.ColText();
  r.secret_hash = q.ColText();
  r.scopes = SplitScopes(q.ColText());
  r.created_at = q.ColTime();
  return r;
}

Result<EndpointRecord> ReadEndpoint(Query& q) {
  EndpointRecord r;
  r.id = EndpointId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.url = q.ColText();
  r.secret_sealed = q.ColBlob();
  r.previous_secret_sealed = q.ColBlob();
  r.previous_secret_expires_at = q.ColOptTime();
  r.created_at = q.ColTime();
  r.updated_at = q.ColTime();
  return r;
}

Result<ConnectionRecord> ReadConnection(Query& q) {
  ConnectionRecord r;
  r.id = ConnectionId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.kind = q.ColText();
  r.name = q.ColText();
  r.identity_sealed = q.ColBlob();
  r.identity_index = q.ColText();
  r.credentials_sealed = q.ColBlob();
  r.settings_json = q.ColText();
  r.created_at = q.ColTime();
  return r;
}

Result<CustomerRecord> ReadCustomer(Query& q) {
  CustomerRecord r;
  r.id = CustomerId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.channel_kind = q.ColText();
  r.contact_sealed = q.ColBlob();
  r.contact_index = q.ColText();
  r.profile_sealed = q.ColBlob();
  r.first_seen = q.ColTime();
  r.last_seen = q.ColTime();
  return r;
}

Result<ConversationRecord> ReadConversation(Query& q) {
  ConversationRecord r;
  r.id = ConversationId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.connection = ConnectionId::FromTrusted(q.ColText());
  r.customer = CustomerId::FromTrusted(q.ColText());
  PARLEY_ASSIGN_OR_RETURN(r.state, ParseConversationState(q.ColText()));
  r.started_at = q.ColTime();
  r.last_activity_at = q.ColTime();
  r.ended_at = q.ColOptTime();
  r.end_reason = q.ColText();
  r.context_sealed = q.ColBlob();
  r.cookies_sealed = q.ColBlob();
  r.private_sealed = q.ColBlob();
  return r;
}

Result<MessageRecord> ReadMessage(Query& q) {
  MessageRecord r;
  r.id = MessageId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.conversation = ConversationId::FromTrusted(q.ColText());
  r.connection = ConnectionId::FromTrusted(q.ColText());
  PARLEY_ASSIGN_OR_RETURN(r.direction, ParseDirection(q.ColText()));
  r.body_sealed = q.ColBlob();
  r.status = q.ColText();
  r.created_at = q.ColTime();
  r.updated_at = q.ColTime();
  return r;
}

Result<EventRecord> ReadEvent(Query& q) {
  EventRecord r;
  r.seq = q.ColInt();
  r.id = EventId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  if (auto cv = q.ColOptText()) r.conversation = ConversationId::FromTrusted(std::move(*cv));
  r.type = q.ColText();
  r.payload_sealed = q.ColBlob();
  r.created_at = q.ColTime();
  return r;
}

Result<OutboxRecord> ReadOutbox(Query& q) {
  OutboxRecord r;
  r.seq = q.ColInt();
  PARLEY_ASSIGN_OR_RETURN(r.kind, ParseOutboxKind(q.ColText()));
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.target_id = q.ColText();
  r.ref_id = q.ColText();
  r.conversation_id = q.ColText();
  r.attempts = static_cast<int>(q.ColInt());
  r.created_at = q.ColTime();
  r.next_attempt_at = q.ColTime();
  r.last_error = q.ColText();
  return r;
}

Result<DeadLetterRecord> ReadDeadLetter(Query& q) {
  DeadLetterRecord r;
  r.id = DeadLetterId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  PARLEY_ASSIGN_OR_RETURN(r.kind, ParseOutboxKind(q.ColText()));
  r.target_id = q.ColText();
  r.ref_id = q.ColText();
  r.conversation_id = q.ColText();
  r.attempts = static_cast<int>(q.ColInt());
  r.last_error = q.ColText();
  r.created_at = q.ColTime();
  r.failed_at = q.ColTime();
  return r;
}

Result<IdempotencyRecord> ReadIdempotency(Query& q) {
  IdempotencyRecord r;
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.key_hash = q.ColText();
  r.request_hash = q.ColText();
  r.response_status = static_cast<int>(q.ColInt());
  r.response_sealed = q.ColBlob();
  r.created_at = q.ColTime();
  return r;
}

Result<AuditRecord> ReadAudit(Query& q) {
  AuditRecord r;
  r.id = AuditId::FromTrusted(q.ColText());
  r.at = q.ColTime();
  r.actor = q.ColText();
  r.action = q.ColText();
  if (auto t = q.ColOptText()) r.tenant = TenantId::FromTrusted(std::move(*t));
  r.target = q.ColText();
  r.detail_json = q.ColText();
  return r;
}

}  // namespace

Result<TenantRecord> SqliteAccess::GetTenant(const TenantId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " TENANT_COLS " FROM tenants WHERE id = ?"));
  q.Text(id.str());
  return One(q, ReadTenant, "tenant");
}

Result<std::vector<TenantRecord>> SqliteAccess::ListTenants(const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidatePage<TenantId>(page));
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " TENANT_COLS " FROM tenants WHERE id > ? ORDER BY id LIMIT ?"));
  q.Text(page.after).Int(page.limit);
  return All(q, ReadTenant);
}

Result<ApiKeyRecord> SqliteAccess::GetApiKey(const ApiKeyId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " API_KEY_COLS " FROM api_keys WHERE id = ?"));
  q.Text(id.str());
  return One(q, ReadApiKey, "api key");
}

Result<std::vector<ApiKeyRecord>> SqliteAccess::ListApiKeys(const TenantId& tenant) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " API_KEY_COLS
                                               " FROM api_keys WHERE tenant_id = ? ORDER BY id"));
  q.Text(tenant.str());
  return All(q, ReadApiKey);
}

Result<EndpointRecord> SqliteAccess::GetEndpoint(const TenantId& tenant, const EndpointId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " ENDPOINT_COLS
                                               " FROM endpoints WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadEndpoint, "endpoint");
}

Result<std::vector<EndpointRecord>> SqliteAccess::ListEndpoints(const TenantId& tenant) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " ENDPOINT_COLS
                                               " FROM endpoints WHERE tenant_id = ? ORDER BY id"));
  q.Text(tenant.str());
  return All(q, ReadEndpoint);
}

Result<ConnectionRecord> SqliteAccess::GetConnection(const TenantId& tenant,
                                                     const ConnectionId& id) {
  if (cache_ == nullptr) {
    PARLEY_ASSIGN_OR_RETURN(
        Query q,
        db_.Prepare("SELECT " CONNECTION_COLS " FROM connections WHERE id = ? AND tenant_id = ?"));
    q.Text(id.str()).Text(tenant.str());
    return One(q, ReadConnection, "connection");
  }
  if (const ConnectionRecord* hit = cache_->FindConnection(tenant, id)) {
    cache_->CountHit();
    return *hit;
  }
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT rowid, " CONNECTION_COLS
                                               " FROM connections WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("connection not found");
  int64_t rowid = q.ColInt();
  PARLEY_ASSIGN_OR_RETURN(ConnectionRecord found, ReadConnection(q));
  cache_->PutConnection(rowid, found);
  return found;
}

Result<ConnectionRecord> SqliteAccess::GetConnectionById(const ConnectionId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " CONNECTION_COLS " FROM connections WHERE id = ?"));
  q.Text(id.str());
  return One(q, ReadConnection, "connection");
}

Result<ConnectionRecord> SqliteAccess::FindConnectionByIdentity(std::string_view kind,
                                                                std::string_view identity_index) {
  // An empty index means "no identity" and must never match.
  if (identity_index.empty()) return NotFound("connection not found");
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " CONNECTION_COLS
                                      " FROM connections WHERE kind = ? AND identity_index = ?"
                                      " AND identity_index <> ''"));
  q.Text(kind).Text(identity_index);
  return One(q, ReadConnection, "connection");
}

Result<std::vector<ConnectionRecord>> SqliteAccess::ListConnections(const TenantId& tenant) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT " CONNECTION_COLS " FROM connections WHERE tenant_id = ? ORDER BY id"));
  q.Text(tenant.str());
  return All(q, ReadConnection);
}

Result<CustomerRecord> SqliteAccess::GetCustomer(const TenantId& tenant, const CustomerId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " CUSTOMER_COLS
                                               " FROM customers WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadCustomer, "customer");
}

Result<CustomerRecord> SqliteAccess::FindCustomerByContact(const TenantId& tenant,
                                                           std::string_view channel_kind,
                                                           std::string_view contact_index) {
  // The writer's cache (lookup_cache.h) keeps the row's rowid, which its hook reports.
  std::string key;
  if (cache_ != nullptr) {
    key = LookupCache::CustomerKey(tenant, channel_kind, contact_index);
    if (const CustomerRecord* hit = cache_->FindCustomer(key)) {
      cache_->CountHit();
      return *hit;
    }
  }
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT rowid, " CUSTOMER_COLS " FROM customers WHERE tenant_id = ?"
                           " AND channel_kind = ? AND contact_index = ?"));
  q.Text(tenant.str()).Text(channel_kind).Text(contact_index);
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("customer not found");
  int64_t rowid = q.ColInt();
  PARLEY_ASSIGN_OR_RETURN(CustomerRecord found, ReadCustomer(q));
  if (cache_ != nullptr) cache_->PutCustomer(std::move(key), rowid, found);
  return found;
}

Result<ConversationRecord> SqliteAccess::GetConversation(const TenantId& tenant,
                                                         const ConversationId& id) {
  if (cache_ != nullptr) {
    if (const ConversationRecord* hit = cache_->FindConversationById(tenant, id)) {
      cache_->CountHit();
      return *hit;
    }
  }
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " CONVERSATION_COLS
                                      " FROM conversations WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadConversation, "conversation");
}

Result<ConversationRecord> SqliteAccess::FindOpenConversation(const TenantId& tenant,
                                                              const ConnectionId& connection,
                                                              const CustomerId& customer) {
  std::string key;
  if (cache_ != nullptr) {
    key = LookupCache::ConversationKey(tenant, connection, customer);
    if (const ConversationRecord* hit = cache_->FindConversation(key)) {
      cache_->CountHit();
      return *hit;
    }
  }
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT rowid, " CONVERSATION_COLS
                           " FROM conversations WHERE tenant_id = ? AND connection_id = ?"
                           " AND customer_id = ? AND state = 'open' ORDER BY id DESC LIMIT 1"));
  q.Text(tenant.str()).Text(connection.str()).Text(customer.str());
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("open conversation not found");
  int64_t rowid = q.ColInt();
  PARLEY_ASSIGN_OR_RETURN(ConversationRecord found, ReadConversation(q));
  if (cache_ != nullptr) cache_->PutConversation(std::move(key), rowid, found);
  return found;
}

Result<std::vector<ConversationRecord>> SqliteAccess::ListConversations(
    const TenantId& tenant, std::optional<ConversationState> state, const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidatePage<ConversationId>(page));
  std::string_view after = page.after.empty() ? kAfterNewest : std::string_view(page.after);
  if (state) {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT " CONVERSATION_COLS
                             " FROM conversations WHERE tenant_id = ? AND state = ? AND id < ?"
                             " ORDER BY id DESC LIMIT ?"));
    q.Text(tenant.str()).Text(ConversationStateName(*state)).Text(after).Int(page.limit);
    return All(q, ReadConversation);
  }
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " CONVERSATION_COLS
                                               " FROM conversations WHERE tenant_id = ? AND id < ?"
                                               " ORDER BY id DESC LIMIT ?"));
  q.Text(tenant.str()).Text(after).Int(page.limit);
  return All(q, ReadConversation);
}

Result<MessageRecord> SqliteAccess::GetMessage(const TenantId& tenant, const MessageId& id) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " MESSAGE_COLS " FROM messages WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadMessage, "message");
}

Result<std::vector<MessageRecord>> SqliteAccess::ListMessages(const TenantId& tenant,
                                                              const ConversationId& conversation,
                                                              const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidatePage<MessageId>(page));
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " MESSAGE_COLS
                                      " FROM messages WHERE tenant_id = ? AND conversation_id = ?"
                                      " AND id > ? ORDER BY id LIMIT ?"));
  q.Text(tenant.str()).Text(conversation.str()).Text(page.after).Int(page.limit);
  return All(q, ReadMessage);
}

Result<EventRecord> SqliteAccess::GetEvent(const TenantId& tenant, const EventId& id) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " EVENT_COLS " FROM events WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadEvent, "event");
}

Result<std::vector<EventRecord>> SqliteAccess::ListEventsAfter(const TenantId& tenant,
                                                               int64_t after_seq, int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  if (after_seq < 0) return InvalidArgument("event cursor must not be negative");
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " EVENT_COLS
                           " FROM events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Text(tenant.str()).Int(after_seq).Int(limit);
  return All(q, ReadEvent);
}

Result<std::vector<OutboxRecord>> SqliteAccess::ListOutbox(OutboxKind kind, int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " OUTBOX_COLS
                                               " FROM outbox WHERE kind = ? ORDER BY seq LIMIT ?"));
  q.Text(OutboxKindName(kind)).Int(limit);
  return All(q, ReadOutbox);
}

namespace {
Result<InboundRetryRecord> ReadInboundRetry(Query& q) {
  InboundRetryRecord r;
  r.seq = q.ColInt();
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.connection = ConnectionId::FromTrusted(q.ColText());
  r.request_sealed = q.ColBlob();
  r.attempts = static_cast<int>(q.ColInt());
  r.created_at = q.ColTime();
  r.next_attempt_at = q.ColTime();
  return r;
}
}  // namespace

Result<std::vector<InboundRetryRecord>> SqliteAccess::ListDueInboundRetries(TimePoint now,
                                                                            int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT seq, tenant_id, connection_id, request_sealed, attempts,"
                           " created_at, next_attempt_at FROM inbound_retries"
                           " WHERE next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?"));
  q.Time(now).Int(limit);
  return All(q, ReadInboundRetry);
}

Result<int64_t> SqliteAccess::CountOutbox() {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM"
                           " webhook_cursors c JOIN events e ON e.tenant_id = c.tenant_id AND"
                           " e.seq > c.after_seq)"));
  PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Internal("count outbox: no result");
  return q.ColInt();
}

namespace {
#define CURSOR_COLS "endpoint_id, tenant_id, after_seq, attempts, next_attempt_at, last_error"
Result<WebhookCursorRecord> ReadCursor(Query& q) {
  WebhookCursorRecord r;
  r.endpoint = EndpointId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  r.after_seq = q.ColInt();
  r.attempts = static_cast<int>(q.ColInt());
  r.next_attempt_at = q.ColTime();
  r.last_error = q.ColText();
  return r;
}
}  // namespace

Result<std::vector<WebhookCursorRecord>> SqliteAccess::ListWebhookCursorsBehind(int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " CURSOR_COLS " FROM webhook_cursors c WHERE EXISTS (SELECT 1"
                           " FROM events e WHERE e.tenant_id = c.tenant_id AND e.seq >"
                           " c.after_seq) ORDER BY endpoint_id LIMIT ?"));
  q.Int(limit);
  return All(q, ReadCursor);
}

Result<WebhookCursorRecord> SqliteAccess::GetWebhookCursor(const TenantId& tenant,
                                                           const EndpointId& endpoint) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " CURSOR_COLS " FROM webhook_cursors"
                                               " WHERE endpoint_id = ? AND tenant_id = ?"));
  q.Text(endpoint.str()).Text(tenant.str());
  return One(q, ReadCursor, "webhook cursor");
}
#undef CURSOR_COLS

Result<DeadLetterRecord> SqliteAccess::GetDeadLetter(const TenantId& tenant,
                                                     const DeadLetterId& id) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT " DEAD_LETTER_COLS " FROM dead_letters WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadDeadLetter, "dead letter");
}

Result<std::vector<DeadLetterRecord>> SqliteAccess::ListDeadLetters(const TenantId& tenant,
                                                                    const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidatePage<DeadLetterId>(page));
  PARLEY_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT " DEAD_LETTER_COLS
                  " FROM dead_letters WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"));
  q.Text(tenant.str()).Text(page.after).Int(page.limit);
  return All(q, ReadDeadLetter);
}

Result<IdempotencyRecord> SqliteAccess::GetIdempotency(const TenantId& tenant,
                                                       std::string_view key_hash) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " IDEMPOTENCY_COLS
                           " FROM idempotency_keys WHERE tenant_id = ? AND key_hash = ?"));
  q.Text(tenant.str()).Text(key_hash);
  return One(q, ReadIdempotency, "idempotency key");
}

Result<std::vector<AuditRecord>> SqliteAccess::ListAudit(const std::optional<TenantId>& tenant,
                                                         const Page& page) {
  PARLEY_RETURN_IF_ERROR(ValidatePage<AuditId>(page));
  if (tenant) {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT " AUDIT_COLS
                             " FROM audit_log WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"));
    q.Text(tenant->str()).Text(page.after).Int(page.limit);
    return All(q, ReadAudit);
  }
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " AUDIT_COLS
                                               " FROM audit_log WHERE id > ? ORDER BY id LIMIT ?"));
  q.Text(page.after).Int(page.limit);
  return All(q, ReadAudit);
}

Result<std::vector<ConversationRecord>> SqliteAccess::ListIdleConversations(const TenantId& tenant,
                                                                            TimePoint active_before,
                                                                            int limit) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " CONVERSATION_COLS
                                      " FROM conversations WHERE tenant_id = ? AND state = 'open'"
                                      " AND last_activity_at < ? ORDER BY id LIMIT ?"));
  q.Text(tenant.str()).Time(active_before).Int(limit);
  return All(q, ReadConversation);
}

Result<std::vector<ConversationRecord>> SqliteAccess::ListCustomerConversations(
    const TenantId& tenant, const CustomerId& customer, int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " CONVERSATION_COLS " FROM conversations"
                           " WHERE tenant_id = ? AND customer_id = ? ORDER BY id LIMIT ?"));
  q.Text(tenant.str()).Text(customer.str()).Int(limit);
  return All(q, ReadConversation);
}

}  // namespace parley::store::sqlite

// src/store/sqlite/sqlite_access.h
//
// SqliteAccess implements the store's Reader and Writer over one connection. The store gives
// each reader thread one over a read-only connection (only the Reader half is reachable
// there) and the writer thread one over the write connection, where reads see the current
// batch's uncommitted writes. The writer's also keeps its customer and open-conversation
// lookups in a LookupCache (lookup_cache.h) and stages the events it inserts in RecentEvents.
//
//   SqliteAccess access(db);
//   Status s = access.InsertTenant(rec);
#pragma once

#include "store/recent_events.h"
#include "store/sqlite/lookup_cache.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace parley::store::sqlite {

// Thread safety: none; used only by the thread that owns `db`.
// `db`, `cache` and `recent` are dependencies that must outlive this object; the writer's
// gets `cache` and `recent`, and feeds them what SQLite's hooks report (sqlite_store.cc).
class SqliteAccess final : public Writer {
 public:
  explicit SqliteAccess(Db& db, LookupCache* cache = nullptr, RecentEvents* recent = nullptr)
      : db_(db), cache_(cache), recent_(recent) {}

  // The writer's transaction bookkeeping for `cache` and `recent`. Before a SAVEPOINT, take
  // a mark; after a ROLLBACK TO it, RolledBackTo(mark): the cache may hold what the
  // savepoint undid (SQLite's hooks do not report a rollback's changes), and the events it
  // staged are gone. After a COMMIT, Committed().
  size_t SavepointMark() const { return recent_ != nullptr ? recent_->staged() : 0; }
  // `undone`: the ROLLBACK TO succeeded (else what the write did may still commit).
  void RolledBackTo(size_t mark, bool undone) {
    if (cache_ != nullptr) cache_->Clear();
    if (recent_ == nullptr) return;
    if (undone) {
      recent_->Unstage(mark);
    } else {
      recent_->Unsure(mark);
    }
  }
  // Before BEGIN: whatever is still staged was settled by no COMMIT or rollback seen here.
  void Beginning() {
    if (recent_ != nullptr) recent_->SettleUnknown();
  }
  void Committed() {
    if (recent_ != nullptr) recent_->Commit();
  }
  // The writer's: the highest event seq handed out so far (the store's at open). InsertEvent
  // assigns the next; a seq whose insert was rolled back is not used again. This assumes
  // what the whole store does: only this writer, in one process, writes the database.
  void SetLastEventSeq(int64_t seq) { last_event_seq_ = seq; }

  // ---- Reader (sqlite_reads.cc) ----
  Result<TenantRecord> GetTenant(const TenantId& id) override;
  Result<std::vector<TenantRecord>> ListTenants(const Page& page) override;
  Result<ApiKeyRecord> GetApiKey(const ApiKeyId& id) override;
  Result<std::vector<ApiKeyRecord>> ListApiKeys(const TenantId& tenant) override;
  Result<EndpointRecord> GetEndpoint(const TenantId& tenant, const EndpointId& id) override;
  Result<std::vector<EndpointRecord>> ListEndpoints(const TenantId& tenant) override;
  Result<ConnectionRecord> GetConnection(const TenantId& tenant, const ConnectionId& id) override;
  Result<ConnectionRecord> GetConnectionById(const ConnectionId& id) override;
  Result<ConnectionRecord> FindConnectionByIdentity(std::string_view kind,
                                                    std::string_view identity_index) override;
  Result<std::vector<ConnectionRecord>> ListConnections(const TenantId& tenant) override;
  Result<CustomerRecord> GetCustomer(const TenantId& tenant, const CustomerId& id) override;
  Result<CustomerRecord> FindCustomerByContact(const TenantId& tenant,
                                               std::string_view channel_kind,
                                               std::string_view contact_index) override;
  Result<ConversationRecord> GetConversation(const TenantId& tenant,
                                             const ConversationId& id) override;
  Result<ConversationRecord> FindOpenConversation(const TenantId& tenant,
                                                  const ConnectionId& connection,
                                                  const CustomerId& customer) override;
  Result<std::vector<ConversationRecord>> ListConversations(const TenantId& tenant,
                                                            std::optional<ConversationState> state,
                                                            const Page& page) override;
  Result<MessageRecord> GetMessage(const TenantId& tenant, const MessageId& id) override;
  Result<std::optional<MessageId>> FindInboundKey(const TenantId& tenant,
                                                  const ConnectionId& connection,
                                                  std::string_view key_index) override;
  Result<std::vector<MessageRecord>> ListMessages(const TenantId& tenant,
                                                  const ConversationId& conversation,
                                                  const Page& page) override;
  Result<EventRecord> GetEvent(const TenantId& tenant, const EventId& id) override;
  Result<std::vector<EventRecord>> ListEventsAfter(const TenantId& tenant, int64_t after_seq,
                                                   int limit) override;
  Result<std::vector<OutboxRecord>> ListOutbox(OutboxKind kind, int limit) override;
  Result<std::vector<InboundRetryRecord>> ListDueInboundRetries(TimePoint now, int limit) override;
  Result<int64_t> CountOutbox() override;
  Result<std::vector<WebhookCursorRecord>> ListWebhookCursorsBehind(int limit) override;
  Result<WebhookCursorRecord> GetWebhookCursor(const TenantId& tenant,
                                               const EndpointId& endpoint) override;
  Result<DeadLetterRecord> GetDeadLetter(const TenantId& tenant, const DeadLetterId& id) override;
  Result<std::vector<DeadLetterRecord>> ListDeadLetters(const TenantId& tenant,
                                                        const Page& page) override;
  Result<IdempotencyRecord> GetIdempotency(const TenantId& tenant,
                                           std::string_view key_hash) override;
  Result<std::vector<AuditRecord>> ListAudit(const std::optional<TenantId>& tenant,
                                             const Page& page) override;
  Result<std::vector<ConversationRecord>> ListIdleConversations(const TenantId& tenant,
                                                                TimePoint active_before,
                                                                int limit) override;
  Result<std::vector<TableStats>> DataMap() override;

  // ---- Attachments and erasure (sqlite_attachments.cc) ----
  Result<AttachmentRecord> GetAttachment(const TenantId& tenant, const AttachmentId& id) override;
  Result<AttachmentRecord> GetAttachmentById(const AttachmentId& id) override;
  Result<std::vector<AttachmentRecord>> ListExpiredAttachments(TimePoint now, int limit) override;
  Result<std::vector<AttachmentRecord>> ListCustomerAttachments(const TenantId& tenant,
                                                                const CustomerId& customer,
                                                                int limit) override;
  Result<std::vector<ConversationRecord>> ListCustomerConversations(const TenantId& tenant,
                                                                    const CustomerId& customer,
                                                                    int limit) override;
  Status InsertAttachment(const AttachmentRecord& r) override;
  Status AssignAttachment(const TenantId& tenant, const AttachmentId& id,
                          const ConversationId& conversation, const CustomerId& customer) override;
  Status DeleteAttachment(const TenantId& tenant, const AttachmentId& id) override;
  Result<ErasureCounts> EraseCustomer(const TenantId& tenant, const CustomerId& customer) override;

  // ---- Writer (sqlite_writes.cc) ----
  Status InsertTenant(const TenantRecord& r) override;
  Status UpdateTenantSettings(const TenantId& id, std::string_view settings_json) override;
  Status ClearTenantKey(const TenantId& id) override;
  Status DeleteTenantData(const TenantId& id) override;
  Status InsertApiKey(const ApiKeyRecord& r) override;
  Status DeleteApiKey(const TenantId& tenant, const ApiKeyId& id) override;
  Status InsertEndpoint(const EndpointRecord& r) override;
  Status UpdateEndpoint(const EndpointRecord& r) override;
  Status DeleteEndpoint(const TenantId& tenant, const EndpointId& id) override;
  Status AdvanceWebhookCursor(const TenantId& tenant, const EndpointId& endpoint, int64_t from_seq,
                              int64_t to_seq) override;
  Status DelayWebhookCursor(const TenantId& tenant, const EndpointId& endpoint, int64_t at_seq,
                            int attempts, TimePoint next_attempt_at,
                            std::string_view last_error) override;
  Status InsertConnection(const ConnectionRecord& r) override;
  Status DeleteConnection(const TenantId& tenant, const ConnectionId& id) override;
  Status InsertCustomer(const CustomerRecord& r) override;
  Status TouchCustomer(const TenantId& tenant, const CustomerId& id, TimePoint seen) override;
  Status DeleteCustomer(const TenantId& tenant, const CustomerId& id) override;
  Status InsertConversation(const ConversationRecord& r) override;
  Status TouchConversation(const TenantId& tenant, const ConversationId& id, TimePoint at) override;
  Status SetConversationEphemeral(const TenantId& tenant, const ConversationId& id,
                                  const ConversationEphemeral& data) override;
  Status EndConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                         std::string_view reason) override;
  Status EndIdleConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                             TimePoint active_before) override;
  Status InsertMessage(const MessageRecord& r) override;
  Status UpdateMessageStatus(const TenantId& tenant, const MessageId& id, std::string_view status,
                             TimePoint at) override;
  Status DeleteMessage(const TenantId& tenant, const MessageId& id) override;
  Result<std::optional<MessageId>> RecordInboundOnce(const TenantId& tenant,
                                                     const ConnectionId& connection,
                                                     std::string_view key_index,
                                                     const MessageId& message,
                                                     TimePoint at) override;
  Result<int64_t> InsertInboundRetry(const InboundRetryRecord& r) override;
  Status RescheduleInboundRetry(int64_t seq, int attempts, TimePoint next_attempt_at) override;
  Status DeleteInboundRetry(int64_t seq) override;
  Result<bool> InsertPendingStatus(const PendingStatusRecord& r, int max_per_key) override;
  Result<std::vector<PendingStatusRecord>> TakePendingStatuses(const TenantId& tenant,
                                                               const ConnectionId& connection,
                                                               std::string_view key_index) override;
  Result<int64_t> InsertEvent(const EventRecord& r) override;
  Result<int64_t> InsertOutbox(const OutboxRecord& r) override;
  Status DeleteOutbox(const std::vector<int64_t>& seqs) override;
  Status RescheduleOutbox(int64_t seq, int attempts, TimePoint next_attempt_at,
                          std::string_view last_error) override;
  Status InsertDeadLetter(const DeadLetterRecord& r) override;
  Status DeleteDeadLetter(const TenantId& tenant, const DeadLetterId& id) override;
  Status InsertIdempotency(const IdempotencyRecord& r) override;
  Result<int> SweepInboundDedupe(TimePoint created_before, int limit) override;
  Result<int> SweepPendingStatuses(TimePoint created_before, int limit) override;
  Result<int> SweepIdempotency(TimePoint created_before, int limit) override;
  Result<int> SweepDeadLetters(TimePoint failed_before, int limit) override;
  Result<int> SweepEvents(TimePoint created_before, int limit) override;
  Result<int> SweepMessages(TimePoint created_before, int limit) override;
  Result<int> SweepEndedConversations(TimePoint ended_before, int limit) override;
  Status InsertAudit(const AuditRecord& r) override;

 private:
  // True when an outbox row or a dead letter refers to `ref` (an event or message id).
  Result<bool> IsPending(std::string_view ref);
  // Runs a prepared UPDATE/DELETE and answers kNotFound(`what` not found) if no row changed.
  Status RunExpectingRow(Query& q, const char* what);
  // Ends an open conversation whose last activity is before `active_before` (any, when
  // unset).
  Status EndOpenConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                             std::string_view reason, std::optional<TimePoint> active_before);

  Db& db_;
  LookupCache* cache_;
  RecentEvents* recent_;
  int64_t last_event_seq_ = -1;  // -1: not the writer's; InsertEvent refuses
};

}  // namespace parley::store::sqlite

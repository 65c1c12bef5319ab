// src/store/store.h
//
// The store keeps Parley's tables behind backend-neutral interfaces. It holds bytes: every
// sensitive value arrives already sealed (crypto/) and leaves sealed; the store never sees a
// key. Writes are closures queued to a single writer that commits many of them in one
// transaction (group commit); each closure runs under its own savepoint, so one failing write
// does not fail the others in its batch. Reads run on separate connections.
//
//   store.SubmitWrite(
//       [rec](store::Writer& w) { return w.InsertTenant(rec); },
//       [](Status s) { /* durable now (or failed) */ });
//
//   PARLEY_ASSIGN_OR_RETURN(auto tenant, store.ReadSync<store::TenantRecord>(
//       [&](store::Reader& r) { return r.GetTenant(id); }));
//
// Every tenant-scoped method takes the TenantId first and only ever touches rows of that
// tenant: asking for another tenant's id answers kNotFound, exactly as for a missing id.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace parley::store {

// ---- records --------------------------------------------------------------------------
// Fields named *_sealed hold AEAD ciphertexts; *_index hold blind indexes (hex HMACs).

struct TenantRecord {
  TenantId id;
  std::string name;
  std::string wrapped_key;    // the tenant's data key wrapped by the master key; empty = shredded
  std::string settings_json;  // non-secret tenant settings (JSON object text)
  TimePoint created_at;
};

struct ApiKeyRecord {
  ApiKeyId id;
  TenantId tenant;
  std::string name;
  std::string secret_hash;          // crypto::HashToken of the secret
  std::vector<std::string> scopes;  // e.g. "messages:write", "conversations:read", "admin"
  TimePoint created_at;
};

struct EndpointRecord {
  EndpointId id;
  TenantId tenant;
  std::string url;
  std::string secret_sealed;           // current signing secret
  std::string previous_secret_sealed;  // empty unless rotating
  std::optional<TimePoint> previous_secret_expires_at;
  TimePoint created_at;
  TimePoint updated_at;
};

struct ConnectionRecord {
  ConnectionId id;
  TenantId tenant;
  std::string kind;  // "custom", "whatsapp", …
  std::string name;
  std::string identity_sealed;     // client messaging identity (page id, phone number id, …)
  std::string identity_index;      // blind index of the identity; empty when none
  std::string credentials_sealed;  // JSON of secrets/tokens, sealed; write-only in the API
  std::string settings_json;       // non-secret settings (e.g. the custom channel's outbound URL)
  TimePoint created_at;
};

struct CustomerRecord {
  CustomerId id;
  TenantId tenant;
  std::string channel_kind;
  std::string contact_sealed;  // the contact id on the channel (phone number, PSID, …)
  std::string contact_index;   // blind index of (channel_kind, contact)
  std::string profile_sealed;  // display name etc. (JSON), may be empty
  TimePoint first_seen;
  TimePoint last_seen;
};

enum class ConversationState { kOpen, kEnded };

struct ConversationRecord {
  ConversationId id;
  TenantId tenant;
  ConnectionId connection;
  CustomerId customer;
  ConversationState state = ConversationState::kOpen;
  TimePoint started_at;
  TimePoint last_activity_at;
  std::optional<TimePoint> ended_at;
  std::string end_reason;  // "agent", "customer", "timeout", … when ended
  // The conversation's ephemeral records (DESIGN.md §6), each sealed, each may be empty, all
  // cleared when the conversation ends: the chat context (IP, device, location), the cookie
  // values the connection selects, and the customer private data the business's page signed.
  std::string context_sealed;
  std::string cookies_sealed;
  std::string private_sealed;
};

// Replaces those of a conversation's ephemeral records that are set.
struct ConversationEphemeral {
  std::optional<std::string> context_sealed{};
  std::optional<std::string> cookies_sealed{};
  std::optional<std::string> private_sealed{};
};

enum class Direction { kInbound, kOutbound };

struct MessageRecord {
  MessageId id;
  TenantId tenant;
  ConversationId conversation;
  ConnectionId connection;
  Direction direction = Direction::kInbound;
  std::string body_sealed;  // the common-format message JSON, sealed
  std::string status;       // "received", "queued", "sent", "delivered", "read", "failed"
  TimePoint created_at;
  TimePoint updated_at;
};

struct EventRecord {
  int64_t seq = 0;  // assigned by the writer in commit order, never twice; stream cursor
  EventId id;
  TenantId tenant;
  std::optional<ConversationId> conversation;
  std::string type;            // "message.created", …
  std::string payload_sealed;  // the event JSON, sealed
  TimePoint created_at;
  // The event JSON in the clear: never stored. The recorder sets it for InsertEvent, so that
  // the store may keep the event in memory (Store::RecentEventsAfter), which sets it in turn.
  std::string payload_json;
};

enum class OutboxKind { kWebhook, kChannelSend };

// One pending delivery: an event to a client-application endpoint, or an outbound message
// to its channel. Deliveries of one (target, conversation) go out in seq order.
struct OutboxRecord {
  int64_t seq = 0;  // assigned by the writer in commit order
  OutboxKind kind = OutboxKind::kWebhook;
  TenantId tenant;
  std::string target_id;        // EndpointId (webhook) or ConnectionId (channel send)
  std::string ref_id;           // EventId (webhook) or MessageId (channel send)
  std::string conversation_id;  // ordering key; may be empty
  int attempts = 0;
  TimePoint created_at;
  TimePoint next_attempt_at;
  std::string last_error;  // short, never content
};

// Where webhook delivery to one endpoint stands: every event of the tenant with seq <=
// after_seq was delivered to it (or became a dead letter). Events after it go out in seq
// order, a batch at a time; a failed batch is retried from the same place. Created with the
// endpoint at the tenant's last event, deleted with it.
struct WebhookCursorRecord {
  EndpointId endpoint;
  TenantId tenant;
  int64_t after_seq = 0;
  int attempts = 0;           // failed attempts at the batch after after_seq
  TimePoint next_attempt_at;  // not before this (epoch: now)
  std::string last_error;     // short, never content
};

struct DeadLetterRecord {
  DeadLetterId id;
  TenantId tenant;
  OutboxKind kind = OutboxKind::kWebhook;
  std::string target_id;
  std::string ref_id;
  std::string conversation_id;
  int attempts = 0;
  std::string last_error;
  TimePoint created_at;  // when the delivery was first queued
  TimePoint failed_at;   // when it became a dead letter
};

struct IdempotencyRecord {
  TenantId tenant;
  std::string key_hash;      // hash of the client's Idempotency-Key (scoped by tenant)
  std::string request_hash;  // hash of method + path + body: same key, other request -> 422
  int response_status = 0;
  std::string response_sealed;  // the response body, sealed
  TimePoint created_at;
};

struct AuditRecord {
  AuditId id;
  TimePoint at;
  std::string actor;   // "operator", or an ApiKeyId
  std::string action;  // "tenant.create", "api_key.create", …
  std::optional<TenantId> tenant;
  std::string target;       // id acted on
  std::string detail_json;  // non-secret details
};

// A provider status that named a provider message id no sent message had yet (it outran the
// write recording the send's outcome). The send's write takes and applies it; the sweeper
// drops it after delivery::kPendingStatusWindow.
struct PendingStatusRecord {
  TenantId tenant;
  ConnectionId connection;
  std::string key_index;      // blind index of the provider id (SentProviderIdDomain)
  std::string status_sealed;  // delivery::SealPendingStatus
  TimePoint created_at;
};

// A verified provider webhook call kept for another try, because a media file it refers to
// could not be fetched for now (api/webhooks_api.cc). The call was answered 2xx.
struct InboundRetryRecord {
  int64_t seq = 0;  // assigned by InsertInboundRetry
  TenantId tenant;
  ConnectionId connection;     // the connection whose URL received it
  std::string request_sealed;  // the call (target, headers, body), sealed
  int attempts = 0;            // tries made so far
  TimePoint created_at;
  TimePoint next_attempt_at;
};

// An attachment's record; its bytes live in blob storage (blob/) under `blob_name`.
struct AttachmentRecord {
  AttachmentId id;
  TenantId tenant;
  std::optional<CustomerId> customer;          // whose conversation it belongs to, if known
  std::optional<ConversationId> conversation;  // for erasure and export
  std::string blob_name;                       // blob::NewBlobName(); reveals nothing
  std::string mime_type;                       // sniffed from the bytes
  int64_t size_bytes = 0;
  std::string meta_sealed;  // {"filename":…,"sha256":…} sealed
  TimePoint created_at;
  TimePoint expires_at;  // deleted with its blob by the sweeper after this
};

// What EraseCustomer deleted.
struct ErasureCounts {
  int conversations = 0;
  int messages = 0;
  int events = 0;
  int attachments = 0;
};

// Rows and age of one table, for the data map.
struct TableStats {
  std::string table;
  int64_t rows = 0;
  std::optional<TimePoint> oldest;  // the oldest row's time (created, first seen, failed, …)
};

struct Page {
  std::string after;  // exclusive cursor (an id); empty = from the start
  int limit = 50;     // 1..500
};

// ---- access -----------------------------------------------------------------------------

// Read access. Implementations run it on a reader connection (committed data only).
class Reader {
 public:
  virtual ~Reader() = default;

  virtual Result<TenantRecord> GetTenant(const TenantId& id) = 0;
  virtual Result<std::vector<TenantRecord>> ListTenants(const Page& page) = 0;

  // Not tenant-scoped: the key id comes from the presented API key; the caller checks the hash.
  virtual Result<ApiKeyRecord> GetApiKey(const ApiKeyId& id) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys(const TenantId& tenant) = 0;

  virtual Result<EndpointRecord> GetEndpoint(const TenantId& tenant, const EndpointId& id) = 0;
  virtual Result<std::vector<EndpointRecord>> ListEndpoints(const TenantId& tenant) = 0;

  virtual Result<ConnectionRecord> GetConnection(const TenantId& tenant,
                                                 const ConnectionId& id) = 0;
  // Not tenant-scoped: inbound webhooks carry the connection id in their URL.
  virtual Result<ConnectionRecord> GetConnectionById(const ConnectionId& id) = 0;
  // Provider webhooks route by client identity: (kind, blind index) -> connection.
  virtual Result<ConnectionRecord> FindConnectionByIdentity(std::string_view kind,
                                                            std::string_view identity_index) = 0;
  virtual Result<std::vector<ConnectionRecord>> ListConnections(const TenantId& tenant) = 0;

  virtual Result<CustomerRecord> GetCustomer(const TenantId& tenant, const CustomerId& id) = 0;
  virtual Result<CustomerRecord> FindCustomerByContact(const TenantId& tenant,
                                                       std::string_view channel_kind,
                                                       std::string_view contact_index) = 0;

  virtual Result<ConversationRecord> GetConversation(const TenantId& tenant,
                                                     const ConversationId& id) = 0;
  // The open conversation of this customer on this connection, if any (kNotFound otherwise).
  virtual Result<ConversationRecord> FindOpenConversation(const TenantId& tenant,
                                                          const ConnectionId& connection,
                                                          const CustomerId& customer) = 0;
  // Newest first; `page.after` is the last id of the previous page.
  virtual Result<std::vector<ConversationRecord>> ListConversations(
      const TenantId& tenant, std::optional<ConversationState> state, const Page& page) = 0;

  virtual Result<MessageRecord> GetMessage(const TenantId& tenant, const MessageId& id) = 0;
  // The message recorded for a dedupe key (RecordInboundOnce), or nullopt. Also used for
  // the provider ids of sent messages, under their own blind-index domain.
  virtual Result<std::optional<MessageId>> FindInboundKey(const TenantId& tenant,
                                                          const ConnectionId& connection,
                                                          std::string_view key_index) = 0;
  // Oldest first.
  virtual Result<std::vector<MessageRecord>> ListMessages(const TenantId& tenant,
                                                          const ConversationId& conversation,
                                                          const Page& page) = 0;

  virtual Result<EventRecord> GetEvent(const TenantId& tenant, const EventId& id) = 0;
  // Events with seq > after_seq, oldest first, at most `limit`.
  virtual Result<std::vector<EventRecord>> ListEventsAfter(const TenantId& tenant,
                                                           int64_t after_seq, int limit) = 0;

  // The first `limit` outbox rows of `kind` in seq order (all tenants) — the dispatcher
  // filters due rows and per-conversation order itself.
  virtual Result<std::vector<OutboxRecord>> ListOutbox(OutboxKind kind, int limit) = 0;
  // Inbound retries due at `now`, soonest first.
  virtual Result<std::vector<InboundRetryRecord>> ListDueInboundRetries(TimePoint now,
                                                                        int limit) = 0;
  // Pending deliveries: outbox rows plus the events each webhook cursor has still to deliver.
  virtual Result<int64_t> CountOutbox() = 0;
  // The cursors (all tenants) that have events after them, by endpoint id, at most `limit`.
  virtual Result<std::vector<WebhookCursorRecord>> ListWebhookCursorsBehind(int limit) = 0;
  virtual Result<WebhookCursorRecord> GetWebhookCursor(const TenantId& tenant,
                                                       const EndpointId& endpoint) = 0;

  virtual Result<DeadLetterRecord> GetDeadLetter(const TenantId& tenant,
                                                 const DeadLetterId& id) = 0;
  virtual Result<std::vector<DeadLetterRecord>> ListDeadLetters(const TenantId& tenant,
                                                                const Page& page) = 0;

  virtual Result<IdempotencyRecord> GetIdempotency(const TenantId& tenant,
                                                   std::string_view key_hash) = 0;

  virtual Result<AttachmentRecord> GetAttachment(const TenantId& tenant,
                                                 const AttachmentId& id) = 0;
  // Not tenant-scoped: signed links carry only the attachment id; the caller verifies the
  // link's signature under the tenant's key before it serves anything.
  virtual Result<AttachmentRecord> GetAttachmentById(const AttachmentId& id) = 0;
  // Attachments (all tenants) whose expires_at is before `now`, soonest first.
  virtual Result<std::vector<AttachmentRecord>> ListExpiredAttachments(TimePoint now,
                                                                       int limit) = 0;
  // The customer's attachments, including those of the customer's conversations.
  virtual Result<std::vector<AttachmentRecord>> ListCustomerAttachments(const TenantId& tenant,
                                                                        const CustomerId& customer,
                                                                        int limit) = 0;
  // Every conversation of the customer, oldest first.
  virtual Result<std::vector<ConversationRecord>> ListCustomerConversations(
      const TenantId& tenant, const CustomerId& customer, int limit) = 0;

  virtual Result<std::vector<AuditRecord>> ListAudit(const std::optional<TenantId>& tenant,
                                                     const Page& page) = 0;

  // ---- lifecycle (docs/data-lifecycle.md) ----
  // Open conversations of the tenant whose last activity was before `active_before`.
  virtual Result<std::vector<ConversationRecord>> ListIdleConversations(const TenantId& tenant,
                                                                        TimePoint active_before,
                                                                        int limit) = 0;
  // Every table that holds tenant or customer data, with its row count and oldest row.
  virtual Result<std::vector<TableStats>> DataMap() = 0;
};

// See Writer::TouchCustomer.
inline constexpr std::chrono::seconds kActivityResolution{1};

// Write access; runs on the single writer inside a batch transaction. Reads through a Writer
// see the batch's own uncommitted writes.
class Writer : public Reader {
 public:
  // Errors for inserts: kAlreadyExists on a duplicate primary/unique key.
  virtual Status InsertTenant(const TenantRecord& r) = 0;
  virtual Status UpdateTenantSettings(const TenantId& id, std::string_view settings_json) = 0;
  // Crypto-shredding, step 1: forget the wrapped key (commit this before deleting rows).
  virtual Status ClearTenantKey(const TenantId& id) = 0;
  // Step 2: delete the tenant and every row of every table that belongs to it.
  virtual Status DeleteTenantData(const TenantId& id) = 0;

  virtual Status InsertApiKey(const ApiKeyRecord& r) = 0;
  virtual Status DeleteApiKey(const TenantId& tenant, const ApiKeyId& id) = 0;

  // Also creates the endpoint's webhook cursor at the tenant's last event: an endpoint gets
  // the events recorded after it was added.
  virtual Status InsertEndpoint(const EndpointRecord& r) = 0;
  // Replaces url/secrets/updated_at of an existing endpoint of this tenant.
  virtual Status UpdateEndpoint(const EndpointRecord& r) = 0;
  // Also deletes its webhook cursor.
  virtual Status DeleteEndpoint(const TenantId& tenant, const EndpointId& id) = 0;

  virtual Status InsertConnection(const ConnectionRecord& r) = 0;
  virtual Status DeleteConnection(const TenantId& tenant, const ConnectionId& id) = 0;

  virtual Status InsertCustomer(const CustomerRecord& r) = 0;
  // Touches move last_seen / last_activity_at forward. Callers may skip a touch while the
  // stored time is less than kActivityResolution old, which saves a row write per message
  // in a busy conversation.
  virtual Status TouchCustomer(const TenantId& tenant, const CustomerId& id, TimePoint seen) = 0;
  virtual Status DeleteCustomer(const TenantId& tenant, const CustomerId& id) = 0;

  virtual Status InsertConversation(const ConversationRecord& r) = 0;
  virtual Status TouchConversation(const TenantId& tenant, const ConversationId& id,
                                   TimePoint at) = 0;
  // Sets ephemeral records of an open conversation. kNotFound; kFailedPrecondition when it
  // has ended (what ending cleared is never written back).
  virtual Status SetConversationEphemeral(const TenantId& tenant, const ConversationId& id,
                                          const ConversationEphemeral& data) = 0;
  // Also clears the ephemeral records. kFailedPrecondition when already ended.
  virtual Status EndConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                                 std::string_view reason) = 0;
  // EndConversation with reason "inactivity", only while its last activity is before
  // `active_before`: a message stored after the sweep listed it keeps it open.
  // kFailedPrecondition when already ended or active since.
  virtual Status EndIdleConversation(const TenantId& tenant, const ConversationId& id, TimePoint at,
                                     TimePoint active_before) = 0;

  virtual Status InsertMessage(const MessageRecord& r) = 0;
  virtual Status UpdateMessageStatus(const TenantId& tenant, const MessageId& id,
                                     std::string_view status, TimePoint at) = 0;
  virtual Status DeleteMessage(const TenantId& tenant, const MessageId& id) = 0;

  // Inbound dedupe by (connection, provider message id index). Returns the message id already
  // recorded for that key, or nullopt after recording `message` for it.
  virtual Result<std::optional<MessageId>> RecordInboundOnce(const TenantId& tenant,
                                                             const ConnectionId& connection,
                                                             std::string_view key_index,
                                                             const MessageId& message,
                                                             TimePoint at) = 0;

  // Returns the assigned seq.
  virtual Result<int64_t> InsertInboundRetry(const InboundRetryRecord& r) = 0;
  // kNotFound when the row is gone.
  virtual Status RescheduleInboundRetry(int64_t seq, int attempts, TimePoint next_attempt_at) = 0;
  virtual Status DeleteInboundRetry(int64_t seq) = 0;

  // Keeps a status for a provider id not recorded yet. At most `max_per_key` are kept per
  // (connection, key_index): further ones are not stored (returns false).
  virtual Result<bool> InsertPendingStatus(const PendingStatusRecord& r, int max_per_key) = 0;
  // Returns and deletes the pending statuses of (connection, key_index), oldest first.
  virtual Result<std::vector<PendingStatusRecord>> TakePendingStatuses(
      const TenantId& tenant, const ConnectionId& connection, std::string_view key_index) = 0;

  // Returns the assigned seq: above every seq assigned before, of any tenant, even of
  // events since deleted and across restarts.
  virtual Result<int64_t> InsertEvent(const EventRecord& r) = 0;

  // Returns the assigned seq.
  virtual Result<int64_t> InsertOutbox(const OutboxRecord& r) = 0;
  virtual Status DeleteOutbox(const std::vector<int64_t>& seqs) = 0;
  virtual Status RescheduleOutbox(int64_t seq, int attempts, TimePoint next_attempt_at,
                                  std::string_view last_error) = 0;

  // Moves the endpoint's cursor from `from_seq` to `to_seq` and clears its retry state.
  // kNotFound when the cursor is gone or no longer at `from_seq` (someone else moved it).
  virtual Status AdvanceWebhookCursor(const TenantId& tenant, const EndpointId& endpoint,
                                      int64_t from_seq, int64_t to_seq) = 0;
  // Records a failed attempt at the batch after `at_seq`. kNotFound as above.
  virtual Status DelayWebhookCursor(const TenantId& tenant, const EndpointId& endpoint,
                                    int64_t at_seq, int attempts, TimePoint next_attempt_at,
                                    std::string_view last_error) = 0;

  virtual Status InsertDeadLetter(const DeadLetterRecord& r) = 0;
  virtual Status DeleteDeadLetter(const TenantId& tenant, const DeadLetterId& id) = 0;

  // kAlreadyExists when (tenant, key_hash) is taken.
  virtual Status InsertIdempotency(const IdempotencyRecord& r) = 0;

  virtual Status InsertAudit(const AuditRecord& r) = 0;

  virtual Status InsertAttachment(const AttachmentRecord& r) = 0;
  // Ties an attachment to the conversation (and its customer) whose message carries it, so
  // erasing the customer deletes it. kNotFound when absent; kFailedPrecondition when it is
  // already another conversation's.
  virtual Status AssignAttachment(const TenantId& tenant, const AttachmentId& id,
                                  const ConversationId& conversation,
                                  const CustomerId& customer) = 0;
  // kNotFound when absent.
  virtual Status DeleteAttachment(const TenantId& tenant, const AttachmentId& id) = 0;

  // Erasure: deletes the customer and everything held about them — conversations, their
  // messages, events, pending deliveries, dead letters and dedupe records, and attachment
  // rows (delete the blobs first: ListCustomerAttachments). kNotFound when absent.
  virtual Result<ErasureCounts> EraseCustomer(const TenantId& tenant,
                                              const CustomerId& customer) = 0;

  // ---- lifecycle sweeps (docs/data-lifecycle.md) ----
  // Each deletes at most `limit` rows (all tenants), oldest first, and returns how many.
  // A "pending" row is one an outbox row or a dead letter still refers to, or an event a
  // webhook cursor has not passed yet.
  //
  // The message.created event of message "msg_X" has the id "ev_X" (EventRecorder), so a
  // message is pending while its own id or its event's id is referred to.
  virtual Result<int> SweepInboundDedupe(TimePoint created_before, int limit) = 0;
  virtual Result<int> SweepPendingStatuses(TimePoint created_before, int limit) = 0;
  virtual Result<int> SweepIdempotency(TimePoint created_before, int limit) = 0;
  virtual Result<int> SweepDeadLetters(TimePoint failed_before, int limit) = 0;
  // Events created before the time and not pending.
  virtual Result<int> SweepEvents(TimePoint created_before, int limit) = 0;
  // Messages created before the time, not queued and not pending, except those of
  // connections of kind "web" while their conversation is open (web chat keeps its history
  // for the open conversation; once it ends they go like any other).
  virtual Result<int> SweepMessages(TimePoint created_before, int limit) = 0;
  // Conversations ended before the time, with every message they still hold.
  virtual Result<int> SweepEndedConversations(TimePoint ended_before, int limit) = 0;
};

// Thread safety: every method may be called from any thread.
class Store {
 public:
  using WriteFn = std::function<Status(Writer&)>;
  using ReadFn = std::function<void(Reader&)>;
  using Done = std::function<void(Status)>;

  virtual ~Store() = default;

  // Queues `fn` for the writer. It runs inside a batch transaction, under its own savepoint:
  // if it returns an error its changes are rolled back and `done` gets that error. Otherwise
  // `done(Ok)` is called after the batch is durably committed, or `done(error)` if the commit
  // failed. `done` runs on the writer thread: keep it short (post elsewhere to continue).
  virtual void SubmitWrite(WriteFn fn, Done done) = 0;

  // As SubmitWrite, for a write whose function may run more than once before it commits: it
  // changes nothing outside the store, and at its start resets whatever it reports to its
  // caller. The store may then run it without a savepoint of its own; if it fails, the store
  // rolls the transaction back and runs it again under a savepoint (and the writes before
  // it, all of this kind, again too), so that its error still undoes only its own changes.
  // SQLite copies every page a savepoint's write touches into a statement journal first:
  // about a tenth of an ingested message's work. The default treats it as any write.
  virtual void SubmitRerunnableWrite(WriteFn fn, Done done) {
    SubmitWrite(std::move(fn), std::move(done));
  }

  // Runs `fn` on a reader connection on a store thread.
  virtual void SubmitRead(ReadFn fn) = 0;

  // The tenant's events with seq > after_seq, oldest first, at most `limit`, as
  // Reader::ListEventsAfter answers them but with payload_json set and payload_sealed empty,
  // when the store holds all of them in memory; std::nullopt otherwise (read them then).
  // Just after a commit the answer may still lack that commit's newest events (a prefix of
  // what a read answers); the commit listener is called after they are in. Cheap enough for
  // an I/O thread. The default holds nothing.
  virtual std::optional<std::vector<EventRecord>> RecentEventsAfter(const TenantId& tenant,
                                                                    int64_t after_seq, int limit) {
    (void)tenant, (void)after_seq, (void)limit;
    return std::nullopt;
  }

  // Called on the writer thread after every committed batch (e.g. to wake the dispatcher).
  virtual void SetCommitListener(std::function<void()> listener) = 0;

  // A number that changes after every commit that inserted or changed outbox rows, and only
  // after the commit: taken before a read of the outbox begins, an unchanged number later
  // means the outbox holds nothing that read did not see (deletions do not move it). Any
  // thread. nullopt when the backend cannot tell (read the outbox every time).
  virtual std::optional<uint64_t> OutboxVersion() const { return std::nullopt; }

  // Blocking helpers for startup, the CLI and tests — never call them on an I/O thread.
  Status WriteSync(WriteFn fn) {
    std::promise<Status> p;
    auto f = p.get_future();
    SubmitWrite(std::move(fn), [&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
  template <typename T>
  Result<T> ReadSync(std::function<Result<T>(Reader&)> fn) {
    std::promise<Result<T>> p;
    auto f = p.get_future();
    SubmitRead([&](Reader& r) { p.set_value(fn(r)); });
    return f.get();
  }
};

}  // namespace parley::store

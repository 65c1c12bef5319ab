// src/store/contract/store_contract_test.h
//
// The backend-neutral contract of store.h as a parameterised GoogleTest suite. Every backend
// instantiates it with a factory that opens a fresh, empty store in a temporary directory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(
//       StoreFactory([](const std::string& dir) -> std::unique_ptr<Store> { … })));
//
// Orders the suite pins down beyond store.h: ListTenants, ListApiKeys, ListEndpoints,
// ListConnections, ListDeadLetters and ListAudit are ascending by id (ids sort by creation
// time); `page.after` is always the last id of the previous page; every list limit is 1..500.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <tuple>

#include "core/test_temp_dir.h"
#include "store/store.h"

namespace parley::store::contract {

// Every field of a record, for whole-record comparisons with EXPECT_EQ.
inline auto Fields(const TenantRecord& r) {
  return std::tie(r.id, r.name, r.wrapped_key, r.settings_json, r.created_at);
}
inline auto Fields(const ApiKeyRecord& r) {
  return std::tie(r.id, r.tenant, r.name, r.secret_hash, r.scopes, r.created_at);
}
inline auto Fields(const EndpointRecord& r) {
  return std::tie(r.id, r.tenant, r.url, r.secret_sealed, r.previous_secret_sealed,
                  r.previous_secret_expires_at, r.created_at, r.updated_at);
}
inline auto Fields(const ConnectionRecord& r) {
  return std::tie(r.id, r.tenant, r.kind, r.name, r.identity_sealed, r.identity_index,
                  r.credentials_sealed, r.settings_json, r.created_at);
}
inline auto Fields(const CustomerRecord& r) {
  return std::tie(r.id, r.tenant, r.channel_kind, r.contact_sealed, r.contact_index,
                  r.profile_sealed, r.first_seen, r.last_seen);
}
inline auto Fields(const ConversationRecord& r) {
  return std::tie(r.id, r.tenant, r.connection, r.customer, r.state, r.started_at,
                  r.last_activity_at, r.ended_at, r.end_reason, r.context_sealed, r.cookies_sealed,
                  r.private_sealed);
}
inline auto Fields(const MessageRecord& r) {
  return std::tie(r.id, r.tenant, r.conversation, r.connection, r.direction, r.body_sealed,
                  r.status, r.created_at, r.updated_at);
}
inline auto Fields(const EventRecord& r) {
  return std::tie(r.seq, r.id, r.tenant, r.conversation, r.type, r.payload_sealed, r.created_at);
}
inline auto Fields(const OutboxRecord& r) {
  return std::tie(r.seq, r.kind, r.tenant, r.target_id, r.ref_id, r.conversation_id, r.attempts,
                  r.created_at, r.next_attempt_at, r.last_error);
}
inline auto Fields(const DeadLetterRecord& r) {
  return std::tie(r.id, r.tenant, r.kind, r.target_id, r.ref_id, r.conversation_id, r.attempts,
                  r.last_error, r.created_at, r.failed_at);
}
inline auto Fields(const IdempotencyRecord& r) {
  return std::tie(r.tenant, r.key_hash, r.request_hash, r.response_status, r.response_sealed,
                  r.created_at);
}
inline auto Fields(const AuditRecord& r) {
  return std::tie(r.id, r.at, r.actor, r.action, r.tenant, r.target, r.detail_json);
}

// Opens a new, empty store whose files live under `temp_dir` (removed after the test).
using StoreFactory = std::function<std::unique_ptr<Store>(const std::string& temp_dir)>;

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return *store_; }
  Status Write(Store::WriteFn fn) { return store_->WriteSync(std::move(fn)); }
  template <typename T>
  Result<T> Read(std::function<Result<T>(Reader&)> fn) {
    return store_->ReadSync<T>(std::move(fn));
  }
  // Queues a write without waiting; the future yields its `done` status.
  std::future<Status> SubmitAsync(Store::WriteFn fn);

  // Fully populated records (binary sealed fields contain NUL bytes, times carry
  // milliseconds). `n` varies ids' time and contents so records sort by creation.
  static TimePoint T(int n);  // a base time plus n seconds and n milliseconds
  static TenantRecord MakeTenant(int n = 0);
  static ApiKeyRecord MakeApiKey(const TenantId& t, int n = 0);
  static EndpointRecord MakeEndpoint(const TenantId& t, int n = 0);
  static ConnectionRecord MakeConnection(const TenantId& t, int n = 0);
  static CustomerRecord MakeCustomer(const TenantId& t, int n = 0);
  static ConversationRecord MakeConversation(const TenantId& t, const ConnectionId& cn,
                                             const CustomerId& cu, int n = 0);
  static MessageRecord MakeMessage(const TenantId& t, const ConversationId& cv,
                                   const ConnectionId& cn, int n = 0);
  static EventRecord MakeEvent(const TenantId& t, const ConversationId& cv, int n = 0);
  static OutboxRecord MakeOutbox(const TenantId& t, OutboxKind kind, int n = 0);
  static DeadLetterRecord MakeDeadLetter(const TenantId& t, int n = 0);
  static IdempotencyRecord MakeIdempotency(const TenantId& t, int n = 0);
  static AuditRecord MakeAudit(const std::optional<TenantId>& t, int n = 0);

  // One of every record for `tenant`, inserted in one write. Used by isolation and deletion
  // tests; `s` receives the inserted records.
  struct Seeded {
    TenantRecord tenant;
    ApiKeyRecord api_key;
    EndpointRecord endpoint;
    ConnectionRecord connection;
    CustomerRecord customer;
    ConversationRecord conversation;
    MessageRecord message;
    EventRecord event;
    OutboxRecord outbox;
    DeadLetterRecord dead_letter;
    IdempotencyRecord idempotency;
    AuditRecord audit;
  };
  Seeded SeedTenant(int n);

  TestTempDir tmp_{"parley_store_contract"};
  const std::string dir_ = tmp_.path();  // the store's directory (GetParam()'s argument)
  std::unique_ptr<Store> store_;
};

}  // namespace parley::store::contract

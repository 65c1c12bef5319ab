// Contract suite, part 1: fixture, record builders, round trips of every record, kNotFound,
// kAlreadyExists and list validation. store_contract_isolation_test.cc covers tenant
// isolation; store_contract_flow_test.cc write semantics, ordering and concurrency.
#include "store/contract/store_contract_test.h"

#include <filesystem>

#include "store/store_util.h"

namespace parley::store::contract {

namespace {

// Sealed values are arbitrary bytes: include NUL and high bytes.
std::string Bin(std::string_view tag, int n) {
  std::string s(tag);
  s.push_back('\0');
  s.push_back(static_cast<char>(0xff));
  s += std::to_string(n);
  s.push_back('\0');
  return s;
}

}  // namespace

void StoreContractTest::SetUp() {
  ASSERT_TRUE(tmp_.ok());
  store_ = GetParam()(dir_);
  ASSERT_NE(store_, nullptr);
}

void StoreContractTest::TearDown() { store_.reset(); }

std::future<Status> StoreContractTest::SubmitAsync(Store::WriteFn fn) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  store_->SubmitWrite(std::move(fn), [promise](Status s) { promise->set_value(std::move(s)); });
  return future;
}

TimePoint StoreContractTest::T(int n) {
  return FromUnixMillis(1'700'000'000'123 + int64_t{n} * 1001);
}

TenantRecord StoreContractTest::MakeTenant(int n) {
  return {TenantId::New(T(n)), "Tenant " + std::to_string(n), Bin("wrapped", n),
          R"({"timeout_minutes":30})", T(n)};
}

ApiKeyRecord StoreContractTest::MakeApiKey(const TenantId& t, int n) {
  return {ApiKeyId::New(T(n)),
          t,
          "key " + std::to_string(n),
          "hash" + std::to_string(n),
          {"messages:write", "conversations:read"},
          T(n)};
}

EndpointRecord StoreContractTest::MakeEndpoint(const TenantId& t, int n) {
  return {EndpointId::New(T(n)),
          t,
          "https://app.example/hook/" + std::to_string(n),
          Bin("secret", n),
          Bin("old", n),
          T(n + 100),
          T(n),
          T(n + 1)};
}

ConnectionRecord StoreContractTest::MakeConnection(const TenantId& t, int n) {
  ConnectionId id = ConnectionId::New(T(n));
  return {id,
          t,
          "whatsapp",
          "line " + std::to_string(n),
          Bin("identity", n),
          "idx-" + id.str(),
          Bin("creds", n),
          R"({"url":"https://x"})",
          T(n)};
}

CustomerRecord StoreContractTest::MakeCustomer(const TenantId& t, int n) {
  CustomerId id = CustomerId::New(T(n));
  return {id,   t,       "whatsapp", Bin("contact", n), "contact-" + id.str(), Bin("profile", n),
          T(n), T(n + 5)};
}

ConversationRecord StoreContractTest::MakeConversation(const TenantId& t, const ConnectionId& cn,
                                                       const CustomerId& cu, int n) {
  ConversationRecord r;
  r.id = ConversationId::New(T(n));
  r.tenant = t;
  r.connection = cn;
  r.customer = cu;
  r.state = ConversationState::kOpen;
  r.started_at = T(n);
  r.last_activity_at = T(n + 2);
  r.context_sealed = Bin("context", n);
  r.cookies_sealed = Bin("cookies", n);
  r.private_sealed = Bin("private", n);
  return r;
}

MessageRecord StoreContractTest::MakeMessage(const TenantId& t, const ConversationId& cv,
                                             const ConnectionId& cn, int n) {
  return {MessageId::New(T(n)), t,          cv,   cn,      Direction::kInbound,
          Bin("body", n),       "received", T(n), T(n + 1)};
}

EventRecord StoreContractTest::MakeEvent(const TenantId& t, const ConversationId& cv, int n) {
  EventRecord r;
  r.id = EventId::New(T(n));
  r.tenant = t;
  r.conversation = cv;
  r.type = "message.created";
  r.payload_sealed = Bin("payload", n);
  r.created_at = T(n);
  return r;
}

OutboxRecord StoreContractTest::MakeOutbox(const TenantId& t, OutboxKind kind, int n) {
  OutboxRecord r;
  r.kind = kind;
  r.tenant = t;
  r.target_id = EndpointId::New(T(n)).str();
  r.ref_id = EventId::New(T(n)).str();
  r.conversation_id = ConversationId::New(T(n)).str();
  r.attempts = n;
  r.created_at = T(n);
  r.next_attempt_at = T(n + 3);
  r.last_error = n == 0 ? "" : "http 503";
  return r;
}

DeadLetterRecord StoreContractTest::MakeDeadLetter(const TenantId& t, int n) {
  return {DeadLetterId::New(T(n)),
          t,
          OutboxKind::kChannelSend,
          ConnectionId::New(T(n)).str(),
          MessageId::New(T(n)).str(),
          ConversationId::New(T(n)).str(),
          17,
          "http 500",
          T(n),
          T(n + 86400)};
}

IdempotencyRecord StoreContractTest::MakeIdempotency(const TenantId& t, int n) {
  return {t, "key-" + std::to_string(n), "req-" + std::to_string(n), 201, Bin("response", n), T(n)};
}

AuditRecord StoreContractTest::MakeAudit(const std::optional<TenantId>& t, int n) {
  return {AuditId::New(T(n)),
          T(n),
          "operator",
          "tenant.create",
          t,
          "tn_x",
          R"({"n":)" + std::to_string(n) + "}"};
}

StoreContractTest::Seeded StoreContractTest::SeedTenant(int n) {
  Seeded s;
  s.tenant = MakeTenant(n);
  const TenantId& t = s.tenant.id;
  s.api_key = MakeApiKey(t, n);
  s.endpoint = MakeEndpoint(t, n);
  s.connection = MakeConnection(t, n);
  s.customer = MakeCustomer(t, n);
  s.conversation = MakeConversation(t, s.connection.id, s.customer.id, n);
  s.message = MakeMessage(t, s.conversation.id, s.connection.id, n);
  s.event = MakeEvent(t, s.conversation.id, n);
  s.outbox = MakeOutbox(t, OutboxKind::kWebhook, n);
  s.dead_letter = MakeDeadLetter(t, n);
  s.idempotency = MakeIdempotency(t, n);
  s.audit = MakeAudit(t, n);
  Status st = Write([&](Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.InsertTenant(s.tenant));
    PARLEY_RETURN_IF_ERROR(w.InsertApiKey(s.api_key));
    PARLEY_RETURN_IF_ERROR(w.InsertEndpoint(s.endpoint));
    PARLEY_RETURN_IF_ERROR(w.InsertConnection(s.connection));
    PARLEY_RETURN_IF_ERROR(w.InsertCustomer(s.customer));
    PARLEY_RETURN_IF_ERROR(w.InsertConversation(s.conversation));
    PARLEY_RETURN_IF_ERROR(w.InsertMessage(s.message));
    PARLEY_RETURN_IF_ERROR(
        w.RecordInboundOnce(t, s.connection.id, "wamid-" + t.str(), s.message.id, T(n)).status());
    PARLEY_ASSIGN_OR_RETURN(s.event.seq, w.InsertEvent(s.event));
    PARLEY_ASSIGN_OR_RETURN(s.outbox.seq, w.InsertOutbox(s.outbox));
    PARLEY_RETURN_IF_ERROR(w.InsertDeadLetter(s.dead_letter));
    PARLEY_RETURN_IF_ERROR(w.InsertIdempotency(s.idempotency));
    return w.InsertAudit(s.audit);
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

// ---- round trips ------------------------------------------------------------------------

TEST_P(StoreContractTest, SeededRecordsReadBackWithEveryFieldPreserved) {
  Seeded s = SeedTenant(1);
  const TenantId& t = s.tenant.id;
  auto tenant = Read<TenantRecord>([&](Reader& r) { return r.GetTenant(t); });
  ASSERT_TRUE(tenant.ok()) << tenant.status().ToString();
  EXPECT_EQ(Fields(*tenant), Fields(s.tenant));
  auto key = Read<ApiKeyRecord>([&](Reader& r) { return r.GetApiKey(s.api_key.id); });
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Fields(*key), Fields(s.api_key));
  auto ep = Read<EndpointRecord>([&](Reader& r) { return r.GetEndpoint(t, s.endpoint.id); });
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(Fields(*ep), Fields(s.endpoint));
  auto cn = Read<ConnectionRecord>([&](Reader& r) { return r.GetConnection(t, s.connection.id); });
  ASSERT_TRUE(cn.ok());
  EXPECT_EQ(Fields(*cn), Fields(s.connection));
  auto cu = Read<CustomerRecord>([&](Reader& r) { return r.GetCustomer(t, s.customer.id); });
  ASSERT_TRUE(cu.ok());
  EXPECT_EQ(Fields(*cu), Fields(s.customer));
  auto cv =
      Read<ConversationRecord>([&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ(Fields(*cv), Fields(s.conversation));
  auto msg = Read<MessageRecord>([&](Reader& r) { return r.GetMessage(t, s.message.id); });
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Fields(*msg), Fields(s.message));
  auto ev = Read<EventRecord>([&](Reader& r) { return r.GetEvent(t, s.event.id); });
  ASSERT_TRUE(ev.ok());
  EXPECT_GT(ev->seq, 0);
  EXPECT_EQ(Fields(*ev), Fields(s.event));
  auto ob = Read<std::vector<OutboxRecord>>(
      [&](Reader& r) { return r.ListOutbox(OutboxKind::kWebhook, 10); });
  ASSERT_TRUE(ob.ok());
  ASSERT_EQ(ob->size(), 1u);
  EXPECT_EQ(Fields((*ob)[0]), Fields(s.outbox));
  auto dl = Read<DeadLetterRecord>([&](Reader& r) { return r.GetDeadLetter(t, s.dead_letter.id); });
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(Fields(*dl), Fields(s.dead_letter));
  auto idem = Read<IdempotencyRecord>(
      [&](Reader& r) { return r.GetIdempotency(t, s.idempotency.key_hash); });
  ASSERT_TRUE(idem.ok());
  EXPECT_EQ(Fields(*idem), Fields(s.idempotency));
  auto audit = Read<std::vector<AuditRecord>>([&](Reader& r) { return r.ListAudit(t, {}); });
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(Fields((*audit)[0]), Fields(s.audit));
}

TEST_P(StoreContractTest, EmptyAndOptionalFieldsRoundTrip) {
  TenantRecord t = MakeTenant(2);
  t.wrapped_key.clear();
  t.settings_json.clear();
  EndpointRecord ep = MakeEndpoint(t.id, 2);
  ep.previous_secret_sealed.clear();
  ep.previous_secret_expires_at.reset();
  ApiKeyRecord key = MakeApiKey(t.id, 2);
  key.scopes.clear();
  EventRecord ev = MakeEvent(t.id, ConversationId::New(T(2)), 2);
  ev.conversation.reset();
  AuditRecord au = MakeAudit(std::nullopt, 2);
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
                PARLEY_RETURN_IF_ERROR(w.InsertEndpoint(ep));
                PARLEY_RETURN_IF_ERROR(w.InsertApiKey(key));
                PARLEY_ASSIGN_OR_RETURN(ev.seq, w.InsertEvent(ev));
                return w.InsertAudit(au);
              }).ok());
  auto got_t = Read<TenantRecord>([&](Reader& r) { return r.GetTenant(t.id); });
  ASSERT_TRUE(got_t.ok());
  EXPECT_EQ(Fields(*got_t), Fields(t));
  auto got_ep = Read<EndpointRecord>([&](Reader& r) { return r.GetEndpoint(t.id, ep.id); });
  ASSERT_TRUE(got_ep.ok());
  EXPECT_EQ(Fields(*got_ep), Fields(ep));
  auto got_key = Read<ApiKeyRecord>([&](Reader& r) { return r.GetApiKey(key.id); });
  ASSERT_TRUE(got_key.ok());
  EXPECT_EQ(Fields(*got_key), Fields(key));
  auto got_ev = Read<EventRecord>([&](Reader& r) { return r.GetEvent(t.id, ev.id); });
  ASSERT_TRUE(got_ev.ok());
  EXPECT_EQ(Fields(*got_ev), Fields(ev));
  auto got_au =
      Read<std::vector<AuditRecord>>([&](Reader& r) { return r.ListAudit(std::nullopt, {}); });
  ASSERT_TRUE(got_au.ok());
  ASSERT_EQ(got_au->size(), 1u);
  EXPECT_EQ(Fields((*got_au)[0]), Fields(au));
}

TEST_P(StoreContractTest, ListsOfTenantChildrenReturnEveryRecordById) {
  TenantRecord t = MakeTenant(3);
  std::vector<ApiKeyRecord> keys = {MakeApiKey(t.id, 1), MakeApiKey(t.id, 2)};
  std::vector<EndpointRecord> eps = {MakeEndpoint(t.id, 1), MakeEndpoint(t.id, 2)};
  std::vector<ConnectionRecord> cns = {MakeConnection(t.id, 1), MakeConnection(t.id, 2)};
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
                for (auto& k : keys) PARLEY_RETURN_IF_ERROR(w.InsertApiKey(k));
                for (auto& e : eps) PARLEY_RETURN_IF_ERROR(w.InsertEndpoint(e));
                for (auto& c : cns) PARLEY_RETURN_IF_ERROR(w.InsertConnection(c));
                return OkStatus();
              }).ok());
  auto got_keys = Read<std::vector<ApiKeyRecord>>([&](Reader& r) { return r.ListApiKeys(t.id); });
  ASSERT_TRUE(got_keys.ok());
  ASSERT_EQ(got_keys->size(), 2u);
  EXPECT_EQ(Fields((*got_keys)[0]), Fields(keys[0]));
  EXPECT_EQ(Fields((*got_keys)[1]), Fields(keys[1]));
  auto got_eps =
      Read<std::vector<EndpointRecord>>([&](Reader& r) { return r.ListEndpoints(t.id); });
  ASSERT_TRUE(got_eps.ok());
  ASSERT_EQ(got_eps->size(), 2u);
  EXPECT_EQ(Fields((*got_eps)[1]), Fields(eps[1]));
  auto got_cns =
      Read<std::vector<ConnectionRecord>>([&](Reader& r) { return r.ListConnections(t.id); });
  ASSERT_TRUE(got_cns.ok());
  ASSERT_EQ(got_cns->size(), 2u);
  EXPECT_EQ(Fields((*got_cns)[0]), Fields(cns[0]));
}

TEST_P(StoreContractTest, ConnectionsAreFoundByIdAloneAndByIdentity) {
  TenantRecord t = MakeTenant(4);
  ConnectionRecord with = MakeConnection(t.id, 1);
  ConnectionRecord without = MakeConnection(t.id, 2);
  without.identity_index.clear();
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.InsertConnection(with));
                return w.InsertConnection(without);
              }).ok());
  auto by_id = Read<ConnectionRecord>([&](Reader& r) { return r.GetConnectionById(with.id); });
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(Fields(*by_id), Fields(with));
  auto by_identity = Read<ConnectionRecord>(
      [&](Reader& r) { return r.FindConnectionByIdentity("whatsapp", with.identity_index); });
  ASSERT_TRUE(by_identity.ok());
  EXPECT_EQ(by_identity->id, with.id);
  auto other_kind = Read<ConnectionRecord>(
      [&](Reader& r) { return r.FindConnectionByIdentity("messenger", with.identity_index); });
  EXPECT_EQ(other_kind.status().code(), StatusCode::kNotFound);
  auto empty =
      Read<ConnectionRecord>([&](Reader& r) { return r.FindConnectionByIdentity("whatsapp", ""); });
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, CustomerIsFoundByContactAndTouchMovesLastSeen) {
  TenantRecord t = MakeTenant(5);
  CustomerRecord cu = MakeCustomer(t.id, 1);
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertCustomer(cu); }).ok());
  auto found = Read<CustomerRecord>(
      [&](Reader& r) { return r.FindCustomerByContact(t.id, "whatsapp", cu.contact_index); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(Fields(*found), Fields(cu));
  auto other_kind = Read<CustomerRecord>(
      [&](Reader& r) { return r.FindCustomerByContact(t.id, "telegram", cu.contact_index); });
  EXPECT_EQ(other_kind.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Write([&](Writer& w) { return w.TouchCustomer(t.id, cu.id, T(50)); }).ok());
  auto touched = Read<CustomerRecord>([&](Reader& r) { return r.GetCustomer(t.id, cu.id); });
  ASSERT_TRUE(touched.ok());
  EXPECT_EQ(touched->last_seen, T(50));
  EXPECT_EQ(touched->first_seen, cu.first_seen);
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteCustomer(t.id, cu.id); }).ok());
  EXPECT_EQ(
      Read<CustomerRecord>([&](Reader& r) { return r.GetCustomer(t.id, cu.id); }).status().code(),
      StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ConversationActivityIsWrittenAtMostOncePerResolution) {
  Seeded s = SeedTenant(7);
  const TenantId& t = s.tenant.id;
  auto stored = [&] {
    auto cv = Read<ConversationRecord>(
        [&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
    EXPECT_TRUE(cv.ok());
    return cv.ok() ? cv->last_activity_at : TimePoint{};
  };
  const TimePoint start = stored();
  ConversationRecord cv = s.conversation;
  auto touch = [&](TimePoint now) {
    ASSERT_TRUE(Write([&](Writer& w) { return TouchConversationIfDue(w, cv, now); }).ok());
  };
  touch(start + std::chrono::milliseconds(999));  // within the resolution: not written
  EXPECT_EQ(stored(), start);
  EXPECT_EQ(cv.last_activity_at, start);
  touch(start + kActivityResolution);  // a second on: written
  EXPECT_EQ(stored(), start + kActivityResolution);
  EXPECT_EQ(cv.last_activity_at, start + kActivityResolution);
  // A time finer than the stored millisecond is kept as stored.
  touch(start + std::chrono::milliseconds(2500) + std::chrono::microseconds(700));
  EXPECT_EQ(stored(), start + std::chrono::milliseconds(2500));
  EXPECT_EQ(cv.last_activity_at, start + std::chrono::milliseconds(2500));
}

TEST_P(StoreContractTest, AnIdleEndLeavesAConversationActiveSinceItWasListed) {
  Seeded s = SeedTenant(2);
  const TenantId& t = s.tenant.id;
  auto cv = [&] {
    return Read<ConversationRecord>(
        [&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
  };
  const TimePoint last = cv()->last_activity_at;
  // Listed as idle before `last`, but its activity is at `last`: it stays open.
  EXPECT_EQ(Write([&](Writer& w) {
              return w.EndIdleConversation(t, s.conversation.id, T(90), last);
            }).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(cv()->state, ConversationState::kOpen);
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.EndIdleConversation(t, s.conversation.id, T(90),
                                             last + std::chrono::milliseconds(1));
              }).ok());
  EXPECT_EQ(cv()->state, ConversationState::kEnded);
  EXPECT_EQ(cv()->end_reason, "inactivity");
  EXPECT_EQ(cv()->ended_at, T(90));
  EXPECT_EQ(Write([&](Writer& w) {
              return w.EndIdleConversation(t, s.conversation.id, T(91), T(1000));
            }).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Write([&](Writer& w) {
              return w.EndIdleConversation(t, ConversationId::New(T(5)), T(91), T(1000));
            }).code(),
            StatusCode::kNotFound);
}

TEST_P(StoreContractTest, UpdatesChangeOnlyTheirFields) {
  Seeded s = SeedTenant(6);
  const TenantId& t = s.tenant.id;
  EndpointRecord ep = s.endpoint;
  ep.url = "https://new.example/hook";
  ep.secret_sealed = Bin("rotated", 6);
  ep.previous_secret_sealed = s.endpoint.secret_sealed;
  ep.previous_secret_expires_at = T(500);
  ep.updated_at = T(400);
  ep.created_at = T(999);  // must not change
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.UpdateTenantSettings(t, R"({"a":1})"));
                PARLEY_RETURN_IF_ERROR(w.UpdateEndpoint(ep));
                PARLEY_RETURN_IF_ERROR(w.TouchConversation(t, s.conversation.id, T(300)));
                return w.UpdateMessageStatus(t, s.message.id, "delivered", T(301));
              }).ok());
  auto tenant = Read<TenantRecord>([&](Reader& r) { return r.GetTenant(t); });
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->settings_json, R"({"a":1})");
  EXPECT_EQ(tenant->wrapped_key, s.tenant.wrapped_key);
  auto got_ep = Read<EndpointRecord>([&](Reader& r) { return r.GetEndpoint(t, ep.id); });
  ASSERT_TRUE(got_ep.ok());
  ep.created_at = s.endpoint.created_at;
  EXPECT_EQ(Fields(*got_ep), Fields(ep));
  auto cv =
      Read<ConversationRecord>([&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ(cv->last_activity_at, T(300));
  EXPECT_EQ(cv->started_at, s.conversation.started_at);
  auto msg = Read<MessageRecord>([&](Reader& r) { return r.GetMessage(t, s.message.id); });
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->status, "delivered");
  EXPECT_EQ(msg->updated_at, T(301));
  EXPECT_EQ(msg->body_sealed, s.message.body_sealed);
}

// ---- errors ---------------------------------------------------------------------------

TEST_P(StoreContractTest, MissingIdsAnswerNotFound) {
  TenantId t = TenantId::New(T(0));
  auto code = [&](auto fn) {
    return Read<bool>([&](Reader& r) -> Result<bool> {
             Status s = fn(r);
             if (s.ok()) return true;
             return s;
           })
        .status()
        .code();
  };
  constexpr StatusCode kNF = StatusCode::kNotFound;
  EXPECT_EQ(code([&](Reader& r) { return r.GetTenant(t).status(); }), kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetApiKey(ApiKeyId::New(T(0))).status(); }), kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetEndpoint(t, EndpointId::New(T(0))).status(); }), kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetConnection(t, ConnectionId::New(T(0))).status(); }),
            kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetConnectionById(ConnectionId::New(T(0))).status(); }),
            kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetCustomer(t, CustomerId::New(T(0))).status(); }), kNF);
  EXPECT_EQ(
      code([&](Reader& r) { return r.GetConversation(t, ConversationId::New(T(0))).status(); }),
      kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetMessage(t, MessageId::New(T(0))).status(); }), kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetEvent(t, EventId::New(T(0))).status(); }), kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetDeadLetter(t, DeadLetterId::New(T(0))).status(); }),
            kNF);
  EXPECT_EQ(code([&](Reader& r) { return r.GetIdempotency(t, "nope").status(); }), kNF);

  auto wcode = [&](Store::WriteFn fn) { return Write(std::move(fn)).code(); };
  EXPECT_EQ(wcode([&](Writer& w) { return w.UpdateTenantSettings(t, "{}"); }), kNF);
  EXPECT_EQ(wcode([&](Writer& w) { return w.ClearTenantKey(t); }), kNF);
  EXPECT_EQ(wcode([&](Writer& w) { return w.DeleteTenantData(t); }), kNF);
  EXPECT_EQ(wcode([&](Writer& w) { return w.UpdateEndpoint(MakeEndpoint(t)); }), kNF);
  EXPECT_EQ(wcode([&](Writer& w) {
              return w.EndConversation(t, ConversationId::New(T(0)), T(1), "agent");
            }),
            kNF);
  EXPECT_EQ(wcode([&](Writer& w) { return w.RescheduleOutbox(987654, 1, T(1), "x"); }), kNF);
  EXPECT_EQ(wcode([&](Writer& w) { return w.DeleteOutbox({987654}); }), StatusCode::kOk);
}

TEST_P(StoreContractTest, DuplicateInsertsAnswerAlreadyExists) {
  Seeded s = SeedTenant(7);
  const TenantId& t = s.tenant.id;
  auto code = [&](Store::WriteFn fn) { return Write(std::move(fn)).code(); };
  constexpr StatusCode kAE = StatusCode::kAlreadyExists;
  EXPECT_EQ(code([&](Writer& w) { return w.InsertTenant(s.tenant); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertApiKey(s.api_key); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertEndpoint(s.endpoint); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertConnection(s.connection); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertCustomer(s.customer); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertConversation(s.conversation); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertMessage(s.message); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertEvent(s.event).status(); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertDeadLetter(s.dead_letter); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertIdempotency(s.idempotency); }), kAE);
  EXPECT_EQ(code([&](Writer& w) { return w.InsertAudit(s.audit); }), kAE);
  // Unique secondary keys: the same contact of one tenant, the same provider identity.
  CustomerRecord same_contact = MakeCustomer(t, 8);
  same_contact.contact_index = s.customer.contact_index;
  EXPECT_EQ(code([&](Writer& w) { return w.InsertCustomer(same_contact); }), kAE);
  ConnectionRecord same_identity = MakeConnection(t, 8);
  same_identity.identity_index = s.connection.identity_index;
  EXPECT_EQ(code([&](Writer& w) { return w.InsertConnection(same_identity); }), kAE);
  // Another tenant may hold the same contact index and idempotency key.
  TenantRecord other = MakeTenant(9);
  CustomerRecord other_contact = MakeCustomer(other.id, 9);
  other_contact.contact_index = s.customer.contact_index;
  IdempotencyRecord other_idem = s.idempotency;
  other_idem.tenant = other.id;
  EXPECT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.InsertCustomer(other_contact));
                return w.InsertIdempotency(other_idem);
              }).ok());
}

TEST_P(StoreContractTest, ApiKeyScopesMustBeNonEmptyWordsWithoutSpaces) {
  TenantId t = TenantId::New(T(0));
  for (std::vector<std::string> bad :
       {std::vector<std::string>{"messages:write admin"}, std::vector<std::string>{""}}) {
    ApiKeyRecord key = MakeApiKey(t, 1);
    key.scopes = bad;
    EXPECT_EQ(Write([&](Writer& w) { return w.InsertApiKey(key); }).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(Read<ApiKeyRecord>([&](Reader& r) { return r.GetApiKey(key.id); }).status().code(),
              StatusCode::kNotFound);
  }
}

TEST_P(StoreContractTest, ListLimitsAndCursorsAreValidated) {
  TenantId t = TenantId::New(T(0));
  auto code = [&](std::function<Status(Reader&)> fn) {
    return Read<bool>([&](Reader& r) -> Result<bool> {
             Status s = fn(r);
             if (s.ok()) return true;
             return s;
           })
        .status()
        .code();
  };
  constexpr StatusCode kIA = StatusCode::kInvalidArgument;
  for (int bad : {0, -1, 501}) {
    Page page{"", bad};
    EXPECT_EQ(code([&](Reader& r) { return r.ListTenants(page).status(); }), kIA) << bad;
    EXPECT_EQ(code([&](Reader& r) { return r.ListConversations(t, {}, page).status(); }), kIA);
    EXPECT_EQ(code([&](Reader& r) {
                return r.ListMessages(t, ConversationId::New(T(0)), page).status();
              }),
              kIA);
    EXPECT_EQ(code([&](Reader& r) { return r.ListDeadLetters(t, page).status(); }), kIA);
    EXPECT_EQ(code([&](Reader& r) { return r.ListAudit(t, page).status(); }), kIA);
    EXPECT_EQ(code([&](Reader& r) { return r.ListEventsAfter(t, 0, bad).status(); }), kIA);
    EXPECT_EQ(code([&](Reader& r) { return r.ListOutbox(OutboxKind::kWebhook, bad).status(); }),
              kIA);
  }
  EXPECT_EQ(code([&](Reader& r) { return r.ListTenants({"", 500}).status(); }), StatusCode::kOk);
  EXPECT_EQ(code([&](Reader& r) { return r.ListTenants({"", 1}).status(); }), StatusCode::kOk);
  Page bad_cursor{"x' OR 1=1 --", 10};
  EXPECT_EQ(code([&](Reader& r) { return r.ListConversations(t, {}, bad_cursor).status(); }), kIA);
  EXPECT_EQ(code([&](Reader& r) { return r.ListTenants({"cv_0", 10}).status(); }), kIA);
  EXPECT_EQ(code([&](Reader& r) { return r.ListEventsAfter(t, -1, 10).status(); }), kIA);
}

}  // namespace parley::store::contract

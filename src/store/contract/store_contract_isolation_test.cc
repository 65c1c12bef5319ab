// Contract suite: tenant isolation. For every tenant-scoped Get/List/Update/Delete, tenant B's
// call with tenant A's ids answers kNotFound (or an empty list) and changes nothing.
#include "store/contract/store_contract_test.h"

namespace parley::store::contract {

// ---- tenant isolation -------------------------------------------------------------------

TEST_P(StoreContractTest, AnotherTenantCannotReadTheRecordsOfATenant) {
  Seeded a = SeedTenant(10);
  Seeded b = SeedTenant(11);
  const TenantId& tb = b.tenant.id;
  auto nf = [&](std::function<Status(Reader&)> fn) {
    return Read<bool>([&](Reader& r) -> Result<bool> {
             Status s = fn(r);
             if (s.ok()) return true;
             return s;
           })
               .status()
               .code() == StatusCode::kNotFound;
  };
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetEndpoint(tb, a.endpoint.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetConnection(tb, a.connection.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetCustomer(tb, a.customer.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) {
    return r.FindCustomerByContact(tb, "whatsapp", a.customer.contact_index).status();
  }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetConversation(tb, a.conversation.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) {
    return r.FindOpenConversation(tb, a.connection.id, a.customer.id).status();
  }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetMessage(tb, a.message.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetEvent(tb, a.event.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetDeadLetter(tb, a.dead_letter.id).status(); }));
  EXPECT_TRUE(nf([&](Reader& r) { return r.GetIdempotency(tb, a.idempotency.key_hash).status(); }));

  auto lists = Read<std::vector<size_t>>([&](Reader& r) -> Result<std::vector<size_t>> {
    std::vector<size_t> sizes;
    PARLEY_ASSIGN_OR_RETURN(auto keys, r.ListApiKeys(tb));
    PARLEY_ASSIGN_OR_RETURN(auto eps, r.ListEndpoints(tb));
    PARLEY_ASSIGN_OR_RETURN(auto cns, r.ListConnections(tb));
    PARLEY_ASSIGN_OR_RETURN(auto cvs, r.ListConversations(tb, {}, {}));
    PARLEY_ASSIGN_OR_RETURN(auto msgs, r.ListMessages(tb, a.conversation.id, {}));
    PARLEY_ASSIGN_OR_RETURN(auto evs, r.ListEventsAfter(tb, 0, 100));
    PARLEY_ASSIGN_OR_RETURN(auto dls, r.ListDeadLetters(tb, {}));
    PARLEY_ASSIGN_OR_RETURN(auto aus, r.ListAudit(tb, {}));
    for (const auto& k : keys) EXPECT_EQ(k.tenant, tb);
    for (const auto& e : eps) EXPECT_EQ(e.tenant, tb);
    for (const auto& c : cns) EXPECT_EQ(c.tenant, tb);
    for (const auto& c : cvs) EXPECT_EQ(c.tenant, tb);
    for (const auto& e : evs) EXPECT_EQ(e.tenant, tb);
    for (const auto& d : dls) EXPECT_EQ(d.tenant, tb);
    for (const auto& a2 : aus) EXPECT_EQ(a2.tenant, tb);
    return std::vector<size_t>{keys.size(), eps.size(), cns.size(), cvs.size(),
                               msgs.size(), evs.size(), dls.size(), aus.size()};
  });
  ASSERT_TRUE(lists.ok()) << lists.status().ToString();
  // B sees exactly its own one record per list, and no message of A's conversation.
  EXPECT_EQ(*lists, (std::vector<size_t>{1, 1, 1, 1, 0, 1, 1, 1}));
}

TEST_P(StoreContractTest, AnotherTenantCannotChangeOrDeleteTheRecordsOfATenant) {
  Seeded a = SeedTenant(12);
  Seeded b = SeedTenant(13);
  const TenantId& ta = a.tenant.id;
  const TenantId& tb = b.tenant.id;
  EndpointRecord hijack = a.endpoint;
  hijack.tenant = tb;
  hijack.url = "https://evil.example";
  std::vector<std::function<Status(Writer&)>> attempts = {
      [&](Writer& w) { return w.DeleteApiKey(tb, a.api_key.id); },
      [&](Writer& w) { return w.UpdateEndpoint(hijack); },
      [&](Writer& w) { return w.DeleteEndpoint(tb, a.endpoint.id); },
      [&](Writer& w) { return w.DeleteConnection(tb, a.connection.id); },
      [&](Writer& w) { return w.TouchCustomer(tb, a.customer.id, T(99)); },
      [&](Writer& w) { return w.DeleteCustomer(tb, a.customer.id); },
      [&](Writer& w) { return w.TouchConversation(tb, a.conversation.id, T(99)); },
      [&](Writer& w) { return w.EndConversation(tb, a.conversation.id, T(99), "agent"); },
      [&](Writer& w) { return w.UpdateMessageStatus(tb, a.message.id, "read", T(99)); },
      [&](Writer& w) { return w.DeleteMessage(tb, a.message.id); },
      [&](Writer& w) { return w.DeleteDeadLetter(tb, a.dead_letter.id); },
  };
  for (size_t i = 0; i < attempts.size(); ++i) {
    EXPECT_EQ(Write(attempts[i]).code(), StatusCode::kNotFound) << "attempt " << i;
  }
  // A's records are untouched.
  auto check = Read<bool>([&](Reader& r) -> Result<bool> {
    PARLEY_ASSIGN_OR_RETURN(auto key, r.GetApiKey(a.api_key.id));
    EXPECT_EQ(Fields(key), Fields(a.api_key));
    PARLEY_ASSIGN_OR_RETURN(auto ep, r.GetEndpoint(ta, a.endpoint.id));
    EXPECT_EQ(Fields(ep), Fields(a.endpoint));
    PARLEY_ASSIGN_OR_RETURN(auto cn, r.GetConnection(ta, a.connection.id));
    EXPECT_EQ(Fields(cn), Fields(a.connection));
    PARLEY_ASSIGN_OR_RETURN(auto cu, r.GetCustomer(ta, a.customer.id));
    EXPECT_EQ(Fields(cu), Fields(a.customer));
    PARLEY_ASSIGN_OR_RETURN(auto cv, r.GetConversation(ta, a.conversation.id));
    EXPECT_EQ(Fields(cv), Fields(a.conversation));
    PARLEY_ASSIGN_OR_RETURN(auto msg, r.GetMessage(ta, a.message.id));
    EXPECT_EQ(Fields(msg), Fields(a.message));
    PARLEY_ASSIGN_OR_RETURN(auto dl, r.GetDeadLetter(ta, a.dead_letter.id));
    EXPECT_EQ(Fields(dl), Fields(a.dead_letter));
    return true;
  });
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  // Inbound dedupe is scoped by tenant: B recording A's key gets its own fresh entry.
  MessageId b_msg = MessageId::New(T(13));
  Result<std::optional<MessageId>> prior = std::optional<MessageId>();
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                prior = w.RecordInboundOnce(tb, a.connection.id, "wamid-" + ta.str(), b_msg, T(13));
                return prior.status();
              }).ok());
  ASSERT_TRUE(prior.ok());
  EXPECT_FALSE(prior->has_value());
}

// A webhook cursor or a stream's resume point that has passed a seq must never see a new
// event take that seq, even once the events at and below it are gone (here: the newest
// events, all of another tenant's, deleted with it); the cursor would pass the new one by.
TEST_P(StoreContractTest, DeletingTheTenantWithTheNewestEventsDoesNotLetTheirSeqsBeReused) {
  Seeded a = SeedTenant(20);
  Seeded b = SeedTenant(21);
  int64_t newest = 0;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (int i = 1; i <= 3; ++i) {
                  PARLEY_ASSIGN_OR_RETURN(
                      newest, w.InsertEvent(MakeEvent(a.tenant.id, a.conversation.id, 100 + i)));
                }
                return OkStatus();
              }).ok());
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteTenantData(a.tenant.id); }).ok());
  int64_t next = 0;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(
                    next, w.InsertEvent(MakeEvent(b.tenant.id, b.conversation.id, 200)));
                return OkStatus();
              }).ok());
  EXPECT_GT(next, newest);
  auto after = Read<std::vector<EventRecord>>(
      [&](Reader& r) { return r.ListEventsAfter(b.tenant.id, newest, 10); });
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].seq, next);
}

}  // namespace parley::store::contract

// Contract suite: attachment rows (lookup, expiry order, tenant isolation) and customer
// erasure, which must leave nothing of the customer and nothing of anyone else missing.
#include "store/contract/store_contract_test.h"

namespace parley::store::contract {
namespace {

// `created` and `expires` come from StoreContractTest::T (protected, so passed in).
AttachmentRecord MakeAttachment(const TenantId& t, std::optional<CustomerId> customer,
                                std::optional<ConversationId> conversation, int n,
                                TimePoint created, TimePoint expires) {
  AttachmentRecord r;
  r.id = AttachmentId::FromTrusted("att_01J0000000000000000000000" + std::string(1, 'A' + n));
  r.tenant = t;
  r.customer = std::move(customer);
  r.conversation = std::move(conversation);
  r.blob_name = std::string(31, 'a') + std::string(1, 'a' + n);
  r.mime_type = "image/png";
  r.size_bytes = 1000 + n;
  r.meta_sealed = std::string("sealed\0meta", 11) + std::to_string(n);
  r.created_at = created;
  r.expires_at = expires;
  return r;
}

auto AttachmentFields(const AttachmentRecord& r) {
  return std::tie(r.id, r.tenant, r.customer, r.conversation, r.blob_name, r.mime_type,
                  r.size_bytes, r.meta_sealed, r.created_at, r.expires_at);
}

}  // namespace

TEST_P(StoreContractTest, AttachmentsAreFoundExpiredInOrderAndIsolatedByTenant) {
  Seeded a = SeedTenant(20);
  Seeded b = SeedTenant(21);
  const AttachmentRecord first =
      MakeAttachment(a.tenant.id, a.customer.id, std::nullopt, 1, T(1), T(100 + 1));
  const AttachmentRecord second = MakeAttachment(a.tenant.id, std::nullopt, a.conversation.id, 0,
                                                 T(0), T(100 + 0));  // expires sooner
  ASSERT_TRUE(Write([&](Writer& w) {
                PARLEY_RETURN_IF_ERROR(w.InsertAttachment(first));
                return w.InsertAttachment(second);
              }).ok());
  EXPECT_EQ(Write([&](Writer& w) { return w.InsertAttachment(first); }).code(),
            StatusCode::kAlreadyExists);

  auto got =
      Read<AttachmentRecord>([&](Reader& r) { return r.GetAttachment(a.tenant.id, first.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(AttachmentFields(*got), AttachmentFields(first));
  auto by_id = Read<AttachmentRecord>([&](Reader& r) { return r.GetAttachmentById(second.id); });
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(AttachmentFields(*by_id), AttachmentFields(second));
  EXPECT_EQ(
      Read<AttachmentRecord>([&](Reader& r) { return r.GetAttachment(b.tenant.id, first.id); })
          .status()
          .code(),
      StatusCode::kNotFound);
  EXPECT_EQ(Write([&](Writer& w) { return w.DeleteAttachment(b.tenant.id, first.id); }).code(),
            StatusCode::kNotFound);

  using List = std::vector<AttachmentRecord>;
  auto expired =
      Read<List>([&](Reader& r) { return r.ListExpiredAttachments(T(101) + Millis(1), 10); });
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 2u);
  EXPECT_EQ((*expired)[0].id, second.id);
  EXPECT_EQ(Read<List>([&](Reader& r) { return r.ListExpiredAttachments(T(100), 10); })->size(),
            0u);

  // The customer's own attachment and the one of the customer's conversation.
  auto mine = Read<List>(
      [&](Reader& r) { return r.ListCustomerAttachments(a.tenant.id, a.customer.id, 10); });
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->size(), 2u);
  EXPECT_TRUE(Read<List>([&](Reader& r) {
                return r.ListCustomerAttachments(b.tenant.id, a.customer.id, 10);
              })->empty());

  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteAttachment(a.tenant.id, first.id); }).ok());
  EXPECT_EQ(Read<AttachmentRecord>([&](Reader& r) { return r.GetAttachmentById(first.id); })
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_P(StoreContractTest, AssignAttachmentTiesItToOneConversationOnly) {
  Seeded a = SeedTenant(22);
  Seeded b = SeedTenant(23);
  const AttachmentRecord loose =
      MakeAttachment(a.tenant.id, std::nullopt, std::nullopt, 2, T(0), T(100));
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertAttachment(loose); }).ok());
  auto assign = [&](const TenantId& t, const ConversationId& c) {
    return Write([&](Writer& w) { return w.AssignAttachment(t, loose.id, c, a.customer.id); });
  };
  EXPECT_EQ(assign(b.tenant.id, b.conversation.id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(assign(a.tenant.id, a.conversation.id).ok());
  EXPECT_TRUE(assign(a.tenant.id, a.conversation.id).ok()) << "assigning again is a no-op";
  EXPECT_EQ(assign(a.tenant.id, b.conversation.id).code(), StatusCode::kFailedPrecondition);
  auto got =
      Read<AttachmentRecord>([&](Reader& r) { return r.GetAttachment(a.tenant.id, loose.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->conversation, a.conversation.id);
  EXPECT_EQ(got->customer, a.customer.id);
}

TEST_P(StoreContractTest, EraseCustomerDeletesEverythingOfTheCustomerAndNothingElse) {
  Seeded a = SeedTenant(22);
  Seeded b = SeedTenant(23);
  ASSERT_TRUE(Write([&](Writer& w) {
                PARLEY_RETURN_IF_ERROR(w.InsertAttachment(MakeAttachment(
                    a.tenant.id, std::nullopt, a.conversation.id, 2, T(2), T(100 + 2))));
                return w.InsertAttachment(MakeAttachment(b.tenant.id, b.customer.id,
                                                         b.conversation.id, 3, T(3), T(100 + 3)));
              }).ok());
  // Another tenant cannot erase A's customer.
  Result<ErasureCounts> wrong = NotFound("unset");
  ASSERT_TRUE(Write([&](Writer& w) {
                wrong = w.EraseCustomer(b.tenant.id, a.customer.id);
                return OkStatus();
              }).ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kNotFound);

  Result<ErasureCounts> counts = NotFound("unset");
  ASSERT_TRUE(Write([&](Writer& w) {
                counts = w.EraseCustomer(a.tenant.id, a.customer.id);
                return counts.status();
              }).ok());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->conversations, 1);
  EXPECT_GE(counts->messages, 1);
  EXPECT_GE(counts->events, 1);
  EXPECT_EQ(counts->attachments, 1);

  auto gone = [&](std::function<Status(Reader&)> fn) {
    return Read<bool>([&](Reader& r) -> Result<bool> {
             Status s = fn(r);
             if (s.ok()) return true;
             return s;
           })
               .status()
               .code() == StatusCode::kNotFound;
  };
  EXPECT_TRUE(gone([&](Reader& r) { return r.GetCustomer(a.tenant.id, a.customer.id).status(); }));
  EXPECT_TRUE(
      gone([&](Reader& r) { return r.GetConversation(a.tenant.id, a.conversation.id).status(); }));
  EXPECT_TRUE(gone([&](Reader& r) { return r.GetMessage(a.tenant.id, a.message.id).status(); }));
  EXPECT_TRUE(gone([&](Reader& r) { return r.GetEvent(a.tenant.id, a.event.id).status(); }));
  EXPECT_TRUE(Read<std::vector<AttachmentRecord>>([&](Reader& r) {
                return r.ListCustomerAttachments(a.tenant.id, a.customer.id, 10);
              })->empty());
  // The tenant itself and the other tenant's customer are untouched.
  EXPECT_FALSE(gone([&](Reader& r) { return r.GetTenant(a.tenant.id).status(); }));
  EXPECT_FALSE(gone([&](Reader& r) { return r.GetCustomer(b.tenant.id, b.customer.id).status(); }));
  EXPECT_FALSE(gone([&](Reader& r) { return r.GetMessage(b.tenant.id, b.message.id).status(); }));
  EXPECT_EQ(Read<std::vector<AttachmentRecord>>([&](Reader& r) {
              return r.ListCustomerAttachments(b.tenant.id, b.customer.id, 10);
            })->size(),
            1u);
  // Erasing again: the customer is gone.
  Result<ErasureCounts> again = NotFound("unset");
  ASSERT_TRUE(Write([&](Writer& w) {
                again = w.EraseCustomer(a.tenant.id, a.customer.id);
                return OkStatus();
              }).ok());
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
}

}  // namespace parley::store::contract

#include <gtest/gtest.h>

#include <string>

#include "crypto/keys.h"

namespace parley::crypto {
namespace {

const SealPlace kPlace{"tn_a", "customers", "contact", "cu_1"};

TEST(DataKeyTest, SealOpenRoundTrip) {
  DataKey key = DataKey::Generate();
  const std::string sealed = key.Seal("+34 600 000 000", kPlace);
  EXPECT_EQ(sealed.find("600 000"), std::string::npos);
  auto opened = key.Open(sealed, kPlace);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "+34 600 000 000");
}

TEST(DataKeyTest, SealingTwiceGivesDifferentCiphertexts) {
  DataKey key = DataKey::Generate();
  EXPECT_NE(key.Seal("same", kPlace), key.Seal("same", kPlace));
}

TEST(DataKeyTest, ValueMovedToAnotherPlaceFailsToOpen) {
  DataKey key = DataKey::Generate();
  const std::string sealed = key.Seal("secret", kPlace);
  const SealPlace other_row{"tn_a", "customers", "contact", "cu_2"};
  const SealPlace other_column{"tn_a", "customers", "name", "cu_1"};
  const SealPlace other_table{"tn_a", "connections", "contact", "cu_1"};
  const SealPlace other_tenant{"tn_b", "customers", "contact", "cu_1"};
  for (const SealPlace& place : {other_row, other_column, other_table, other_tenant}) {
    auto r = key.Open(sealed, place);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("cannot open sealed value"), std::string::npos);
  }
}

TEST(DataKeyTest, ErrorNamesTableAndColumnButNotContent) {
  DataKey key = DataKey::Generate();
  std::string sealed = key.Seal("private words", kPlace);
  sealed[20] ^= 1;
  auto r = key.Open(sealed, kPlace);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot open sealed value for customers.contact");
}

TEST(DataKeyTest, FlippedByteAndTruncationFailCleanly) {
  DataKey key = DataKey::Generate();
  const std::string sealed = key.Seal("secret", kPlace);
  std::string flipped = sealed;
  flipped[sealed.size() / 2] ^= 0x01;
  EXPECT_EQ(key.Open(flipped, kPlace).status().code(), StatusCode::kInvalidArgument);
  for (size_t n : {size_t{0}, size_t{1}, size_t{13}, size_t{28}, sealed.size() - 1}) {
    EXPECT_EQ(key.Open(sealed.substr(0, n), kPlace).status().code(), StatusCode::kInvalidArgument)
        << n;
  }
}

TEST(DataKeyTest, AnotherKeyCannotOpen) {
  DataKey a = DataKey::Generate();
  DataKey b = DataKey::Generate();
  EXPECT_FALSE(b.Open(a.Seal("secret", kPlace), kPlace).ok());
}

TEST(DataKeyTest, MovedKeyStillWorks) {
  DataKey a = DataKey::Generate();
  const std::string sealed = a.Seal("secret", kPlace);
  DataKey b = std::move(a);
  auto r = b.Open(sealed, kPlace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "secret");
}

TEST(BlindIndexTest, IsDeterministicHexPerKey) {
  DataKey key = DataKey::Generate();
  const std::string index = key.BlindIndex("customer.contact:whatsapp", "34600000000");
  EXPECT_EQ(index.size(), 64u);
  EXPECT_EQ(index, key.BlindIndex("customer.contact:whatsapp", "34600000000"));
  EXPECT_NE(index, key.BlindIndex("customer.contact:whatsapp", "34600000001"));
}

TEST(BlindIndexTest, DiffersAcrossTenantsAndDomains) {
  DataKey tenant_a = DataKey::Generate();
  DataKey tenant_b = DataKey::Generate();
  const std::string a = tenant_a.BlindIndex("customer.contact:whatsapp", "34600000000");
  EXPECT_NE(a, tenant_b.BlindIndex("customer.contact:whatsapp", "34600000000"));
  EXPECT_NE(a, tenant_a.BlindIndex("customer.contact:sms", "34600000000"));
  // The domain is length-prefixed, so moving bytes between domain and value changes it.
  EXPECT_NE(tenant_a.BlindIndex("ab", "c"), tenant_a.BlindIndex("a", "bc"));
}

}  // namespace
}  // namespace parley::crypto

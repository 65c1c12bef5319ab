#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.h"

namespace parley::crypto {
namespace {

const SealPlace kPlace{"tn_a", "t", "c", "r"};

TEST(KeyRingTest, FindReturnsAddedKey) {
  MasterKey master = MasterKey::Generate();
  DataKey key = DataKey::Generate();
  const std::string sealed = key.Seal("hello", kPlace);
  const std::string wrapped = master.WrapDataKey("tn_a", key);
  KeyRing ring(std::move(master));
  EXPECT_EQ(ring.Find("tn_a"), nullptr);
  ASSERT_TRUE(ring.Add("tn_a", wrapped).ok());
  auto found = ring.Find("tn_a");
  ASSERT_NE(found, nullptr);
  auto opened = found->Open(sealed, kPlace);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "hello");
  EXPECT_EQ(ring.Find("tn_b"), nullptr);
  EXPECT_EQ(ring.size(), 1u);
}

TEST(KeyRingTest, AddRejectsKeyWrappedForAnotherTenant) {
  KeyRing ring(MasterKey::Generate());
  const std::string wrapped = ring.master_key().WrapDataKey("tn_a", DataKey::Generate());
  EXPECT_EQ(ring.Add("tn_b", wrapped).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ring.Find("tn_b"), nullptr);
  EXPECT_EQ(ring.size(), 0u);
}

TEST(KeyRingTest, ForgetMakesFindReturnNull) {
  KeyRing ring(MasterKey::Generate());
  ASSERT_TRUE(ring.Add("tn_a", ring.master_key().WrapDataKey("tn_a", DataKey::Generate())).ok());
  ASSERT_TRUE(ring.Add("tn_b", ring.master_key().WrapDataKey("tn_b", DataKey::Generate())).ok());
  auto held = ring.Find("tn_a");
  ring.Forget("tn_a");
  ring.Forget("tn_unknown");
  EXPECT_EQ(ring.Find("tn_a"), nullptr);
  EXPECT_NE(ring.Find("tn_b"), nullptr);
  // An operation already holding the key can finish.
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->Open(held->Seal("x", kPlace), kPlace).ok());
}

TEST(KeyRingTest, AddReplacesExistingKey) {
  KeyRing ring(MasterKey::Generate());
  DataKey first = DataKey::Generate();
  DataKey second = DataKey::Generate();
  const std::string sealed = second.Seal("v", kPlace);
  ASSERT_TRUE(ring.Add("tn_a", ring.master_key().WrapDataKey("tn_a", first)).ok());
  ASSERT_TRUE(ring.Add("tn_a", ring.master_key().WrapDataKey("tn_a", second)).ok());
  EXPECT_TRUE(ring.Find("tn_a")->Open(sealed, kPlace).ok());
}

TEST(KeyRingTest, ConcurrentAddFindForget) {
  KeyRing ring(MasterKey::Generate());
  std::vector<std::string> wrapped;
  for (int i = 0; i < 8; ++i) {
    wrapped.push_back(
        ring.master_key().WrapDataKey("tn_" + std::to_string(i), DataKey::Generate()));
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const int k = (i + t) % 8;
        const std::string id = "tn_" + std::to_string(k);
        if (!ring.Add(id, wrapped[k]).ok()) ++failures[t];
        if (auto key = ring.Find(id)) {
          if (!key->Open(key->Seal("x", kPlace), kPlace).ok()) ++failures[t];
        }
        if (i % 3 == 0) ring.Forget(id);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace parley::crypto

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/test_temp_dir.h"
#include "crypto/keys.h"

namespace parley::crypto {
namespace {

constexpr char kHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SealPlace kPlace{"tn_a", "t", "c", "r"};

class MasterKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }

  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  TestTempDir tmp_{"parley_crypto"};
  const std::string dir_ = tmp_.path();
};

// True when `a` opens what `b` wrapped, i.e. they are the same key.
bool SameKey(const MasterKey& a, const MasterKey& b) {
  DataKey data = DataKey::Generate();
  return a.UnwrapDataKey("tn_a", b.WrapDataKey("tn_a", data)).ok();
}

TEST(MasterKeyTest, FromHexAcceptsSixtyFourHexCharacters) {
  auto a = MasterKey::FromHex(kHex);
  auto b = MasterKey::FromHex(std::string(kHex));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(SameKey(*a, *b));
}

TEST(MasterKeyTest, FromHexRejectsWrongLengthAndNonHexWithoutEchoingIt) {
  EXPECT_EQ(MasterKey::FromHex("abcd").status().code(), StatusCode::kInvalidArgument);
  std::string bad(kHex);
  bad[10] = 'g';
  auto r = MasterKey::FromHex(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find(bad), std::string::npos);
}

TEST(MasterKeyTest, WrapUnwrapRoundTripKeepsTheKey) {
  MasterKey master = MasterKey::Generate();
  DataKey key = DataKey::Generate();
  const std::string sealed = key.Seal("hello", kPlace);
  const std::string wrapped = master.WrapDataKey("tn_a", key);
  EXPECT_EQ(wrapped.size(), kSealOverhead + DataKey::kSize);
  auto unwrapped = master.UnwrapDataKey("tn_a", wrapped);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  auto opened = unwrapped->Open(sealed, kPlace);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "hello");
}

TEST(MasterKeyTest, UnwrapFailsForWrongTenantWrongMasterOrTampering) {
  MasterKey master = MasterKey::Generate();
  MasterKey other = MasterKey::Generate();
  const std::string wrapped = master.WrapDataKey("tn_a", DataKey::Generate());
  EXPECT_EQ(master.UnwrapDataKey("tn_b", wrapped).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.UnwrapDataKey("tn_a", wrapped).status().code(), StatusCode::kInvalidArgument);
  std::string flipped = wrapped;
  flipped[30] ^= 1;
  EXPECT_FALSE(master.UnwrapDataKey("tn_a", flipped).ok());
  EXPECT_FALSE(master.UnwrapDataKey("tn_a", wrapped.substr(0, 60)).ok());
  EXPECT_FALSE(master.UnwrapDataKey("tn_a", "").ok());
}

TEST(MasterKeyTest, RoutingIndexIsStablePerKeyAndSeparatedByDomain) {
  auto a = MasterKey::FromHex(std::string(64, 'a'));
  auto b = MasterKey::FromHex(std::string(64, 'b'));
  ASSERT_TRUE(a.ok() && b.ok());
  std::string index = a->RoutingIndex("whatsapp", "106540352242922");
  EXPECT_EQ(index.size(), 64u);
  EXPECT_EQ(index, a->RoutingIndex("whatsapp", "106540352242922"));
  EXPECT_NE(index, a->RoutingIndex("messenger", "106540352242922"));
  EXPECT_NE(index, a->RoutingIndex("whatsapp", "106540352242923"));
  EXPECT_NE(index, b->RoutingIndex("whatsapp", "106540352242922"));
  // The domain's length is bound in, so moving bytes between domain and value changes it.
  EXPECT_NE(a->RoutingIndex("ab", "c"), a->RoutingIndex("a", "bc"));
  // Not a tenant's blind index of the same value.
  DataKey tenant_key = DataKey::Generate();
  EXPECT_NE(index, tenant_key.BlindIndex("whatsapp", "106540352242922"));
}

TEST_F(MasterKeyFileTest, FromFileAcceptsHexWithOrWithoutNewline) {
  auto a = MasterKey::FromFile(Write("a.key", std::string(kHex) + "\n", 0600));
  auto b = MasterKey::FromFile(Write("b.key", kHex, 0400));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(SameKey(*a, *b));
}

TEST_F(MasterKeyFileTest, FromFileRejectsOtherContent) {
  for (const std::string& content :
       {std::string(kHex) + "\n\n", std::string(kHex) + "\r\n", std::string(kHex) + " ",
        std::string(kHex).substr(2), std::string(), std::string(kHex) + "00"}) {
    auto r = MasterKey::FromFile(Write("bad.key", content, 0600));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("bad.key"), std::string::npos);
    EXPECT_EQ(r.status().message().find(kHex + 10), std::string::npos);
  }
}

TEST_F(MasterKeyFileTest, FromFileRejectsFileReadableByOthers) {
  const std::string path = Write("open.key", kHex, 0644);
  auto r = MasterKey::FromFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("0644"), std::string::npos);
  EXPECT_EQ(MasterKey::FromFile(Write("group.key", kHex, 0640)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(MasterKeyFileTest, FromFileReportsMissingFileAndDirectory) {
  EXPECT_EQ(MasterKey::FromFile(dir_ + "/none.key").status().code(), StatusCode::kNotFound);
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  EXPECT_EQ(MasterKey::FromFile(dir_).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(MasterKeyFileTest, LoadOrCreateCreatesPrivateFileThenLoadsItBack) {
  bool generated = false;
  auto first = MasterKey::LoadOrCreate(dir_, true, &generated);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(generated);

  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 65);

  auto second = MasterKey::LoadOrCreate(dir_, true, &generated);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(generated);
  EXPECT_TRUE(SameKey(*first, *second));
}

TEST_F(MasterKeyFileTest, LoadOrCreateRefusesWhenGenerationNotAllowed) {
  bool generated = true;
  auto r = MasterKey::LoadOrCreate(dir_, false, &generated);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message().rfind("no master key: ", 0), 0u);
  EXPECT_FALSE(generated);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/master.key"));
}

TEST_F(MasterKeyFileTest, LoadOrCreateRefusesFileReadableByOthers) {
  Write("master.key", kHex, 0644);
  bool generated = true;
  auto r = MasterKey::LoadOrCreate(dir_, true, &generated);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(generated);
}

TEST_F(MasterKeyFileTest, LoadOrCreateFailsCleanlyWhenDirectoryIsMissing) {
  auto r = MasterKey::LoadOrCreate(dir_ + "/missing", true, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace parley::crypto

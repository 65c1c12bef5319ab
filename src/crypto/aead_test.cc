#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/random.h"

namespace parley::crypto {
namespace {

std::string Unhex(std::string_view hex) {
  auto r = HexDecode(hex);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::string();
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 60-byte
// plaintext, 20-byte AAD, 96-bit IV).
struct Case16 {
  std::string key = Unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::string nonce = Unhex("cafebabefacedbaddecaf888");
  std::string aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string plaintext = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  std::string ciphertext_and_tag = Unhex(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b");
};

TEST(AesGcmTest, MatchesGcmSpecTestCase16) {
  Case16 v;
  EXPECT_EQ(HexEncode(testing_internal::AesGcmEncrypt(v.key, v.nonce, v.aad, v.plaintext)),
            HexEncode(v.ciphertext_and_tag));
  auto opened = testing_internal::AesGcmDecrypt(v.key, v.nonce, v.aad, v.ciphertext_and_tag);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, v.plaintext);
}

TEST(AesGcmTest, MatchesGcmSpecTestCase13EmptyPlaintext) {
  const std::string key(32, '\0');
  const std::string nonce(12, '\0');
  EXPECT_EQ(HexEncode(testing_internal::AesGcmEncrypt(key, nonce, "", "")),
            "530f8afbc74536b9a963b4f1c4cb738b");
}

TEST(AesGcmTest, RejectsTamperedTagAndRecoversForNextCall) {
  Case16 v;
  std::string bad = v.ciphertext_and_tag;
  bad.back() ^= 1;
  EXPECT_FALSE(testing_internal::AesGcmDecrypt(v.key, v.nonce, v.aad, bad).ok());
  // The per-thread context must be fully reset after a failure.
  EXPECT_TRUE(testing_internal::AesGcmDecrypt(v.key, v.nonce, v.aad, v.ciphertext_and_tag).ok());
  EXPECT_FALSE(testing_internal::AesGcmDecrypt(v.key, v.nonce, v.aad, "short").ok());
}

// A thread's context keeps the key it used last and then only sets the nonce. The same key
// again must give the published answer, and another key must never run under the kept
// one, in either direction.
TEST(AesGcmTest, TheKeyKeptFromTheLastCallIsUsedOnlyForThatKey) {
  Case16 v;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(HexEncode(testing_internal::AesGcmEncrypt(v.key, v.nonce, v.aad, v.plaintext)),
              HexEncode(v.ciphertext_and_tag));
    EXPECT_TRUE(testing_internal::AesGcmDecrypt(v.key, v.nonce, v.aad, v.ciphertext_and_tag).ok());
  }
  const std::string a = RandomBytes(kAeadKeySize), b = RandomBytes(kAeadKeySize);
  for (int round = 0; round < 3; ++round) {
    const std::string sealed_a = AeadSeal(a, "place", "for a");
    const std::string sealed_b = AeadSeal(b, "place", "for b");
    auto opened_a = AeadOpen(a, "place", sealed_a);
    ASSERT_TRUE(opened_a.ok());
    EXPECT_EQ(*opened_a, "for a");
    EXPECT_FALSE(AeadOpen(b, "place", sealed_a).ok());  // right after a's own opening
    auto opened_b = AeadOpen(b, "place", sealed_b);
    ASSERT_TRUE(opened_b.ok());
    EXPECT_EQ(*opened_b, "for b");
    EXPECT_FALSE(AeadOpen(a, "place", sealed_b).ok());
    // A seal under b right after one under a is b's: a cannot open it.
    EXPECT_FALSE(AeadOpen(a, "place", AeadSeal(b, "place", "b again")).ok());
  }
}

TEST(AeadTest, SealsInDocumentedFormat) {
  const std::string key = RandomBytes(kAeadKeySize);
  const std::string sealed = AeadSeal(key, "aad", "hello");
  ASSERT_EQ(sealed.size(), kSealOverhead + 5);
  EXPECT_EQ(sealed[0], '\x01');
  auto opened = AeadOpen(key, "aad", sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "hello");
}

TEST(AeadTest, SealedFormatIsGcmOverVersionAndAad) {
  // Re-deriving the sealed value with the raw primitive pins the format down.
  const std::string key = RandomBytes(kAeadKeySize);
  const std::string sealed = AeadSeal(key, "aad", "hello");
  const std::string nonce = sealed.substr(1, kAeadNonceSize);
  EXPECT_EQ(testing_internal::AesGcmEncrypt(key, nonce, std::string("\x01") + "aad", "hello"),
            sealed.substr(1 + kAeadNonceSize));
}

TEST(AeadTest, EmptyPlaintextRoundTrips) {
  const std::string key = RandomBytes(kAeadKeySize);
  auto opened = AeadOpen(key, "", AeadSeal(key, "", ""));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "");
}

TEST(AeadTest, RejectsShortInputAndUnknownVersion) {
  const std::string key = RandomBytes(kAeadKeySize);
  std::string sealed = AeadSeal(key, "", "hello");
  for (size_t n = 0; n < kSealOverhead; ++n) {
    auto r = AeadOpen(key, "", sealed.substr(0, n));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(AeadOpen(key, "", sealed.substr(0, sealed.size() - 1)).ok());
  sealed[0] = '\x02';
  auto r = AeadOpen(key, "", sealed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version"), std::string::npos);
}

TEST(AeadTest, EveryFlippedByteFailsToOpen) {
  const std::string key = RandomBytes(kAeadKeySize);
  const std::string sealed = AeadSeal(key, "aad", "some private text");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x40;
    auto r = AeadOpen(key, "aad", bad);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(AeadTest, NoncesAreUniqueAcrossCallsAndThreads) {
  const std::string key = RandomBytes(kAeadKeySize);
  std::vector<std::vector<std::string>> per_thread(3);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&key, &out] {
      for (int i = 0; i < 1000; ++i) out.push_back(AeadSeal(key, "", "x").substr(1, 12));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : per_thread) all.insert(out.begin(), out.end());
  EXPECT_EQ(all.size(), 3000u);
}

TEST(SealPlaceTest, EncodingIsUnambiguous) {
  EXPECT_NE(EncodeSealPlace({"ab", "c", "d", "e"}), EncodeSealPlace({"a", "bc", "d", "e"}));
  EXPECT_EQ(EncodeSealPlace({"t", "", "", ""}),
            std::string("\0\0\0\1t\0\0\0\0\0\0\0\0\0\0\0\0", 17));
}

}  // namespace
}  // namespace parley::crypto

#include "crypto/hash.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.h"

namespace parley::crypto {
namespace {

std::string Unhex(std::string_view hex) {
  auto r = HexDecode(hex);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::string();
}

TEST(Sha256Test, MatchesFips180Abc) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, MatchesEmptyString) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, MatchesFips180MillionAs) {  // many blocks, and a length not a block multiple
  EXPECT_EQ(HexEncode(Sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256Test, MatchesRfc4231Case1) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, MatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, MatchesRfc4231KeysLongerThanABlock) {
  const std::string key(131, '\xaa');
  EXPECT_EQ(HexEncode(HmacSha256(key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexEncode(HmacSha256Key(key).Mac(
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// Every key length around the block size (64) and the hash size, and data lengths that
// end inside, at and past a block, against OpenSSL's own HMAC.
TEST(HmacSha256Test, MatchesOpenSslForKeyAndDataLengthsAroundTheBlock) {
  std::string bytes;
  for (int i = 0; i < 200; ++i) bytes.push_back(static_cast<char>(i * 7 + 3));
  for (size_t key_size : {0, 1, 31, 32, 33, 63, 64, 65, 100, 128, 129}) {
    const std::string_view key(bytes.data(), key_size);
    const HmacSha256Key prepared(key);
    for (size_t data_size : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200}) {
      const std::string_view data(bytes.data() + 0, data_size);
      unsigned char expected[32];
      size_t expected_size = 0;
      ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                          expected, sizeof(expected), &expected_size),
                nullptr);
      const std::string want(reinterpret_cast<const char*>(expected), expected_size);
      EXPECT_EQ(HmacSha256(key, data), want) << key_size << " " << data_size;
      EXPECT_EQ(prepared.Mac(data), want) << key_size << " " << data_size;
      EXPECT_EQ(prepared.Mac({data.substr(0, data_size / 3), data.substr(data_size / 3)}), want);
    }
  }
}

TEST(HmacSha256KeyTest, CopiesAgreeAndWipedCopiesDoNotAffectOthers) {
  HmacSha256Key original("Jefe");
  HmacSha256Key copy = original;
  EXPECT_EQ(copy.Mac("what do ya want for nothing?"),
            HmacSha256("Jefe", "what do ya want for nothing?"));
  copy.Wipe();
  EXPECT_NE(copy.Mac("what do ya want for nothing?"), original.Mac("what do ya want for nothing?"));
  EXPECT_EQ(HexEncode(original.Mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha1Test, MatchesRfc2202Cases) {
  EXPECT_EQ(HexEncode(HmacSha1(std::string(20, '\x0b'), "Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(HmacSha256Test, PartsEqualConcatenation) {
  EXPECT_EQ(HmacSha256("Jefe", {"what do ya ", "", "want for nothing?"}),
            HmacSha256("Jefe", "what do ya want for nothing?"));
}

TEST(HmacSha256Test, EmptyKeyDoesNotReusePreviousKey) {
  const std::string with_key = HmacSha256("Jefe", "data");
  const std::string empty_key = HmacSha256(std::string_view(), "data");
  EXPECT_NE(with_key, empty_key);
  // Known answer for HMAC-SHA256 with an empty key over "data".
  EXPECT_EQ(empty_key, HmacSha256("", "data"));
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Test, ConcurrentThreadsGetCorrectResults) {
  const std::string expected = HmacSha256("Jefe", "what do ya want for nothing?");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        // Interleave another key so a stale per-thread context would show.
        (void)HmacSha256(std::to_string(i), "x");
        ok[t] += HmacSha256("Jefe", "what do ya want for nothing?") == expected;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 500);
}

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEqual("", "a"));
}

TEST(HkdfTest, MatchesRfc5869Case1) {
  const std::string ikm(22, '\x0b');
  const std::string salt = Unhex("000102030405060708090a0b0c");
  const std::string info = Unhex("f0f1f2f3f4f5f6f7f8f9");
  EXPECT_EQ(HexEncode(Hkdf(ikm, salt, info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfTest, MatchesRfc5869Case3WithoutSaltOrInfo) {
  EXPECT_EQ(HexEncode(Hkdf(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfTest, DifferentInfoGivesDifferentKeys) {
  EXPECT_NE(Hkdf("key", "", "a", 32), Hkdf("key", "", "b", 32));
}

}  // namespace
}  // namespace parley::crypto

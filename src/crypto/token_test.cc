#include "crypto/token.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace parley::crypto {
namespace {

TEST(TokenTest, HashIsHexSha256) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTest, VerifiesTheRightSecret) {
  const std::string secret = RandomToken(32);
  const std::string stored = HashToken(secret);
  EXPECT_NE(stored, secret);
  EXPECT_TRUE(VerifyToken(secret, stored));
}

TEST(TokenTest, RejectsWrongSecretAndMalformedHash) {
  const std::string stored = HashToken("right");
  EXPECT_FALSE(VerifyToken("wrong", stored));
  EXPECT_FALSE(VerifyToken("right", stored.substr(1)));
  EXPECT_FALSE(VerifyToken("right", ""));
  EXPECT_FALSE(VerifyToken("right", "right"));
}

}  // namespace
}  // namespace parley::crypto

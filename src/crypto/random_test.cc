#include "crypto/random.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace parley::crypto {
namespace {

TEST(RandomTest, ReturnsRequestedLength) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(32).size(), 32u);
}

TEST(RandomTest, SuccessiveValuesDiffer) { EXPECT_NE(RandomBytes(16), RandomBytes(16)); }

TEST(RandomTest, TokenIsBase64UrlOfRequestedBytes) {
  const std::string token = RandomToken(32);
  EXPECT_EQ(token.size(), 43u);
  auto raw = Base64UrlDecode(token);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 32u);
}

}  // namespace
}  // namespace parley::crypto

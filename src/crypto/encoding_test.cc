#include "crypto/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace parley::crypto {
namespace {

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

TEST(HexTest, EncodesLowercase) { EXPECT_EQ(HexEncode(std::string("\x00\xab\xff", 3)), "00abff"); }

TEST(HexTest, DecodesBothCases) {
  auto r = HexDecode("00AbfF");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("\x00\xab\xff", 3));
}

TEST(HexTest, RoundTripsAllBytes) {
  auto r = HexDecode(HexEncode(AllBytes()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, AllBytes());
}

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_EQ(HexDecode("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("0 ").status().code(), StatusCode::kInvalidArgument);
}

TEST(HexTest, ErrorDoesNotEchoInput) {
  auto r = HexDecode("secretzz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
}

TEST(Base64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, UrlAlphabetHasNoPaddingAndUrlSafeCharacters) {
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(Base64Test, RoundTripsEveryLength) {
  const std::string all = AllBytes();
  for (size_t n = 0; n <= 70; ++n) {
    const std::string s = all.substr(n, n);
    auto url = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(url.ok()) << n;
    EXPECT_EQ(*url, s);
    auto std_ = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(std_.ok()) << n;
    EXPECT_EQ(*std_, s);
  }
}

TEST(Base64Test, UrlDecodeAcceptsWithOrWithoutPadding) {
  auto a = Base64UrlDecode("Zm9vYg");
  auto b = Base64UrlDecode("Zm9vYg==");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, "foob");
  EXPECT_EQ(*b, "foob");
}

TEST(Base64Test, UrlDecodeRejectsBadInput) {
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg=").ok());  // incomplete padding
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());    // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zm9v+g").ok());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").ok());    // whitespace
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());       // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("Zg=a").ok());     // padding in the middle
  EXPECT_FALSE(Base64UrlDecode("Zm9v===").ok());  // too much padding
}

TEST(Base64Test, StandardDecodeRequiresPaddingAndAlphabet) {
  EXPECT_FALSE(Base64Decode("Zg").ok());
  EXPECT_FALSE(Base64Decode("-_8=").ok());
  EXPECT_EQ(Base64Decode("Zg").status().code(), StatusCode::kInvalidArgument);
  auto r = Base64Decode("+/8=");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("\xfb\xff", 2));
}

}  // namespace
}  // namespace parley::crypto

// src/http/target_test.cc
#include "http/target.h"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

TEST(ParseTargetTest, DecodesSegmentsSeparately) {
  auto target = ParseTarget("/v1/items/a%2Fb/c%20d");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/v1/items/a/b/c d");
  EXPECT_EQ(target->segments, (std::vector<std::string>{"v1", "items", "a/b", "c d"}));
}

TEST(ParseTargetTest, RootHasNoSegments) {
  auto target = ParseTarget("/");
  ASSERT_TRUE(target.ok());
  EXPECT_TRUE(target->segments.empty());
}

TEST(ParseTargetTest, DecodesQueryAndKeepsFirstOfRepeatedKeys) {
  auto target = ParseTarget("/x?limit=5&name=a%26b&limit=9&flag");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/x");
  EXPECT_EQ(target->query.at("limit"), "5");
  EXPECT_EQ(target->query.at("name"), "a&b");
  EXPECT_EQ(target->query.at("flag"), "");
}

TEST(ParseTargetTest, RejectsAbsoluteAndMalformedTargets) {
  EXPECT_EQ(ParseTarget("http://evil/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("x/y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/bad%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/nul%00here").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseTargetTest, RejectsTooManySegmentsOrParams) {
  std::string deep;
  for (size_t i = 0; i <= kMaxPathSegments; ++i) deep += "/s";
  EXPECT_EQ(ParseTarget(deep).status().code(), StatusCode::kInvalidArgument);
  std::string many = "/x?";
  for (size_t i = 0; i <= kMaxQueryParams; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_EQ(ParseTarget(many).status().code(), StatusCode::kInvalidArgument);
}

// The plain-path shortcut must answer as the full parse does wherever it answers at all,
// and must leave everything else to it.
TEST(ParseTargetTest, PlainPathsParseAsTheFullParseDoes) {
  const std::vector<std::string> plain = {
      "/healthz", "/v1/channels/custom/con_01JD8/messages", "/a/b/c", "/x.y/-_~/!$&'()*+,;=:@",
      "/a/.../b",
  };
  for (const std::string& t : plain) {
    SCOPED_TRACE(t);
    auto fast = ParsePlainPath(t);
    ASSERT_TRUE(fast.has_value());
    auto full = ParseTargetInFull(t);
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(fast->path, full->path);
    EXPECT_EQ(fast->segments, full->segments);
    EXPECT_TRUE(fast->query.empty());
  }
  std::string deep;
  for (size_t i = 0; i <= kMaxPathSegments; ++i) deep += "/s";
  const std::vector<std::string> other = {
      "/",       "",     "x/y",   "/a/",    "//a",       "/a//b", "/a%20b", "/a?b=1",
      "/a#frag", "/a b", "/a\"b", "/a\x01", "/\xc3\xa9", "/a[1]", "/a|b",   "/a^b",
      "/a{b}",   "/a`b", "/a\\b", "/./a",   "/v1/../b",  deep,
  };
  for (const std::string& t : other) {
    SCOPED_TRACE(t);
    EXPECT_FALSE(ParsePlainPath(t).has_value());
  }
}

}  // namespace
}  // namespace parley::http

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

}  // namespace
}  // namespace parley::http

#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace {

TEST(IdsTest, NewIdsHavePrefixAndParse) {
  FakeClock clock(FromUnixMillis(1'763'708'000'000));
  TenantId t = TenantId::New(clock);
  EXPECT_EQ(t.str().substr(0, 3), "tn_");
  EXPECT_EQ(t.str().size(), 29u);
  auto parsed = TenantId::Parse(t.str());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, t);
}

TEST(IdsTest, SortByCreationTime) {
  FakeClock clock(FromUnixMillis(1'763'708'000'000));
  MessageId a = MessageId::New(clock);
  clock.Advance(std::chrono::milliseconds(1));
  MessageId b = MessageId::New(clock);
  EXPECT_LT(a.str(), b.str());
}

TEST(IdsTest, FloorSeparatesIdsMadeBeforeAndAfterATime) {
  TimePoint t = FromUnixMillis(1'763'708'000'000);
  MessageId floor = MessageId::Floor(t);
  for (int i = 0; i < 100; ++i) {
    EXPECT_LT(MessageId::New(t - std::chrono::milliseconds(1)).str(), floor.str());
    EXPECT_GE(MessageId::New(t).str(), floor.str());
  }
  EXPECT_EQ(floor.str().size(), 30u);
}

TEST(IdsTest, AreUnique) {
  FakeClock clock(FromUnixMillis(5));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(EventId::New(clock).str());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, AreUniqueAcrossThreads) {
  // Each thread draws its random parts from its own block of CSPRNG output.
  FakeClock clock(FromUnixMillis(5));
  std::vector<std::string> a, b;
  std::thread first([&] {
    for (int i = 0; i < 500; ++i) a.push_back(EventId::New(clock).str());
  });
  std::thread second([&] {
    for (int i = 0; i < 500; ++i) b.push_back(EventId::New(clock).str());
  });
  first.join();
  second.join();
  std::set<std::string> seen(a.begin(), a.end());
  seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, ParseRejectsWrongPrefixAndShape) {
  FakeClock clock(FromUnixMillis(5));
  TenantId t = TenantId::New(clock);
  EXPECT_FALSE(ConversationId::Parse(t.str()).ok());
  EXPECT_FALSE(TenantId::Parse("tn_").ok());
  EXPECT_FALSE(TenantId::Parse(t.str() + "x").ok());
  std::string bad = t.str();
  bad[5] = 'U';
  EXPECT_FALSE(TenantId::Parse(bad).ok());
  EXPECT_FALSE(TenantId::Parse("tn_../../etc/passwd0000000000").ok());
}

}  // namespace
}  // namespace parley

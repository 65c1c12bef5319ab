#include "core/ids.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

TEST(IdsTest, AForkedChildDoesNotRepeatItsParentsIds) {
  FakeClock clock(FromUnixMillis(5));
  EventId::New(clock);  // this thread's block of random bytes is filled
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string id = EventId::New(clock).str();
    ssize_t written = write(fds[1], id.data(), id.size());
    _exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string in_child(64, '\0');
  ssize_t got = read(fds[0], in_child.data(), in_child.size());
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_GT(got, 0);
  in_child.resize(static_cast<size_t>(got));
  EXPECT_NE(in_child, EventId::New(clock).str()) << "the same next bytes in both";
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

#include "store/async.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/callback_scope.h"

namespace parley::store {
namespace {

TEST(CallbackScopeTest, TheOutermostScopeRunsItsFlushesInOrderWhenItCloses) {
  std::vector<int> ran;
  {
    CallbackScope outer;
    EXPECT_EQ(CallbackScope::Current(), &outer);
    outer.AtClose([&] { ran.push_back(1); });
    {
      CallbackScope inner;
      EXPECT_EQ(CallbackScope::Current(), &outer);
      CallbackScope::Current()->AtClose([&] { ran.push_back(2); });
    }
    EXPECT_TRUE(ran.empty());
  }
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  EXPECT_EQ(CallbackScope::Current(), nullptr);
}

TEST(CallbackScopeTest, AThrowingFlushDoesNotStopTheOthers) {
  std::vector<int> ran;
  auto close = [&] {
    CallbackScope scope;
    scope.AtClose([&] { ran.push_back(1); });
    scope.AtClose([] { throw std::runtime_error("flush"); });
    scope.AtClose([&] { ran.push_back(3); });
  };
  EXPECT_THROW(close(), std::runtime_error);
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
  EXPECT_EQ(CallbackScope::Current(), nullptr);
}

// Inside a scope the completions for one event loop leave as one post when the scope closes,
// in the order they were made; outside a scope each is its own post.
TEST(PostGatheredTest, GathersPostsPerExecutorUntilTheScopeCloses) {
  boost::asio::io_context a;
  boost::asio::io_context b;
  std::string order;
  {
    CallbackScope scope;
    internal::PostGathered(a.get_executor(), [&] { order += "a1"; });
    internal::PostGathered(b.get_executor(), [&] { order += "b1"; });
    internal::PostGathered(a.get_executor(), [&] { order += "a2"; });
    internal::PostGathered(a.get_executor(), [&] { order += "a3"; });
    EXPECT_EQ(a.poll(), 0u);  // nothing left before the scope closed
    a.restart();
  }
  EXPECT_EQ(a.poll(), 1u);  // one handler ran all three
  EXPECT_EQ(order, "a1a2a3");
  EXPECT_EQ(b.poll(), 1u);
  EXPECT_EQ(order, "a1a2a3b1");

  // A second scope on the same thread (possibly at the same address) starts afresh.
  for (int round = 0; round < 2; ++round) {
    CallbackScope scope;
    internal::PostGathered(a.get_executor(), [&] { order += "x"; });
  }
  a.restart();
  EXPECT_EQ(a.poll(), 2u);
  EXPECT_EQ(order, "a1a2a3b1xx");

  internal::PostGathered(a.get_executor(), [&] { order += "c"; });
  internal::PostGathered(a.get_executor(), [&] { order += "d"; });
  a.restart();
  EXPECT_EQ(a.poll(), 2u);
  EXPECT_EQ(order, "a1a2a3b1xxcd");
}

// A large batch leaves in posts of at most kMaxGatheredPosts, in order, so one post never holds
// an event loop for a whole batch.
TEST(PostGatheredTest, ALargeBatchLeavesInBoundedPostsInOrder) {
  boost::asio::io_context a;
  std::vector<int> order;
  const int n = static_cast<int>(internal::kMaxGatheredPosts) + 8;
  {
    CallbackScope scope;
    for (int i = 0; i < n; ++i)
      internal::PostGathered(a.get_executor(), [&, i] { order.push_back(i); });
  }
  EXPECT_EQ(a.poll(), 2u);
  ASSERT_EQ(order.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(order[i], i);
}

}  // namespace
}  // namespace parley::store

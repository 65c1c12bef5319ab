#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace parley::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TokenBucketTest, BurstThenRate) {
  TimePoint t0{seconds(1000)};
  TokenBucket bucket(10, 3);
  EXPECT_TRUE(bucket.Take(t0));
  EXPECT_TRUE(bucket.Take(t0));
  EXPECT_TRUE(bucket.Take(t0));
  EXPECT_FALSE(bucket.Take(t0));
  EXPECT_FALSE(bucket.Take(t0 + milliseconds(50)));  // half a token
  EXPECT_TRUE(bucket.Take(t0 + milliseconds(100)));  // one token after 100 ms at 10/s
  EXPECT_FALSE(bucket.Take(t0 + milliseconds(100)));
  EXPECT_TRUE(bucket.Take(t0 + seconds(60)));  // refilled, but never above the burst
  EXPECT_TRUE(bucket.Take(t0 + seconds(60)));
  EXPECT_TRUE(bucket.Take(t0 + seconds(60)));
  EXPECT_FALSE(bucket.Take(t0 + seconds(60)));
}

TEST(KeyedRateLimiterTest, KeysAreIndependentAndZeroRateMeansNoLimit) {
  TimePoint t0{seconds(1000)};
  KeyedRateLimiter limiter(1.0 / 60, 2);
  EXPECT_TRUE(limiter.Take("192.0.2.1", t0));
  EXPECT_TRUE(limiter.Take("192.0.2.1", t0));
  EXPECT_FALSE(limiter.Take("192.0.2.1", t0));
  EXPECT_TRUE(limiter.Take("192.0.2.2", t0));
  EXPECT_TRUE(limiter.Take("192.0.2.1", t0 + seconds(60)));

  KeyedRateLimiter unlimited(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(unlimited.Take("192.0.2.1", t0));
  EXPECT_EQ(unlimited.size(), 0u);
}

TEST(KeyedRateLimiterTest, MemoryIsBounded) {
  TimePoint t0{seconds(1000)};
  KeyedRateLimiter limiter(1, 1, /*max_keys=*/100);
  for (int i = 0; i < 1000; ++i) limiter.Take("10.0.0." + std::to_string(i), t0);
  EXPECT_LE(limiter.size(), 100u);
  // Keys idle long enough to have refilled are dropped first.
  KeyedRateLimiter aging(1, 1, /*max_keys=*/10);
  for (int i = 0; i < 10; ++i) aging.Take("old" + std::to_string(i), t0);
  EXPECT_TRUE(aging.Take("new", t0 + seconds(5)));
  EXPECT_EQ(aging.size(), 1u);
}

TEST(TypingGateTest, OnPassesOncePerIntervalAndOffOnlyAfterAnOn) {
  TimePoint t0{seconds(1000)};
  TypingGate gate(seconds(4));
  EXPECT_FALSE(gate.Pass("cv_a", false, t0)) << "no indicator to take down";
  EXPECT_TRUE(gate.Pass("cv_a", true, t0));
  EXPECT_FALSE(gate.Pass("cv_a", true, t0 + seconds(1)));
  EXPECT_FALSE(gate.Pass("cv_a", true, t0 + std::chrono::milliseconds(3999)));
  EXPECT_TRUE(gate.Pass("cv_b", true, t0 + seconds(1))) << "conversations are independent";
  EXPECT_TRUE(gate.Pass("cv_a", true, t0 + seconds(4))) << "the indicator is renewed";
  EXPECT_TRUE(gate.Pass("cv_a", false, t0 + seconds(5)));
  EXPECT_FALSE(gate.Pass("cv_a", false, t0 + seconds(5)));
  EXPECT_TRUE(gate.Pass("cv_a", true, t0 + seconds(8))) << "typing again, an interval later";
}

TEST(TypingGateTest, OnAndOffByTurnsStillPassOneOnPerInterval) {
  TimePoint t0{seconds(1000)};
  TypingGate gate(seconds(4));
  int passed = 0;
  for (int i = 0; i < 40; ++i) {  // on, off, on, off … every 100 ms for 4 s
    passed += gate.Pass("cv_a", i % 2 == 0, t0 + std::chrono::milliseconds(100 * i)) ? 1 : 0;
  }
  EXPECT_EQ(passed, 2) << "one on and its off";
  EXPECT_TRUE(gate.Pass("cv_a", true, t0 + seconds(4)));
}

TEST(TypingGateTest, MemoryIsBoundedAndOnlyLongGoneIndicatorsAreForgotten) {
  TimePoint t0{seconds(1000)};
  TypingGate gate(seconds(4), /*forget=*/seconds(30), /*max_keys=*/10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(gate.Pass("cv_" + std::to_string(i), true, t0));
  EXPECT_FALSE(gate.Pass("cv_new", true, t0 + seconds(20)))
      << "a Messenger indicator may still show: its off must still pass";
  EXPECT_EQ(gate.size(), 10u);
  EXPECT_TRUE(gate.Pass("cv_0", false, t0 + seconds(20)));
  EXPECT_TRUE(gate.Pass("cv_new", true, t0 + seconds(30)));
  EXPECT_EQ(gate.size(), 1u);
}

}  // namespace
}  // namespace parley::api

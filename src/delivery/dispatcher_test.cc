#include "delivery/dispatcher.h"

#include <gtest/gtest.h>

namespace parley::delivery {
namespace {

TEST(DispatcherBackoffTest, GrowsExponentiallyWithJitterAndIsCapped) {
  const Millis initial(1000), max(60000);
  for (uint64_t r : {uint64_t{0}, uint64_t{12345}, ~uint64_t{0}}) {
    Millis d1 = Dispatcher::Backoff(1, initial, max, r);
    EXPECT_GE(d1.count(), 500);
    EXPECT_LE(d1.count(), 1000);
    Millis d4 = Dispatcher::Backoff(4, initial, max, r);
    EXPECT_GE(d4.count(), 4000);
    EXPECT_LE(d4.count(), 8000);
    Millis d30 = Dispatcher::Backoff(30, initial, max, r);
    EXPECT_GE(d30.count(), 30000);
    EXPECT_LE(d30.count(), 60000);
  }
}

TEST(DispatcherBackoffTest, JitterSpreadsRetries) {
  Millis a = Dispatcher::Backoff(5, Millis(1000), Millis(3600000), 1);
  Millis b = Dispatcher::Backoff(5, Millis(1000), Millis(3600000), 7777);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace parley::delivery

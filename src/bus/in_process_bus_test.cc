#include "bus/in_process_bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace parley::bus {
namespace {

TEST(InProcessBusTest, DeliversOnlyToSubscribersOfTheTenant) {
  FakeClock clock(FromUnixMillis(1000));
  TenantId a = TenantId::New(clock), b = TenantId::New(clock);
  InProcessBus bus;
  std::vector<int64_t> got_a, got_b;
  auto sa = bus.Subscribe(a, [&](const BusEvent& e) { got_a.push_back(e.seq); });
  auto sb = bus.Subscribe(b, [&](const BusEvent& e) { got_b.push_back(e.seq); });
  bus.Publish({a, 1, EventId::New(clock), "{}"});
  bus.Publish({b, 2, EventId::New(clock), "{}"});
  bus.Publish({a, 3, EventId::New(clock), "{}"});
  EXPECT_EQ(got_a, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(got_b, (std::vector<int64_t>{2}));
}

TEST(InProcessBusTest, DroppingTheSubscriptionStopsDelivery) {
  FakeClock clock(FromUnixMillis(1000));
  TenantId a = TenantId::New(clock);
  InProcessBus bus;
  int calls = 0;
  auto sub = bus.Subscribe(a, [&](const BusEvent&) { ++calls; });
  bus.Publish({a, 1, EventId::New(clock), "{}"});
  sub.reset();
  bus.Publish({a, 2, EventId::New(clock), "{}"});
  EXPECT_EQ(calls, 1);
}

TEST(InProcessBusTest, SubscriptionMayOutliveTheBus) {
  FakeClock clock(FromUnixMillis(1000));
  std::unique_ptr<Subscription> sub;
  {
    InProcessBus bus;
    sub = bus.Subscribe(TenantId::New(clock), [](const BusEvent&) {});
  }
  sub.reset();  // must not touch freed state
  SUCCEED();
}

}  // namespace
}  // namespace parley::bus

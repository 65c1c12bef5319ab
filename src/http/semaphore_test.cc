// src/http/semaphore_test.cc
#include "http/semaphore.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "http/io_runtime.h"
#include "http/test_support.h"

namespace parley::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RunSync;

// Holds the permits it took (or their absence) for the test to inspect and drop.
using Taken = std::optional<Semaphore::Permit>;

asio::awaitable<Taken> Take(Semaphore* semaphore, std::chrono::milliseconds timeout) {
  co_return co_await semaphore->Acquire(timeout);
}

// Waits for a permit on the given loop; the future is ready once it came or timed out.
std::future<Taken> TakeOn(asio::io_context& loop, Semaphore& semaphore,
                          std::chrono::milliseconds timeout) {
  return asio::co_spawn(loop, Take(&semaphore, timeout), asio::use_future);
}

bool WaitUntil(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

class SemaphoreTest : public ::testing::Test {
 protected:
  SemaphoreTest() { runtime_.Start(2); }
  ~SemaphoreTest() override { runtime_.Stop(); }

  asio::io_context& first() { return runtime_.context(); }
  asio::io_context& second() {
    asio::io_context& next = runtime_.NextContext();
    return &next != &runtime_.context() ? next : runtime_.NextContext();
  }

  IoRuntime runtime_;
};

TEST_F(SemaphoreTest, GivesAtMostItsPermitsAndTakesThemBackWhenTheyGo) {
  Semaphore semaphore(2);
  auto a = RunSync(first(), Take(&semaphore, 0ms));
  auto b = RunSync(first(), Take(&semaphore, 0ms));
  ASSERT_TRUE(a && *a && b && *b);
  EXPECT_EQ(semaphore.held(), 2u);
  auto c = RunSync(first(), Take(&semaphore, 20ms));
  ASSERT_TRUE(c);
  EXPECT_FALSE(*c) << "a third permit out of two";
  EXPECT_EQ(semaphore.waiting(), 0u) << "a waiter that timed out leaves the queue";
  a->reset();
  EXPECT_EQ(semaphore.held(), 1u);
  auto d = RunSync(first(), Take(&semaphore, 0ms));
  ASSERT_TRUE(d && *d);
  EXPECT_EQ(semaphore.held(), 2u);
  b->reset();
  d->reset();
  EXPECT_EQ(semaphore.held(), 0u);
}

TEST_F(SemaphoreTest, AReleaseOnOneLoopWakesAWaiterOnAnotherInArrivalOrder) {
  Semaphore semaphore(1);
  auto held = RunSync(first(), Take(&semaphore, 0ms));
  ASSERT_TRUE(held && *held);
  std::future<Taken> early = TakeOn(second(), semaphore, 10s);
  ASSERT_TRUE(WaitUntil([&] { return semaphore.waiting() == 1; }));
  std::future<Taken> late = TakeOn(first(), semaphore, 10s);
  ASSERT_TRUE(WaitUntil([&] { return semaphore.waiting() == 2; }));
  EXPECT_EQ(early.wait_for(50ms), std::future_status::timeout) << "no permit was free";

  held->reset();  // released from the test thread
  ASSERT_EQ(early.wait_for(5s), std::future_status::ready);
  Taken first_waiter = early.get();
  ASSERT_TRUE(first_waiter) << "the first to wait is the first served";
  EXPECT_EQ(late.wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(semaphore.held(), 1u);

  first_waiter.reset();
  ASSERT_EQ(late.wait_for(5s), std::future_status::ready);
  Taken second_waiter = late.get();
  EXPECT_TRUE(second_waiter);
  EXPECT_EQ(semaphore.waiting(), 0u);
}

TEST_F(SemaphoreTest, AWaiterIsServedAfterItsSemaphoreIsGone) {
  auto semaphore = std::make_unique<Semaphore>(1);
  auto held = RunSync(first(), Take(semaphore.get(), 0ms));
  ASSERT_TRUE(held && *held);
  std::future<Taken> waiting = TakeOn(second(), *semaphore, 10s);
  ASSERT_TRUE(WaitUntil([&] { return semaphore->waiting() == 1; }));
  semaphore.reset();  // the permits and the waiter keep what they share
  held->reset();
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(waiting.get());
}

TEST_F(SemaphoreTest, AWaiterWhoseLoopGoesAwayLeavesTheQueueAndKeepsNoPermit) {
  Semaphore semaphore(1);
  auto held = RunSync(first(), Take(&semaphore, 0ms));
  ASSERT_TRUE(held && *held);
  {
    IoRuntime other;
    other.Start(1);
    std::future<Taken> waiting = TakeOn(other.context(), semaphore, 60s);
    ASSERT_TRUE(WaitUntil([&] { return semaphore.waiting() == 1; }));
  }  // the loop is stopped and destroyed while its coroutine waits
  EXPECT_EQ(semaphore.waiting(), 0u);
  held->reset();
  EXPECT_EQ(semaphore.held(), 0u);
  auto again = RunSync(first(), Take(&semaphore, 0ms));
  EXPECT_TRUE(again && *again);
}

}  // namespace
}  // namespace parley::http

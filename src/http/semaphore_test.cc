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
#include <string>
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

using KeyTaken = std::optional<KeyedSemaphore::Permit>;

asio::awaitable<KeyTaken> TakeKey(KeyedSemaphore* semaphore, std::string key,
                                  std::chrono::milliseconds timeout) {
  co_return co_await semaphore->Acquire(std::move(key), timeout);
}

std::future<KeyTaken> TakeKeyOn(asio::io_context& loop, KeyedSemaphore& semaphore, std::string key,
                                std::chrono::milliseconds timeout) {
  return asio::co_spawn(loop, TakeKey(&semaphore, std::move(key), timeout), asio::use_future);
}

TEST_F(SemaphoreTest, OneKeyTakesAtMostItsShareAndLeavesTheRestToOthers) {
  KeyedSemaphore semaphore(/*permits=*/3, /*per_key=*/2);
  auto a1 = RunSync(first(), TakeKey(&semaphore, "tenant-a", 0ms));
  auto a2 = RunSync(first(), TakeKey(&semaphore, "tenant-a", 0ms));
  ASSERT_TRUE(a1 && *a1 && a2 && *a2);
  auto a3 = RunSync(first(), TakeKey(&semaphore, "tenant-a", 20ms));
  ASSERT_TRUE(a3);
  EXPECT_FALSE(*a3) << "a third permit for one key, with per_key 2";
  EXPECT_EQ(semaphore.held(), 2u);
  auto b1 = RunSync(first(), TakeKey(&semaphore, "tenant-b", 0ms));
  ASSERT_TRUE(b1 && *b1) << "another key finds the permit the first could not have";
  EXPECT_EQ(semaphore.held(), 3u);
  EXPECT_EQ(semaphore.keys(), 2u);
  auto c1 = RunSync(first(), TakeKey(&semaphore, "tenant-c", 20ms));
  ASSERT_TRUE(c1);
  EXPECT_FALSE(*c1) << "every shared permit is held";
  EXPECT_EQ(semaphore.waiting(), 0u) << "waiters that timed out leave both queues";
  EXPECT_EQ(semaphore.keys(), 2u) << "a key is forgotten when its last waiter gives up";

  a1->reset();
  a2->reset();
  EXPECT_EQ(semaphore.keys(), 1u) << "a key is forgotten when its last permit goes";
  b1->reset();
  EXPECT_EQ(semaphore.held(), 0u);
  EXPECT_EQ(semaphore.keys(), 0u);
}

TEST_F(SemaphoreTest, AKeyWaitingForItsOwnPermitIsServedWhenItsHolderLetsGo) {
  KeyedSemaphore semaphore(/*permits=*/4, /*per_key=*/1);
  auto held = RunSync(first(), TakeKey(&semaphore, "tenant-a", 0ms));
  ASSERT_TRUE(held && *held);
  std::future<KeyTaken> waiting = TakeKeyOn(second(), semaphore, "tenant-a", 10s);
  ASSERT_TRUE(WaitUntil([&] { return semaphore.waiting() == 1; }));
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout) << "three shared were free";
  auto other = RunSync(first(), TakeKey(&semaphore, "tenant-b", 0ms));
  ASSERT_TRUE(other && *other);

  held->reset();  // released from the test thread
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  KeyTaken served = waiting.get();
  EXPECT_TRUE(served);
  EXPECT_EQ(semaphore.held(), 2u);
  EXPECT_EQ(semaphore.waiting(), 0u);
  served.reset();
  other.reset();
  EXPECT_EQ(semaphore.held(), 0u);
  EXPECT_EQ(semaphore.keys(), 0u);
}

TEST_F(SemaphoreTest, AKeyWaiterWhoseLoopGoesAwayGivesBackItsKeysPermit) {
  KeyedSemaphore semaphore(/*permits=*/1, /*per_key=*/1);
  auto other = RunSync(first(), TakeKey(&semaphore, "tenant-b", 0ms));
  ASSERT_TRUE(other && *other);
  {
    IoRuntime loop;
    loop.Start(1);
    std::future<KeyTaken> waiting = TakeKeyOn(loop.context(), semaphore, "tenant-a", 60s);
    // It holds tenant-a's one permit and waits for the shared one tenant-b has.
    ASSERT_TRUE(WaitUntil([&] { return semaphore.waiting() == 1 && semaphore.keys() == 2; }));
  }  // the loop is stopped and destroyed while its coroutine waits
  EXPECT_EQ(semaphore.waiting(), 0u);
  EXPECT_EQ(semaphore.keys(), 1u) << "tenant-a is forgotten";
  other->reset();
  auto again = RunSync(first(), TakeKey(&semaphore, "tenant-a", 0ms));
  EXPECT_TRUE(again && *again) << "tenant-a's permit came back";
}

TEST_F(SemaphoreTest, AMovedKeyPermitIsReleasedOnce) {
  KeyedSemaphore semaphore(/*permits=*/1, /*per_key=*/5);
  auto taken = RunSync(first(), TakeKey(&semaphore, "tenant-a", 0ms));
  ASSERT_TRUE(taken && *taken);
  KeyedSemaphore::Permit moved = std::move(**taken);
  taken->reset();
  EXPECT_EQ(semaphore.held(), 1u) << "the moved-from permit released nothing";
  EXPECT_EQ(semaphore.keys(), 1u);
  auto second_key = RunSync(first(), TakeKey(&semaphore, "tenant-b", 20ms));
  ASSERT_TRUE(second_key);
  EXPECT_FALSE(*second_key) << "the one shared permit is held";
  { KeyedSemaphore::Permit gone = std::move(moved); }
  EXPECT_EQ(semaphore.held(), 0u);
  EXPECT_EQ(semaphore.keys(), 0u);
}

}  // namespace
}  // namespace parley::http

// src/http/semaphore.h
//
// A counting semaphore for coroutines on any of the runtime's loops: at most `permits`
// holders at a time, the others wait in arrival order, each for at most a given time.
// It bounds work whose cost is memory or a remote's patience rather than CPU, such as
// provider media downloads held whole in memory (api/webhook_media.cc, through
// KeyedSemaphore below, which also shares them fairly between tenants).
//
//   Semaphore downloads(4);
//   std::optional<Semaphore::Permit> permit = co_await downloads.Acquire(5s);
//   if (!permit) co_return Unavailable("busy");  // waited 5 s without a free permit
//   …                                             // the permit is released when it goes
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace parley::http {

namespace internal {
class SemaphoreState;
class KeyedSemaphoreState;
struct KeyUse;
}  // namespace internal

// Thread safety: Acquire and Permit destruction may happen concurrently on any threads, but
// each Acquire must run on an executor that one thread runs (a loop of IoRuntime): a release
// wakes the waiter by cancelling its timer on that executor, which must not race with the
// waiter's own use of the timer. Lifetime: permits and waiters keep the shared state alive,
// so the Semaphore itself may go first; a waiter destroyed while it waits (its loop shut
// down) leaves the queue and passes on a permit it was handed.
class Semaphore {
 public:
  // Holds one permit until destroyed or moved from.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

   private:
    friend class Semaphore;
    explicit Permit(std::shared_ptr<internal::SemaphoreState> state);
    std::shared_ptr<internal::SemaphoreState> state_;
  };

  // `permits` >= 1.
  explicit Semaphore(size_t permits);
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // A permit now if one is free; otherwise waits, in arrival order, up to `timeout`:
  // std::nullopt when none came in time.
  boost::asio::awaitable<std::optional<Permit>> Acquire(std::chrono::milliseconds timeout);

  // Permits held now and coroutines waiting for one (metrics, tests).
  size_t held() const;
  size_t waiting() const;

 private:
  std::shared_ptr<internal::SemaphoreState> state_;
};

// Permits shared by keys (tenants): at most `permits` holders in all, and at most `per_key`
// of them with the same key, so that one key's burst cannot take every permit and make the
// others wait for it. A key waits first for one of its own permits, then for a shared one,
// both within the one timeout. Keys are remembered only while a holder or waiter has them.
//
//   KeyedSemaphore downloads(/*permits=*/4, /*per_key=*/2);
//   auto permit = co_await downloads.Acquire(tenant.str(), 5s);
//   if (!permit) co_return Unavailable("busy");
//
// Thread safety: as Semaphore.
class KeyedSemaphore {
 public:
  class Permit;

  // 1 <= `per_key`; a `per_key` above `permits` is `permits`.
  KeyedSemaphore(size_t permits, size_t per_key);
  ~KeyedSemaphore();
  KeyedSemaphore(const KeyedSemaphore&) = delete;
  KeyedSemaphore& operator=(const KeyedSemaphore&) = delete;

  // A permit for `key` now if both a permit of the key's and a shared one are free;
  // otherwise waits, in arrival order at each, up to `timeout` in all: std::nullopt when
  // they did not come in time.
  boost::asio::awaitable<std::optional<Permit>> Acquire(std::string key,
                                                        std::chrono::milliseconds timeout);

  // Permits held now; coroutines waiting for one (of their key's or a shared one); keys
  // remembered (metrics, tests).
  size_t held() const;
  size_t waiting() const;
  size_t keys() const;

 private:
  std::shared_ptr<internal::KeyedSemaphoreState> state_;
};

// Holds a key's permit and a shared one until destroyed or moved from.
class KeyedSemaphore::Permit {
 public:
  Permit(Permit&&) noexcept;
  Permit& operator=(Permit&&) noexcept;
  ~Permit();

 private:
  friend class KeyedSemaphore;
  Permit(std::shared_ptr<internal::KeyUse> use, Semaphore::Permit mine, Semaphore::Permit shared);

  // Released in reverse order: the shared permit, the key's, then the key itself.
  std::shared_ptr<internal::KeyUse> use_;
  std::optional<Semaphore::Permit> mine_;
  std::optional<Semaphore::Permit> shared_;
};

}  // namespace parley::http

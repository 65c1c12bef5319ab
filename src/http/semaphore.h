// src/http/semaphore.h
//
// A counting semaphore for coroutines on any of the runtime's loops: at most `permits`
// holders at a time, the others wait in arrival order, each for at most a given time.
// It bounds work whose cost is memory or a remote's patience rather than CPU, such as
// provider media downloads held whole in memory (api/webhooks_api.cc).
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

namespace parley::http {

namespace internal {
class SemaphoreState;
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

}  // namespace parley::http

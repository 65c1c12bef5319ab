// src/http/semaphore.cc
#include "http/semaphore.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/status.h"

namespace parley::http {

namespace asio = boost::asio;

namespace internal {

// A coroutine waiting for a permit: it sleeps on its own loop's timer, which a release
// cancels (on that loop) after marking the waiter granted.
struct SemaphoreWaiter {
  explicit SemaphoreWaiter(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  bool granted = false;  // under SemaphoreState::mutex
};

class SemaphoreState {
 public:
  explicit SemaphoreState(size_t permits) : free_(permits), permits_(permits) {}

  bool TryTake() {
    std::lock_guard lock(mutex_);
    if (free_ == 0) return false;
    --free_;
    return true;
  }

  // Queues `waiter` unless a permit is free; true when it took one instead.
  bool TakeOrQueue(const std::shared_ptr<SemaphoreWaiter>& waiter) {
    std::lock_guard lock(mutex_);
    if (free_ > 0) {
      --free_;
      return true;
    }
    waiters_.push_back(waiter);
    return false;
  }

  // After the wait: true when a release handed `waiter` its permit; otherwise it leaves the
  // queue.
  bool Settle(const std::shared_ptr<SemaphoreWaiter>& waiter) {
    std::lock_guard lock(mutex_);
    if (waiter->granted) return true;
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (*it == waiter) {
        waiters_.erase(it);
        break;
      }
    }
    return false;
  }

  // The permit goes to the longest waiter, or back to the pool.
  void Release() {
    std::shared_ptr<SemaphoreWaiter> next;
    {
      std::lock_guard lock(mutex_);
      if (waiters_.empty()) {
        ++free_;
        return;
      }
      next = std::move(waiters_.front());
      waiters_.pop_front();
      next->granted = true;
    }
    // The timer belongs to the waiter's loop: it is woken there.
    asio::post(next->timer.get_executor(), [next] { next->timer.cancel(); });
  }

  size_t held() const {
    std::lock_guard lock(mutex_);
    return permits_ - free_;
  }
  size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }

 private:
  mutable std::mutex mutex_;
  size_t free_;
  const size_t permits_;
  std::deque<std::shared_ptr<SemaphoreWaiter>> waiters_;
};

}  // namespace internal

Semaphore::Permit::Permit(std::shared_ptr<internal::SemaphoreState> state)
    : state_(std::move(state)) {}

Semaphore::Permit::Permit(Permit&& other) noexcept : state_(std::move(other.state_)) {}

Semaphore::Permit& Semaphore::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (state_) state_->Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

Semaphore::Permit::~Permit() {
  if (state_) state_->Release();
}

Semaphore::Semaphore(size_t permits) : state_(std::make_shared<internal::SemaphoreState>(permits)) {
  PARLEY_CHECK(permits >= 1);
}

Semaphore::~Semaphore() = default;

asio::awaitable<std::optional<Semaphore::Permit>> Semaphore::Acquire(
    std::chrono::milliseconds timeout) {
  std::shared_ptr<internal::SemaphoreState> state = state_;
  if (state->TryTake()) co_return Permit(state);
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<internal::SemaphoreWaiter>(executor);
  if (state->TakeOrQueue(waiter)) co_return Permit(state);
  // A waiter whose coroutine is destroyed while it waits (its loop shut down) leaves the
  // queue, and passes on a permit it was handed meanwhile.
  struct Queued {
    std::shared_ptr<internal::SemaphoreState> state;
    std::shared_ptr<internal::SemaphoreWaiter> waiter;
    bool settled = false;
    ~Queued() {
      if (!settled && state->Settle(waiter)) state->Release();
    }
  } queued{state, waiter};
  waiter->timer.expires_after(timeout);
  auto [ec] = co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // expired or cancelled by a release: Settle says which
  queued.settled = true;
  if (state->Settle(waiter)) co_return Permit(state);
  co_return std::nullopt;
}

size_t Semaphore::held() const { return state_->held(); }
size_t Semaphore::waiting() const { return state_->waiting(); }

namespace internal {

// One key's own permits, and how many holders and waiters use the key now.
struct KeyEntry {
  explicit KeyEntry(size_t per_key) : semaphore(per_key) {}
  Semaphore semaphore;
  size_t users = 0;  // under KeyedSemaphoreState::mutex_
};

class KeyedSemaphoreState {
 public:
  KeyedSemaphoreState(size_t permits, size_t per_key) : shared_(permits), per_key_(per_key) {}

  std::shared_ptr<KeyEntry> Enter(const std::string& key) {
    auto fresh = std::make_shared<KeyEntry>(per_key_);  // before the map changes: may throw
    std::lock_guard lock(mutex_);
    std::shared_ptr<KeyEntry>& entry = keys_.try_emplace(key, std::move(fresh)).first->second;
    ++entry->users;
    return entry;
  }

  void Leave(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    if (it != keys_.end() && --it->second->users == 0) keys_.erase(it);
  }

  Semaphore& shared() { return shared_; }
  size_t held() const { return shared_.held(); }
  size_t waiting() const {
    std::lock_guard lock(mutex_);
    size_t n = shared_.waiting();
    for (const auto& [key, entry] : keys_) n += entry->semaphore.waiting();
    return n;
  }
  size_t keys() const {
    std::lock_guard lock(mutex_);
    return keys_.size();
  }

 private:
  Semaphore shared_;  // the permits all keys share
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<KeyEntry>> keys_;
  const size_t per_key_;
};

// A holder's or waiter's use of a key: the key is forgotten when its last use goes.
struct KeyUse {
  KeyUse(std::shared_ptr<KeyedSemaphoreState> state_in, std::string key_in)
      : state(std::move(state_in)), key(std::move(key_in)), entry(state->Enter(key)) {}
  ~KeyUse() { state->Leave(key); }
  KeyUse(const KeyUse&) = delete;
  KeyUse& operator=(const KeyUse&) = delete;

  std::shared_ptr<KeyedSemaphoreState> state;
  std::string key;
  std::shared_ptr<KeyEntry> entry;
};

}  // namespace internal

KeyedSemaphore::Permit::Permit(std::shared_ptr<internal::KeyUse> use, Semaphore::Permit mine,
                               Semaphore::Permit shared)
    : use_(std::move(use)), mine_(std::move(mine)), shared_(std::move(shared)) {}

KeyedSemaphore::Permit::Permit(Permit&& other) noexcept = default;

KeyedSemaphore::Permit& KeyedSemaphore::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    shared_.reset();
    mine_.reset();
    use_.reset();
    use_ = std::move(other.use_);
    mine_ = std::move(other.mine_);
    shared_ = std::move(other.shared_);
  }
  return *this;
}

KeyedSemaphore::Permit::~Permit() = default;  // members go in reverse: as operator= does

KeyedSemaphore::KeyedSemaphore(size_t permits, size_t per_key)
    : state_(std::make_shared<internal::KeyedSemaphoreState>(permits, std::min(per_key, permits))) {
  PARLEY_CHECK(permits >= 1 && per_key >= 1);
}

KeyedSemaphore::~KeyedSemaphore() = default;

asio::awaitable<std::optional<KeyedSemaphore::Permit>> KeyedSemaphore::Acquire(
    std::string key, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto use = std::make_shared<internal::KeyUse>(state_, std::move(key));
  std::optional<Semaphore::Permit> mine = co_await use->entry->semaphore.Acquire(timeout);
  if (!mine) co_return std::nullopt;
  const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - std::chrono::steady_clock::now()),
                             std::chrono::milliseconds::zero());
  std::optional<Semaphore::Permit> shared = co_await use->state->shared().Acquire(left);
  if (!shared) co_return std::nullopt;
  co_return Permit(std::move(use), std::move(*mine), std::move(*shared));
}

size_t KeyedSemaphore::held() const { return state_->held(); }
size_t KeyedSemaphore::waiting() const { return state_->waiting(); }
size_t KeyedSemaphore::keys() const { return state_->keys(); }

}  // namespace parley::http

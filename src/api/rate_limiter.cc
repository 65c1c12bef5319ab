#include "api/rate_limiter.h"

#include <algorithm>
#include <chrono>

namespace parley::api {

bool TokenBucket::Take(TimePoint now) {
  if (started_ && now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool KeyedRateLimiter::Take(std::string_view key, TimePoint now) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // Full: forget the keys whose buckets have refilled (they are as good as new); if none
      // has, forget them all rather than grow: a flood of addresses must not exhaust memory.
      auto refill = std::chrono::duration_cast<TimePoint::duration>(
          std::chrono::duration<double>(burst_ / rate_));
      std::erase_if(buckets_, [&](const auto& b) { return now - b.second.last() >= refill; });
      if (buckets_.size() >= max_keys_) buckets_.clear();
    }
    it = buckets_.emplace(std::string(key), TokenBucket(rate_, burst_)).first;
  }
  return it->second.Take(now);
}

bool TypingGate::Pass(std::string_view conversation, bool on, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = shown_.find(conversation);
  if (!on) {
    if (it == shown_.end() || !it->second.showing) return false;
    it->second.showing = false;
    return true;
  }
  if (it != shown_.end()) {
    if (now - it->second.on_passed < interval_) return false;
    it->second = Shown{now, true};
    return true;
  }
  if (shown_.size() >= max_keys_) {
    // Past `forget`, every provider's indicator has gone by itself.
    std::erase_if(shown_, [&](const auto& s) { return now - s.second.on_passed >= forget_; });
    if (shown_.size() >= max_keys_) return false;
  }
  shown_.emplace(std::string(conversation), Shown{now, true});
  return true;
}

size_t TypingGate::size() const {
  std::lock_guard lock(mu_);
  return shown_.size();
}

size_t KeyedRateLimiter::size() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace parley::api

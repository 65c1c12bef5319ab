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
  auto it = passed_on_.find(conversation);
  if (!on) {
    if (it == passed_on_.end()) return false;
    passed_on_.erase(it);
    return true;
  }
  if (it != passed_on_.end()) {
    if (now - it->second < interval_) return false;
    it->second = now;
    return true;
  }
  if (passed_on_.size() >= max_keys_) {
    // An "on" older than the interval is as good as none: its indicator has gone.
    std::erase_if(passed_on_, [&](const auto& p) { return now - p.second >= interval_; });
    if (passed_on_.size() >= max_keys_) return false;
  }
  passed_on_.emplace(std::string(conversation), now);
  return true;
}

size_t TypingGate::size() {
  std::lock_guard lock(mu_);
  return passed_on_.size();
}

size_t KeyedRateLimiter::size() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace parley::api

// src/api/rate_limiter.h
//
// Token buckets: one for a single session, and a keyed set (per client IP) bounded in memory.
// A typing gate: typing indicators passed on to a provider, per conversation.
//
//   TokenBucket frames(10, 30);                 // 10/s, bursts of 30
//   if (!frames.Take(now)) refuse();
//   KeyedRateLimiter sockets(30.0 / 60, 30);    // 30 per minute per IP
//   if (!sockets.Take(ip, now)) return 429;
//   TypingGate typing(std::chrono::seconds(4));
//   if (typing.Pass(conversation_id, /*on=*/true, now)) forward_to_provider();
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace parley::api {

// Not thread-safe.
class TokenBucket {
 public:
  // `rate` tokens per second, at most `burst` held; starts full.
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes one token if there is one.
  bool Take(TimePoint now);
  TimePoint last() const { return last_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_{};
  bool started_ = false;
};

// Thread safety: Take may be called concurrently. A rate of 0 means no limit.
class KeyedRateLimiter {
 public:
  KeyedRateLimiter(double rate, double burst, size_t max_keys = 100000)
      : rate_(rate), burst_(burst), max_keys_(max_keys) {}
  bool Take(std::string_view key, TimePoint now);
  size_t size();

 private:
  double rate_;
  double burst_;
  size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, TokenBucket, std::less<>> buckets_;
};

// An agent's application may report typing on every keystroke, or on and off by turns,
// while a provider shows one indicator for several seconds (Telegram 5 s, Messenger 20 s).
// For a conversation, "on" passes at most once per `interval`, whatever came between, and
// "off" passes only when the last signal that passed was an "on". A conversation is
// forgotten `forget` after its last "on" passed, once `max_keys` are remembered; when that
// many are still recent, an "on" for yet another does not pass (typing is best effort;
// memory is not). Thread safety: Pass may be called concurrently.
class TypingGate {
 public:
  explicit TypingGate(std::chrono::nanoseconds interval,
                      std::chrono::nanoseconds forget = std::chrono::seconds(30),
                      size_t max_keys = 100000)
      : interval_(interval), forget_(forget), max_keys_(max_keys) {}
  bool Pass(std::string_view conversation, bool on, TimePoint now);
  size_t size() const;

 private:
  struct Shown {
    TimePoint on_passed;  // when "on" last passed
    bool showing = true;  // the last signal that passed was "on"
  };
  std::chrono::nanoseconds interval_;
  std::chrono::nanoseconds forget_;
  size_t max_keys_;
  mutable std::mutex mu_;
  std::map<std::string, Shown, std::less<>> shown_;
};

}  // namespace parley::api

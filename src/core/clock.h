// src/core/clock.h
//
// Time comes from an injected Clock so tests can move it (no sleeps for timing).
//
//   FakeClock clock(FromUnixMillis(1'700'000'000'000));
//   clock.Advance(std::chrono::hours(25));
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace parley {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// Thread safety: Now() may be called concurrently.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // The process-wide instance.
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_ms_(ToUnixMillis(start)) {}
  TimePoint Now() const override { return FromUnixMillis(now_ms_.load()); }
  void Advance(Millis d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = ToUnixMillis(t); }

  // Rounds down (toward the past, also before 1970), so a time and its millisecond agree on
  // which second, day and year they fall in.
  static int64_t ToUnixMillis(TimePoint t) {
    return std::chrono::floor<Millis>(t.time_since_epoch()).count();
  }
  static TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

 private:
  std::atomic<int64_t> now_ms_;
};

// The latest time a TimePoint (nanoseconds in int64) holds with room to spare: 2255-03-14.
// Parsers of outside timestamps refuse later ones instead of overflowing FromUnixMillis.
inline constexpr int64_t kMaxUnixMillis = 9'000'000'000'000;

inline int64_t ToUnixMillis(TimePoint t) { return FakeClock::ToUnixMillis(t); }
inline TimePoint FromUnixMillis(int64_t ms) { return FakeClock::FromUnixMillis(ms); }
inline int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "2026-11-21T06:53:00.123Z" (UTC, milliseconds).
std::string FormatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)". Errors: kInvalidArgument.
Result<TimePoint> ParseRfc3339(std::string_view text);

}  // namespace parley

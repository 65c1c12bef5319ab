#include "core/clock.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <limits>

namespace parley {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

std::string FormatRfc3339(TimePoint t) {
  // Every event, message and log line carries timestamps: the date and time up to the second
  // are kept per thread, so most calls cost no gmtime_r (which takes glibc's time zone lock)
  // and no formatting of the date. The cache is plain bytes, with nothing to destroy, so a
  // line logged while the thread's objects are being destroyed still finds it valid.
  struct Cache {
    int64_t second = std::numeric_limits<int64_t>::min();
    char prefix[32] = {};  // "2026-11-22T07:14:07."
    size_t size = 0;
  };
  thread_local Cache cache;
  const int64_t ms = ToUnixMillis(t);
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (secs != cache.second) {
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    const auto end = fmt::format_to_n(cache.prefix, sizeof(cache.prefix),
                                      "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.", tm.tm_year + 1900,
                                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cache.size = std::min(end.size, sizeof(cache.prefix));
    cache.second = secs;
  }
  const int millis = static_cast<int>(ms - secs * 1000);
  std::string out;
  out.reserve(cache.size + 4);
  out.append(cache.prefix, cache.size);
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

namespace {
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, se)) {
    return InvalidArgument("timestamp is not RFC 3339");
  }
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (y < 1970 || y > 2200) return InvalidArgument("timestamp year must be 1970..2200");
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
    return InvalidArgument("timestamp is out of range");
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return InvalidArgument("timestamp fraction is empty");
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om)) {
      return InvalidArgument("timestamp offset is malformed");
    }
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return InvalidArgument("timestamp needs a zone (Z or ±HH:MM)");
  }
  if (pos != s.size()) return InvalidArgument("timestamp has trailing characters");
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  int64_t secs = timegm(&tm) - offset_min * 60;
  return FromUnixMillis(secs * 1000 + millis);
}

}  // namespace parley

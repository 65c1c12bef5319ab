#include "core/clock.h"

#include <cctype>
#include <chrono>
#include <ctime>

namespace parley {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

std::string FormatRfc3339(TimePoint t) {
  // Every event, message and log line carries timestamps, so this is plain arithmetic: the
  // calendar date from the day number (std::chrono's civil calendar), no gmtime_r (which
  // takes glibc's time zone lock) and no formatting library.
  const int64_t ms = ToUnixMillis(t);
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t second_of_day = secs - days * 86400;
  const std::chrono::year_month_day date{
      std::chrono::sys_days{std::chrono::days{static_cast<int>(days)}}};
  // TimePoint counts nanoseconds in 64 bits, so the year is within 1677..2262: four digits.
  const auto year = static_cast<unsigned>(static_cast<int>(date.year()));
  char text[] = "YYYY-MM-DDThh:mm:ss.sssZ";
  auto put = [&text](size_t at, unsigned value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      text[at + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, static_cast<unsigned>(second_of_day / 3600), 2);
  put(14, static_cast<unsigned>(second_of_day / 60 % 60), 2);
  put(17, static_cast<unsigned>(second_of_day % 60), 2);
  put(20, static_cast<unsigned>(ms - secs * 1000), 3);
  return std::string(text, sizeof(text) - 1);
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

#include "core/clock.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

namespace parley {
namespace {

TEST(ClockTest, FormatsAndParsesRfc3339) {
  TimePoint t = FromUnixMillis(1'763'707'200'123);
  std::string s = FormatRfc3339(t);
  EXPECT_EQ(s, "2025-11-21T06:40:00.123Z");
  auto back = ParseRfc3339(s);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(ClockTest, ParsesOffsets) {
  auto a = ParseRfc3339("2025-11-21T08:40:00+02:00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(FormatRfc3339(*a), "2025-11-21T06:40:00.000Z");
}

TEST(ClockTest, RejectsMalformedTimestamps) {
  EXPECT_FALSE(ParseRfc3339("").ok());
  EXPECT_FALSE(ParseRfc3339("2025-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2025-11-21 06:40:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2025-11-21T06:40:00").ok());
  EXPECT_FALSE(ParseRfc3339("2025-11-21T06:40:00Zjunk").ok());
  EXPECT_FALSE(ParseRfc3339("9999-01-01T00:00:00Z").ok());  // beyond system_clock's range
  EXPECT_FALSE(ParseRfc3339("1969-12-31T23:59:59Z").ok());
}

TEST(FakeClockTest, AdvancesOnlyWhenTold) {
  FakeClock clock(FromUnixMillis(1000));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1000);
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1000 + 3'600'000);
}

TEST(ClockTest, FormatsTimesWithinAndAcrossSecondsAlike) {
  // Neighbours in either order, across seconds, days, months, a leap day, and times before
  // 1970 come out exactly.
  struct Case {
    int64_t ms;
    const char* text;
  };
  const Case cases[] = {
      {1795331587000, "2026-11-22T07:13:07.000Z"},
      {1795331587001, "2026-11-22T07:13:07.001Z"},
      {1795331587999, "2026-11-22T07:13:07.999Z"},
      {1795331588000, "2026-11-22T07:13:08.000Z"},
      {1795331587042, "2026-11-22T07:13:07.042Z"},
      {1795417987123, "2026-11-23T07:13:07.123Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {-1000, "1969-12-31T23:59:59.000Z"},
      {0, "1970-01-01T00:00:00.000Z"},
      {1795331587500, "2026-11-22T07:13:07.500Z"},
      {951782400000, "2000-02-29T00:00:00.000Z"},
      {951868799999, "2000-02-29T23:59:59.999Z"},
      {1709164800000, "2024-02-29T00:00:00.000Z"},
      {1735689599999, "2024-12-31T23:59:59.999Z"},
      {1735689600000, "2025-01-01T00:00:00.000Z"},
      {-86400001, "1969-12-30T23:59:59.999Z"},
      {-2208988800000, "1900-01-01T00:00:00.000Z"},
      {4102444800000, "2100-01-01T00:00:00.000Z"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatRfc3339(FromUnixMillis(c.ms)), c.text) << c.ms;
}

TEST(ClockTest, SubMillisecondTimesRoundDownOnBothSidesOf1970) {
  using std::chrono::microseconds;
  EXPECT_EQ(ToUnixMillis(TimePoint(microseconds(1500))), 1);
  EXPECT_EQ(ToUnixMillis(TimePoint(microseconds(-1500))), -2);
  EXPECT_EQ(ToUnixMillis(TimePoint(microseconds(-1))), -1);
  EXPECT_EQ(ToUnixMillis(TimePoint(microseconds(-1000))), -1);
  EXPECT_EQ(ToUnixSeconds(TimePoint(microseconds(-1))), -1);
  EXPECT_EQ(ToUnixSeconds(TimePoint(microseconds(1'999'999))), 1);
  // 1 µs before 1970 is still 1969.
  EXPECT_EQ(FormatRfc3339(TimePoint(microseconds(-1))), "1969-12-31T23:59:59.999Z");
}

TEST(ClockTest, FormatsLikeGmtimeAcrossTheWholeRange) {
  // Steps of 3 days, 1 hour, 7 minutes and 123 ms from 1678 to 2261 (TimePoint's range).
  const int64_t step = ((3 * 24 + 1) * 60 + 7) * 60'000 + 123;
  for (int64_t ms = -9'200'000'000'000; ms < 9'200'000'000'000; ms += step) {
    const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    const std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[96];
    std::snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms - secs * 1000));
    ASSERT_EQ(FormatRfc3339(FromUnixMillis(ms)), want) << ms;
  }
}

}  // namespace
}  // namespace parley

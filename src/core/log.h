// src/core/log.h
//
// Structured logging: one JSON object per line, written through spdlog to stderr or a file.
//
//   log::Init({.level = log::Level::kInfo});
//   log::Info("message.ingested", {{"tenant", t.str()}, {"message", id.str()}, {"bytes", 42}});
//   // {"ts":"2026-11-21T06:53:00.123Z","level":"info","event":"message.ingested",
//   //  "tenant":"tn_…","message":"msg_…","bytes":42}
//
// WHAT MAY BE LOGGED (DESIGN.md §6 "log messages"): event names and keys are fixed strings
// from the code; values are ids, counts, sizes, durations, status codes and error-code names.
// Never pass message or attachment content, secrets, keys, tokens, signatures, credentials or
// private data (names, IPs, cookies, tokens of customers). Contact ids only in Warn/Error.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"
#include "core/status.h"

namespace spdlog::sinks {
class sink;
}  // namespace spdlog::sinks

namespace parley::log {

enum class Level : int { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// "trace", "debug", "info", "warn", "error", "off".
std::string_view LevelName(Level level);
// Inverse of LevelName (exact, lowercase). Errors: kInvalidArgument.
Result<Level> ParseLevel(std::string_view name);

struct LogOptions {
  Level level = Level::kInfo;
  std::string file;  // empty = stderr; else appended to (file and parent dirs created)
};

// Replaces the process-wide logger. Thread safety: may be called while other threads log;
// they see either the old or the new logger. Until the first Init, logs go to stderr at
// kInfo.
//
// TryInit leaves the current logger in place and returns kUnavailable when the file cannot
// be opened. Init never fails: on such an error it falls back to stderr and logs
// "log.file_open_failed" there, so a service still starts with visible logs.
[[nodiscard]] Status TryInit(const LogOptions& options);
void Init(const LogOptions& options);

// For tests: send lines to `sink` (e.g. spdlog::sinks::ostream_sink_mt).
void InitWithSink(Level level, std::shared_ptr<spdlog::sinks::sink> sink);

// Flushes the current sink (e.g. before exit).
void Flush();

// One field value: a string, an integer, a double or a bool. Holds a string_view, so it
// must not outlive the call it is passed to. Strings are escaped, invalid UTF-8 is replaced
// by U+FFFD, and strings longer than kMaxValueBytes are cut (marked "…[truncated]").
class Value {
 public:
  Value(std::string_view s) : v_(s) {}                      // NOLINT: implicit by design
  Value(const char* s) : v_(std::string_view(s)) {}         // NOLINT
  Value(const std::string& s) : v_(std::string_view(s)) {}  // NOLINT
  Value(bool b) : v_(b) {}                                  // NOLINT
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) Value(T i)
      : v_(static_cast<int64_t>(i)) {}  // NOLINT; uint64 above INT64_MAX wraps
  template <std::floating_point T>
  Value(T d) : v_(static_cast<double>(d)) {}  // NOLINT; NaN and infinities are written as null

  const std::variant<std::string_view, int64_t, double, bool>& get() const { return v_; }

 private:
  std::variant<std::string_view, int64_t, double, bool> v_;
};

inline constexpr size_t kMaxValueBytes = 1024;

// `key` must be a fixed string from the code (it is escaped, but never pass outside data as
// a key). Keys "ts", "level" and "event" are reserved.
struct Field {
  std::string_view key;
  Value value;
};

namespace internal {
extern std::atomic<int> g_min_level;
void Write(Level level, std::string_view event, std::initializer_list<Field> fields);
// The line Write would emit, without the trailing newline (exposed for tests).
std::string FormatLine(std::string_view ts, Level level, std::string_view event,
                       std::initializer_list<Field> fields);
}  // namespace internal

// True when a line at `level` would be written. Cheap (one relaxed atomic load).
inline bool Enabled(Level level) {
  return static_cast<int>(level) >= internal::g_min_level.load(std::memory_order_relaxed) &&
         level != Level::kOff;
}

// Writes one line. Thread safety: callable from any thread. Disabled levels cost one
// atomic load plus building the initializer list (no allocation, no formatting).
inline void Log(Level level, std::string_view event, std::initializer_list<Field> fields = {}) {
  if (Enabled(level)) internal::Write(level, event, fields);
}
inline void Trace(std::string_view event, std::initializer_list<Field> fields = {}) {
  Log(Level::kTrace, event, fields);
}
inline void Debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  Log(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Log(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Log(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Log(Level::kError, event, fields);
}

}  // namespace parley::log

#include "core/log.h"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cmath>
#include <exception>
#include <iterator>
#include <string>
#include <utility>

#include "core/clock.h"

namespace parley::log {

namespace internal {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
}  // namespace internal

namespace {

// Swapped atomically so Init may run while I/O threads log.
std::atomic<std::shared_ptr<spdlog::logger>> g_logger;

std::shared_ptr<spdlog::logger> MakeLogger(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>("parley", std::move(sink));
  // We format the whole JSON object ourselves (with our own timestamp), so spdlog only
  // writes the payload and its own filtering lets everything through.
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  // Flush every line: a crash must not swallow the lines that explain it.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> CurrentLogger() {
  auto logger = g_logger.load();
  if (logger) return logger;
  // First use before Init: stderr. Several threads may race here; one logger wins.
  auto fresh = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  std::shared_ptr<spdlog::logger> expected;
  if (g_logger.compare_exchange_strong(expected, fresh)) return fresh;
  return expected;
}

void Install(Level level, std::shared_ptr<spdlog::logger> logger) {
  g_logger.store(std::move(logger));
  internal::g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

constexpr std::string_view kHex = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong
// forms, surrogates and code points above U+10FFFF are invalid, as for RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

std::string_view ShortEscape(unsigned char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return {};
  }
}

void AppendEscaped(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::string_view short_form = ShortEscape(c); !short_form.empty()) {
      out += short_form;
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      // Ids and codes come from outside too; a stray byte must not break the JSON line.
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

void AppendValue(std::string& out, const Value& value) {
  const auto& v = value.get();
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    if (s->size() <= kMaxValueBytes) {
      AppendEscaped(out, *s);
    } else {
      // Cut inside a UTF-8 sequence yields one U+FFFD, which is fine for a marker-ed value.
      std::string cut(s->substr(0, kMaxValueBytes));
      cut += "…[truncated]";
      AppendEscaped(out, cut);
    }
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      fmt::format_to(std::back_inserter(out), "{}", *d);
    } else {
      out += "null";  // JSON has no NaN or infinity
    }
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "unknown";
}

Result<Level> ParseLevel(std::string_view name) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (name == LevelName(l)) return l;
  }
  return InvalidArgument("expected one of trace, debug, info, warn, error, off");
}

Status TryInit(const LogOptions& options) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false);
    } catch (const std::exception&) {
      // spdlog's message may quote the path only; still, keep ours fixed and predictable.
      return Unavailable("cannot open log file " + options.file);
    }
  }
  Install(options.level, MakeLogger(std::move(sink)));
  return OkStatus();
}

void Init(const LogOptions& options) {
  Status status = TryInit(options);
  if (status.ok()) return;
  Install(options.level, MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  Error("log.file_open_failed", {{"file", options.file}});
}

void InitWithSink(Level level, std::shared_ptr<spdlog::sinks::sink> sink) {
  Install(level, MakeLogger(std::move(sink)));
}

void Flush() { CurrentLogger()->flush(); }

namespace internal {

std::string FormatLine(std::string_view ts, Level level, std::string_view event,
                       std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(96 + fields.size() * 32);
  line += "{\"ts\":";
  AppendEscaped(line, ts);
  line += ",\"level\":\"";
  line += LevelName(level);
  line += "\",\"event\":";
  AppendEscaped(line, event);
  for (const Field& f : fields) {
    line += ',';
    AppendEscaped(line, f.key);
    line += ':';
    AppendValue(line, f.value);
  }
  line += '}';
  return line;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line = FormatLine(FormatRfc3339(SystemClock::Instance().Now()), level, event, fields);
  // Our levels map one to one onto spdlog's (kOff never reaches here).
  auto spd_level = static_cast<spdlog::level::level_enum>(static_cast<int>(level));
  try {
    CurrentLogger()->log(spd_level, spdlog::string_view_t(line.data(), line.size()));
  } catch (const std::exception&) {
    // A full disk must not take a request down with it; the line is lost.
  }
}

}  // namespace internal

}  // namespace parley::log

#include "core/log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/clock.h"
#include "core/json_scan.h"

namespace parley::log {

namespace internal {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
}  // namespace internal

namespace {

// Swapped atomically so Init may run while I/O threads log.
std::atomic<std::shared_ptr<spdlog::logger>> g_logger;

// Writes lines to a file descriptor in batches: one write(2) per line was the largest part
// of the access log's cost under load. A warning or error goes out at once with everything
// before it (a crash must not swallow the lines that explain it); other lines wait at most
// kMaxDelay, or until kMaxBuffered bytes are pending.
class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr size_t kMaxBuffered = 64 * 1024;
  static constexpr std::chrono::milliseconds kMaxDelay{200};

  BufferedFdSink(int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd) {
    buffer_.reserve(kMaxBuffered + 4096);
    flusher_ = std::thread([this] { FlushLoop(); });
  }

  ~BufferedFdSink() override {
    {
      std::lock_guard lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    flusher_.join();
    std::lock_guard lock(mutex_);
    WriteOut();
    if (owns_fd_) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (msg.level >= spdlog::level::warn || buffer_.size() >= kMaxBuffered ||
        std::chrono::steady_clock::now() - last_out_ >= kMaxDelay) {
      WriteOut();
    }
  }

  void flush_() override { WriteOut(); }

 private:
  // Caller holds mutex_. A failed write drops the pending lines (a full disk must not
  // grow the buffer without bound or stall requests).
  void WriteOut() {
    last_out_ = std::chrono::steady_clock::now();
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  void FlushLoop() {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, kMaxDelay, [this] { return stopping_; })) {
      flush();
    }
  }

  int fd_;
  bool owns_fd_;
  std::string buffer_;
  std::chrono::steady_clock::time_point last_out_ = std::chrono::steady_clock::now();
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread flusher_;
};

std::shared_ptr<spdlog::sinks::sink> StderrSink() {
  return std::make_shared<BufferedFdSink>(STDERR_FILENO, /*owns_fd=*/false);
}

std::shared_ptr<spdlog::logger> MakeLogger(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>("parley", std::move(sink));
  // We format the whole JSON object ourselves (with our own timestamp), so spdlog only
  // writes the payload and its own filtering lets everything through.
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

std::shared_ptr<spdlog::logger> CurrentLogger() {
  auto logger = g_logger.load();
  if (logger) return logger;
  // First use before Init: stderr. Several threads may race here; one logger wins.
  auto fresh = MakeLogger(StderrSink());
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

// A JSON string: printable ASCII other than '"' and '\\' and valid UTF-8 go in as they are,
// the rest escaped; a byte that is not valid UTF-8 becomes U+FFFD.
void AppendEscaped(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    // Ids, routes and codes are plain ASCII: copy each run at once.
    size_t run = PlainAsciiJsonRun(s, i);
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
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
    out += fmt::format_int(*i).c_str();
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
    sink = StderrSink();
  } else {
    std::filesystem::path path(options.file);
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    int fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return Unavailable("cannot open log file " + options.file);
    sink = std::make_shared<BufferedFdSink>(fd, /*owns_fd=*/true);
  }
  Install(options.level, MakeLogger(std::move(sink)));
  return OkStatus();
}

void Init(const LogOptions& options) {
  Status status = TryInit(options);
  if (status.ok()) return;
  Install(options.level, MakeLogger(StderrSink()));
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

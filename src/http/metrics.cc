// src/http/metrics.cc
#include "http/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "core/status.h"

namespace parley::http {
namespace {

bool IsValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// Prometheus floats: shortest round-trip form, and the spellings +Inf/-Inf/NaN.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// `{a="x",b="y"` without the closing brace, so histograms can append `le`.
std::string OpenLabels(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}=\"{}\"", names[i], Escape(values[i], true));
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  if (names.empty()) return "";
  return OpenLabels(names, values) + "}";
}

void RenderHeader(std::string& out, const std::string& name, const std::string& help,
                  const char* type) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, Escape(help, false), name, type);
}

}  // namespace

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

Counter::Series& Counter::WithLabels(const std::vector<std::string>& label_values) {
  PARLEY_CHECK(label_values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  auto& series = series_[label_values];
  if (!series) series = std::make_unique<Series>();
  return *series;
}

void Counter::Render(std::string& out) const {
  RenderHeader(out, name_, help_, "counter");
  std::lock_guard lock(mu_);
  for (const auto& [values, series] : series_) {
    out += fmt::format("{}{} {}\n", name_, Labels(label_names_, values), series->value());
  }
}

Histogram::Series::Series(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size()]) {
  for (size_t i = 0; i < bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::Series::Observe(double value) {
  for (size_t i = 0; i < bounds_->size(); ++i) {
    if (value <= (*bounds_)[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

Histogram::Series& Histogram::WithLabels(const std::vector<std::string>& label_values) {
  PARLEY_CHECK(label_values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  auto& series = series_[label_values];
  if (!series) series = std::make_unique<Series>(&bounds_);
  return *series;
}

void Histogram::Render(std::string& out) const {
  RenderHeader(out, name_, help_, "histogram");
  std::lock_guard lock(mu_);
  for (const auto& [values, series] : series_) {
    std::string open = OpenLabels(label_names_, values);
    if (!label_names_.empty()) open += ',';
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series->buckets_[i].load(std::memory_order_relaxed);
      out += fmt::format("{}_bucket{}le=\"{}\"}} {}\n", name_, open, FormatValue(bounds_[i]),
                         cumulative);
    }
    // Read count once so +Inf and _count agree even while observations land.
    const uint64_t count = series->count_.load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{}le=\"+Inf\"}} {}\n", name_, open, count);
    const std::string labels = Labels(label_names_, values);
    out += fmt::format("{}_sum{} {}\n", name_, labels,
                       FormatValue(series->sum_.load(std::memory_order_relaxed)));
    out += fmt::format("{}_count{} {}\n", name_, labels, count);
  }
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct Metrics::Entry {
  std::string name;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Histogram> histogram;
  std::string gauge_help;
  std::function<double()> gauge;
  const char* read_type = "gauge";  // or "counter" (AddCounterFunc)
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::Entry* Metrics::FindLocked(const std::string& name) {
  for (auto& entry : entries_) {
    if (entry->name == name) return entry.get();
  }
  return nullptr;
}

Counter& Metrics::AddCounter(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  PARLEY_CHECK(IsValidName(name));
  for (const auto& label : label_names) PARLEY_CHECK(IsValidName(label) && label != "le");
  std::lock_guard lock(mu_);
  if (Entry* existing = FindLocked(name)) {
    PARLEY_CHECK(existing->counter && existing->counter->label_names_ == label_names);
    return *existing->counter;
  }
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->counter.reset(new Counter(name, help, std::move(label_names)));
  Counter& counter = *entry->counter;
  entries_.push_back(std::move(entry));
  return counter;
}

Histogram& Metrics::AddHistogram(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names, std::vector<double> bounds) {
  PARLEY_CHECK(IsValidName(name));
  for (const auto& label : label_names) PARLEY_CHECK(IsValidName(label) && label != "le");
  for (size_t i = 0; i < bounds.size(); ++i) {
    PARLEY_CHECK(std::isfinite(bounds[i]) && (i == 0 || bounds[i - 1] < bounds[i]));
  }
  std::lock_guard lock(mu_);
  if (Entry* existing = FindLocked(name)) {
    PARLEY_CHECK(existing->histogram && existing->histogram->label_names_ == label_names &&
                 existing->histogram->bounds_ == bounds);
    return *existing->histogram;
  }
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->histogram.reset(new Histogram(name, help, std::move(label_names), std::move(bounds)));
  Histogram& histogram = *entry->histogram;
  entries_.push_back(std::move(entry));
  return histogram;
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<double()> read) {
  AddRead(name, help, std::move(read), "gauge");
}

void Metrics::AddCounterFunc(const std::string& name, const std::string& help,
                             std::function<double()> read) {
  AddRead(name, help, std::move(read), "counter");
}

void Metrics::AddRead(const std::string& name, const std::string& help,
                      std::function<double()> read, const char* type) {
  PARLEY_CHECK(IsValidName(name) && read);
  std::lock_guard lock(mu_);
  PARLEY_CHECK(FindLocked(name) == nullptr);
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->gauge_help = help;
  entry->gauge = std::move(read);
  entry->read_type = type;
  entries_.push_back(std::move(entry));
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    if (entry->counter) {
      entry->counter->Render(out);
    } else if (entry->histogram) {
      entry->histogram->Render(out);
    } else {
      RenderHeader(out, entry->name, entry->gauge_help, entry->read_type);
      out += fmt::format("{} {}\n", entry->name, FormatValue(entry->gauge()));
    }
  }
  return out;
}

}  // namespace parley::http

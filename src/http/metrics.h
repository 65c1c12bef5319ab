// src/http/metrics.h
//
// A tiny thread-safe Prometheus registry: labelled counters and histograms, and gauges
// read from callbacks at render time. RenderPrometheus() writes text format 0.0.4.
//
//   Counter& in = metrics.AddCounter("parley_messages_in_total", "Inbound messages.", {"channel"});
//   in.Inc({"whatsapp"});
//   Histogram& h = metrics.AddHistogram("parley_x_seconds", "…", {"route"}, {0.01, 0.1, 1});
//   h.Observe({"/v1/x"}, 0.03);
//   metrics.AddGauge("parley_open_streams", "…", [&] { return hub.size(); });
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley::http {

// A monotonically increasing count per label-value tuple.
// Thread safety: all methods may be called concurrently.
class Counter {
 public:
  // One labelled series; the reference stays valid for the registry's lifetime, so hot
  // paths may look it up once and keep it.
  class Series {
   public:
    void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t value() const { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<uint64_t> value_{0};
  };

  // `label_values` must have one value per label name given at registration
  // (PARLEY_CHECK otherwise).
  Series& WithLabels(const std::vector<std::string>& label_values);
  void Inc(const std::vector<std::string>& label_values, uint64_t n = 1) {
    WithLabels(label_values).Inc(n);
  }

 private:
  friend class Metrics;
  Counter(std::string name, std::string help, std::vector<std::string> label_names);
  void Render(std::string& out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

// Observations bucketed by upper bounds (Prometheus cumulative `le` buckets).
// Thread safety: all methods may be called concurrently.
class Histogram {
 public:
  class Series {
   public:
    explicit Series(const std::vector<double>* bounds);
    void Observe(double value);

   private:
    friend class Histogram;
    const std::vector<double>* bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative
    std::atomic<uint64_t> count_{0};
    std::atomic<double> sum_{0};
  };

  Series& WithLabels(const std::vector<std::string>& label_values);
  void Observe(const std::vector<std::string>& label_values, double value) {
    WithLabels(label_values).Observe(value);
  }

 private:
  friend class Metrics;
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  void Render(std::string& out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // strictly increasing, without +Inf
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

// Default latency buckets in seconds (5 ms … 10 s).
std::vector<double> DefaultLatencyBuckets();

// The registry. Metrics render in registration order, series in label order.
// Thread safety: all methods may be called concurrently. Returned references stay valid
// for the Metrics object's lifetime.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Registering an existing name again with the same kind and labels returns the existing
  // metric (so two servers can share a registry); a different kind or label set, or an
  // invalid name, is a programming error (PARLEY_CHECK).
  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names);
  // `bounds` must be strictly increasing and finite.
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names, std::vector<double> bounds);
  // `read` is called (from the rendering thread, under the registry lock) at every
  // RenderPrometheus; it must be cheap and must not call back into this Metrics.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> read);
  // A counter kept elsewhere (e.g. the store's own statistics), read like a gauge; `read`
  // must never decrease.
  void AddCounterFunc(const std::string& name, const std::string& help,
                      std::function<double()> read);

  // Text exposition format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  struct Entry;
  Entry* FindLocked(const std::string& name);
  void AddRead(const std::string& name, const std::string& help, std::function<double()> read,
               const char* type);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace parley::http

// src/http/metrics_test.cc
#include "http/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace parley::http {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCounterInExpositionFormat) {
  Metrics metrics;
  Counter& counter =
      metrics.AddCounter("parley_messages_in_total", "Inbound messages.", {"channel"});
  counter.Inc({"whatsapp"});
  counter.Inc({"whatsapp"}, 2);
  counter.Inc({"sms"});
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP parley_messages_in_total Inbound messages.\n"
            "# TYPE parley_messages_in_total counter\n"
            "parley_messages_in_total{channel=\"sms\"} 1\n"
            "parley_messages_in_total{channel=\"whatsapp\"} 3\n");
}

TEST(MetricsTest, RendersHistogramWithCumulativeBucketsSumAndCount) {
  Metrics metrics;
  Histogram& histogram =
      metrics.AddHistogram("parley_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  histogram.Observe({"/x"}, 0.05);
  histogram.Observe({"/x"}, 0.5);
  histogram.Observe({"/x"}, 2);
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP parley_latency_seconds Latency.\n"
            "# TYPE parley_latency_seconds histogram\n"
            "parley_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
            "parley_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
            "parley_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
            "parley_latency_seconds_sum{route=\"/x\"} 2.55\n"
            "parley_latency_seconds_count{route=\"/x\"} 3\n");
}

TEST(MetricsTest, UnlabelledHistogramHasOnlyLeLabel) {
  Metrics metrics;
  metrics.AddHistogram("h", "H.", {}, {1}).Observe({}, 0.5);
  EXPECT_THAT(metrics.RenderPrometheus(),
              HasSubstr("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                        "h_sum 0.5\nh_count 1\n"));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics metrics;
  metrics.AddCounter("c_total", "Line1\nback\\slash", {"l"}).Inc({"a\"b\\c\nd"});
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP c_total Line1\\nback\\\\slash\n"
            "# TYPE c_total counter\n"
            "c_total{l=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, GaugeIsReadAtRenderTime) {
  Metrics metrics;
  double value = 1;
  metrics.AddGauge("parley_open_streams", "Open streams.", [&value] { return value; });
  value = 7;
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP parley_open_streams Open streams.\n"
            "# TYPE parley_open_streams gauge\n"
            "parley_open_streams 7\n");
}

TEST(MetricsTest, CounterFuncIsReadAtRenderTimeAsACounter) {
  Metrics metrics;
  double commits = 3;
  metrics.AddCounterFunc("parley_store_commits_total", "Commits.", [&commits] { return commits; });
  commits = 5;
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP parley_store_commits_total Commits.\n"
            "# TYPE parley_store_commits_total counter\n"
            "parley_store_commits_total 5\n");
}

TEST(MetricsTest, RegisteringSameCounterTwiceReturnsTheSameMetric) {
  Metrics metrics;
  Counter& a = metrics.AddCounter("x_total", "X.", {"k"});
  Counter& b = metrics.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Metrics metrics;
  Counter& counter = metrics.AddCounter("n_total", "N.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 1000; ++i) counter.Inc({"v"});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.WithLabels({"v"}).value(), 4000u);
}

TEST(MetricsDeathTest, WrongLabelCountIsAProgrammingError) {
  Metrics metrics;
  Counter& counter = metrics.AddCounter("y_total", "Y.", {"a", "b"});
  EXPECT_DEATH(counter.Inc({"only-one"}), "PARLEY_CHECK");
}

}  // namespace
}  // namespace parley::http

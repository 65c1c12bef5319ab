// bench/crypto_bench.cc — per-call costs of the hashing and time formatting that every
// ingested message pays several times, each against a baseline run in the same invocation:
// for HMAC the EVP_MAC implementation it replaced; for timestamps gmtime_r and fmt on every
// call (the implementation before the per-second cache that the arithmetic replaced; that
// cache missed anyway on timestamps seconds apart, as these are). Prints Google Benchmark's table,
// then one line per pair:
//   <new> vs <baseline>: <ns> ns vs <ns> ns, speed-up <baseline time / new time>x
//
//   build/bench/crypto_bench [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/hash.h"

namespace {

using parley::crypto::HmacSha256;
using parley::crypto::HmacSha256Key;

const std::string kKey(32, 'k');

std::string Data(size_t size) { return std::string(size, 'd'); }

// Baseline: HMAC-SHA256 through OpenSSL 3's EVP_MAC with a per-thread context and the digest
// set once, re-keyed per call (Parley's implementation before the low-level one).
std::string EvpMacHmac(std::string_view key, std::string_view data) {
  struct Free {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
  };
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  thread_local std::unique_ptr<EVP_MAC_CTX, Free> ctx = [] {
    std::unique_ptr<EVP_MAC_CTX, Free> c(EVP_MAC_CTX_new(mac));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(c.get(), params);
    return c;
  }();
  EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr);
  EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out(32, '\0');
  size_t n = 0;
  EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, out.size());
  return out;
}

void BM_HmacEvpMac(benchmark::State& state) {
  const std::string data = Data(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(EvpMacHmac(kKey, data));
}
void BM_HmacSha256(benchmark::State& state) {
  const std::string data = Data(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(HmacSha256(kKey, data));
}
void BM_HmacSha256Key(benchmark::State& state) {
  const std::string data = Data(static_cast<size_t>(state.range(0)));
  const HmacSha256Key key(kKey);
  for (auto _ : state) benchmark::DoNotOptimize(key.Mac(data));
}
// A blind index's data (domain and a contact id) and a webhook body.
BENCHMARK(BM_HmacEvpMac)->Arg(48)->Arg(1024);
BENCHMARK(BM_HmacSha256)->Arg(48)->Arg(1024);
BENCHMARK(BM_HmacSha256Key)->Arg(48)->Arg(1024);

// Baseline: gmtime_r and fmt for every timestamp (before the per-second cache and the
// arithmetic formatting).
std::string GmtimeFormat(parley::TimePoint t) {
  const int64_t ms = parley::ToUnixMillis(t);
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(ms - secs * 1000));
}

// Two timestamps seconds apart in turn, as a message's sent_at and received_at.
void BM_FormatGmtime(benchmark::State& state) {
  const parley::TimePoint a = parley::FromUnixMillis(1795331587123), b = a + std::chrono::hours(1);
  bool flip = false;
  for (auto _ : state) benchmark::DoNotOptimize(GmtimeFormat((flip = !flip) ? a : b));
}
void BM_FormatRfc3339(benchmark::State& state) {
  const parley::TimePoint a = parley::FromUnixMillis(1795331587123), b = a + std::chrono::hours(1);
  bool flip = false;
  for (auto _ : state) benchmark::DoNotOptimize(parley::FormatRfc3339((flip = !flip) ? a : b));
}
BENCHMARK(BM_FormatGmtime);
BENCHMARK(BM_FormatRfc3339);

// Keeps every run's time per iteration, for the ratio lines.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) ns_[run.benchmark_name()] = run.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatio(const std::string& fresh, const std::string& baseline) const {
    const auto f = ns_.find(fresh), b = ns_.find(baseline);
    if (f == ns_.end() || b == ns_.end() || f->second <= 0) return;
    fmt::print("{} vs {}: {:.0f} ns vs {:.0f} ns, speed-up {:.2f}x\n", fresh, baseline, f->second,
               b->second, b->second / f->second);
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (const char* size : {"48", "1024"}) {
    reporter.PrintRatio(fmt::format("BM_HmacSha256/{}", size),
                        fmt::format("BM_HmacEvpMac/{}", size));
    reporter.PrintRatio(fmt::format("BM_HmacSha256Key/{}", size),
                        fmt::format("BM_HmacEvpMac/{}", size));
  }
  reporter.PrintRatio("BM_FormatRfc3339", "BM_FormatGmtime");
  benchmark::Shutdown();
  return 0;
}

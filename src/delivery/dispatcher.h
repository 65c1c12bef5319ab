// src/delivery/dispatcher.h
//
// The dispatcher delivers what the store holds for delivery:
// - events to the client application's webhook endpoints, from each endpoint's cursor over
//   the event log (signed batches in seq order, a failed batch retried with backoff and
//   jitter, then dead letters), and the outbox rows of replayed dead letters;
// - outbound messages to their channels through the channel adapters, from the outbox. A
//   conversation whose oldest pending send waits for a retry holds back its later ones.
// Either way, deliveries of one conversation leave in commit order.
//
//   Dispatcher dispatcher(deps, options);
//   store.SetCommitListener([&] { dispatcher.Wake(); });
//   dispatcher.Start();
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "bus/bus.h"
#include "channels/registry.h"
#include "core/clock.h"
#include "delivery/attachments.h"
#include "delivery/tenant_keys.h"
#include "http/client.h"
#include "http/metrics.h"
#include "store/store.h"

namespace parley::delivery {

struct DispatcherOptions {
  std::chrono::seconds max_retry_age{86400};
  Millis initial_backoff{1000};
  Millis max_backoff{3600 * 1000};
  int batch_size = 50;  // events per webhook POST
  Millis request_timeout{10000};
  int max_concurrent_sends = 64;  // channel sends in flight
  int scan_limit = 500;           // outbox rows looked at per scan (1..500)
};

// Everything the dispatcher uses; all outlive it.
struct DispatcherDeps {
  boost::asio::io_context* io = nullptr;
  store::Store* store = nullptr;
  TenantKeys* keys = nullptr;
  http::Client* client = nullptr;
  channels::Registry* registry = nullptr;
  bus::EventBus* bus = nullptr;
  const Clock* clock = nullptr;
  http::Metrics* metrics = nullptr;
  const Attachments* attachments = nullptr;  // mints the links of outgoing attachments
};

// Thread safety: Wake() may be called from any thread; Start/Stop from one.
class Dispatcher {
 public:
  Dispatcher(DispatcherDeps deps, DispatcherOptions options);
  ~Dispatcher();

  void Start();
  // Stops scanning; deliveries in flight finish or are abandoned (they stay in the outbox).
  void Stop();
  // Asks for a scan soon (new outbox rows were committed).
  void Wake();

  // The backoff before attempt `attempt` (1-based) with full jitter in [d/2, d].
  static Millis Backoff(int attempt, Millis initial, Millis max, uint64_t random);

  // Outbox rows last counted (for the metrics gauge).
  int64_t last_depth() const { return depth_.load(); }

  struct Shared;  // state shared with delivery coroutines, which may outlive a Stop()

 private:
  boost::asio::awaitable<void> Loop(std::shared_ptr<Shared> shared);
  DispatcherDeps deps_;
  DispatcherOptions options_;
  std::shared_ptr<Shared> shared_;
  std::atomic<int64_t> depth_{0};
};

}  // namespace parley::delivery

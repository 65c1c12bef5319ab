// src/delivery/dispatcher_internal.h — what dispatcher.cc (the loop and webhook delivery) and
// dispatcher_send.cc (channel sends) share. Not for use outside src/delivery/dispatcher*.cc.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/dispatcher.h"
#include "http/metrics.h"
#include "store/store.h"

namespace parley::delivery {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct Dispatcher::Shared {
  Shared(const DispatcherDeps& d, const DispatcherOptions& o)
      : deps(d), options(o), strand(boost::asio::make_strand(*d.io)), timer(strand) {}
  DispatcherDeps deps;
  DispatcherOptions options;
  Strand strand;
  boost::asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::atomic<bool> wake_pending{true};
  // Strand-only state: outbox rows being delivered (or acknowledged and not yet deleted),
  // and the lanes with a delivery in flight.
  std::set<int64_t> busy;
  std::set<std::string> busy_lanes;
  // Lanes whose delivery finished since the current scan began reading the outbox: the scan's
  // rows for them may predate that delivery's write (a row it deleted or rescheduled), so
  // they wait for the next scan, which the finish asks for.
  std::set<std::string> settled_lanes;
  int sends_in_flight = 0;
  // The store's OutboxVersion when the outbox was last read empty (none: it was not), and
  // when it was last read.
  std::optional<uint64_t> outbox_empty_at;
  std::chrono::steady_clock::time_point outbox_read_at{};
  std::mt19937_64 rng{std::random_device{}()};
  http::Counter* deliveries = nullptr;
  http::Counter* failures = nullptr;
  http::Counter* messages_out = nullptr;
  std::atomic<int64_t>* depth = nullptr;

  // Ends a delivery in `lane`: frees it and asks for a new scan.
  void Settle(const std::string& lane) {
    busy_lanes.erase(lane);
    settled_lanes.insert(lane);
    Wake();
  }

  void Wake() {
    wake_pending = true;
    boost::asio::post(strand, [this] { timer.cancel(); });
  }
};

namespace internal {

// The lane a row is delivered in: one POST in flight per endpoint, one send per conversation.
std::string LaneKey(const store::OutboxRecord& r);

// Reschedules failed rows, or turns those past the retry age into dead letters.
Status RetryOrBury(store::Writer& w, const std::vector<store::OutboxRecord>& rows, TimePoint now,
                   const DispatcherOptions& options, std::string_view error,
                   const std::vector<Millis>& delays, std::vector<bool>* buried);

// Renders and sends one outbox row through its channel's adapter, then records the outcome
// (sent with the provider's id, retry, or failed) and its message.status event.
boost::asio::awaitable<void> SendToChannel(std::shared_ptr<Dispatcher::Shared> sh,
                                           store::OutboxRecord row);

}  // namespace internal
}  // namespace parley::delivery

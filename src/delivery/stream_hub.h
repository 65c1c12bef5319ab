// src/delivery/stream_hub.h
//
// The live stream (/v1/stream): one WebSocket per client-application session, pushing the
// tenant's events as they are committed, resumable from the last event id the client saw
// (replayed from the events table, then live from the bus without gaps or repeats).
//
//   co_await hub.Serve(socket, tenant, resume_from);
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>

#include "bus/bus.h"
#include "core/ids.h"
#include "delivery/attachments.h"
#include "delivery/tenant_keys.h"
#include "http/websocket.h"
#include "store/store.h"

namespace parley::delivery {

struct StreamOptions {
  size_t max_queued_events = 10000;  // a client this far behind is closed; it resumes later
  int replay_page = 500;
};

// Thread safety: Serve may run concurrently for many sockets.
class StreamHub {
 public:
  // All references outlive the hub.
  StreamHub(store::Store& store, TenantKeys& keys, bus::EventBus& bus, StreamOptions options)
      : store_(store), keys_(keys), bus_(bus), options_(options) {}

  // Events about messages with attachments carry links minted as they are sent. Call before
  // the first Serve; `attachments` outlives the hub.
  void SetAttachments(const Attachments* attachments) { attachments_ = attachments; }

  // Runs until the socket closes. `resume_after` is the last event id the client saw.
  boost::asio::awaitable<void> Serve(std::shared_ptr<http::WebSocket> socket, TenantId tenant,
                                     std::optional<EventId> resume_after);

  int64_t open_streams() const { return open_.load(); }

 private:
  store::Store& store_;
  TenantKeys& keys_;
  bus::EventBus& bus_;
  StreamOptions options_;
  const Attachments* attachments_ = nullptr;
  std::atomic<int64_t> open_{0};
};

}  // namespace parley::delivery

#include "delivery/stream_hub.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>

#include "core/log.h"
#include "http/io_runtime.h"
#include "store/async.h"

namespace parley::delivery {

namespace asio = boost::asio;

namespace {

// The session's inbox: filled by the bus on committing threads, drained by the writer
// coroutine. The timer serves as a condition variable.
struct Inbox {
  explicit Inbox(asio::any_io_executor ex) : timer(ex) {
    timer.expires_at(std::chrono::steady_clock::time_point::max());
  }
  std::mutex mu;
  std::deque<bus::BusEvent> events;
  bool overflow = false;
  bool closed = false;
  asio::steady_timer timer;

  void Notify() {
    asio::post(timer.get_executor(), [this] { timer.cancel(); });
  }
};

asio::awaitable<void> ReadUntilClosed(std::shared_ptr<http::WebSocket> socket,
                                      std::shared_ptr<Inbox> inbox) {
  // Clients send nothing we act on; reading keeps pings/close handled and tells us when the
  // peer goes away.
  while (true) {
    auto frame = co_await socket->Read();
    if (!frame.ok()) break;
  }
  {
    std::lock_guard lock(inbox->mu);
    inbox->closed = true;
  }
  inbox->Notify();
}

}  // namespace

asio::awaitable<void> StreamHub::Serve(std::shared_ptr<http::WebSocket> socket, TenantId tenant,
                                       std::optional<EventId> resume_after) {
  ++open_;
  struct Count {
    std::atomic<int64_t>& n;
    ~Count() { --n; }
  } count{open_};

  auto inbox = std::make_shared<Inbox>(socket->executor());
  size_t max_queued = options_.max_queued_events;
  // Subscribe before replaying, so nothing committed in between is lost; duplicates are
  // dropped by sequence number below.
  std::weak_ptr<Inbox> weak = inbox;
  auto subscription = bus_.Subscribe(tenant, [weak, max_queued](const bus::BusEvent& e) {
    auto in = weak.lock();
    if (!in) return;
    {
      std::lock_guard lock(in->mu);
      if (in->events.size() >= max_queued) {
        in->overflow = true;
      } else {
        in->events.push_back(e);
      }
    }
    in->Notify();
  });
  http::Spawn(socket->executor(), ReadUntilClosed(socket, inbox), "stream_reader");

  // The tenant's key opens replayed events and signs the links of attachments, minted as
  // each event leaves. Without it the stream cannot do its work: close, the client retries.
  auto key = co_await keys_.Get(tenant);
  if (!key.ok()) {
    log::Warn("stream.key_unavailable",
              {{"tenant", tenant.str()}, {"code", StatusCodeName(key.status().code())}});
    co_await socket->Close(1011, "tenant key unavailable");
    co_return;
  }
  auto linked = [this, &key](std::string json) {
    if (!attachments_) return json;
    return attachments_->AddLinks(**key, std::move(json), attachments_->clock().Now());
  };

  int64_t last_seq = 0;
  if (resume_after) {
    std::function<Result<store::EventRecord>(store::Reader&)> get_event =
        [tenant, id = *resume_after](store::Reader& r) { return r.GetEvent(tenant, id); };
    auto from = co_await store::Read<store::EventRecord>(store_, std::move(get_event));
    if (!key.ok() || !from.ok()) {
      co_await socket->Close(4404, "resume point no longer held");
      co_return;
    }
    last_seq = from->seq;
    int page = options_.replay_page;
    while (true) {
      std::function<Result<std::vector<store::EventRecord>>(store::Reader&)> list_events_after =
          [tenant, last_seq, page](store::Reader& r) {
            return r.ListEventsAfter(tenant, last_seq, page);
          };
      auto events = co_await store::Read<std::vector<store::EventRecord>>(
          store_, std::move(list_events_after));
      if (!events.ok()) {
        co_await socket->Close(1011, "store unavailable");
        co_return;
      }
      for (const auto& e : *events) {
        auto json = (*key)->Open(e.payload_sealed, place::EventPayload(tenant, e.id.str()));
        if (!json.ok()) continue;
        if (!(co_await socket->Write(linked(std::move(*json)))).ok()) co_return;
        last_seq = e.seq;
      }
      if (static_cast<int>(events->size()) < page) break;
    }
  }

  const int64_t replayed_up_to = last_seq;
  while (true) {
    std::deque<bus::BusEvent> batch;
    bool overflow = false, closed = false;
    {
      std::lock_guard lock(inbox->mu);
      batch.swap(inbox->events);
      overflow = inbox->overflow;
      closed = inbox->closed;
    }
    if (closed) break;
    for (auto& e : batch) {
      if (e.seq == 0) {  // live only (typing): not part of the resumable sequence
        if (!(co_await socket->Write(std::move(e.json))).ok()) co_return;
        continue;
      }
      // Only what the replay already sent is a duplicate. Live events are not compared with
      // each other: writes commit in order but publish from several threads, so a later
      // event may arrive first, and dropping the earlier one then would lose it.
      if (e.seq <= replayed_up_to) continue;
      if (!(co_await socket->Write(linked(std::move(e.json)))).ok()) co_return;
    }
    if (overflow) {
      log::Warn("stream.overflow", {{"tenant", tenant.str()}});
      co_await socket->Close(4408, "client too slow; resume with last_event_id");
      break;
    }
    if (batch.empty()) {
      // A wake-up posted between the drain above and this wait is not lost for long: the
      // wait is bounded.
      inbox->timer.expires_after(std::chrono::milliseconds(250));
      co_await inbox->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

}  // namespace parley::delivery

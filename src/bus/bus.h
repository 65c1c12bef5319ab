// src/bus/bus.h
//
// The event bus carries committed events to live subscribers (the /v1/stream hub) — on this
// node now, and through NATS later, so a client's stream may live on another node than the
// one that received the message. Events are published after their commit; the bus is not
// the durable record (the events table is), so a subscriber that misses events resumes from
// the store by sequence number.
//
//   auto sub = bus.Subscribe(tenant, [](const BusEvent& e) { queue.Push(e); });
//   bus.Publish(BusEvent{tenant, seq, id, json});
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/ids.h"

namespace parley {
struct Message;  // core/message.h
}  // namespace parley

namespace parley::bus {

struct BusEvent {
  TenantId tenant;
  // The event's commit-order sequence number (store); 0 for a live-only event that is not
  // stored (typing), which a subscriber passes on without counting.
  int64_t seq = 0;
  EventId id;
  std::string json;  // the event in the common format (plaintext: never logged)
  std::optional<ConversationId> conversation{};  // the conversation it concerns, if any
  // In-process only: the message of a message.created event, as `json` holds it, so that a
  // subscriber on the node that recorded it need not parse `json` again. Set only by
  // EventRecorder::RecordPrepared; empty otherwise, and for an event that
  // came from another node: subscribers read `json` then.
  std::shared_ptr<const Message> message{};
};

// Dropping the Subscription unsubscribes; after its destructor returns the callback is not
// running and will not run again.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// Thread safety: all methods may be called from any thread. Callbacks run on the publishing
// thread and must be short (push to a queue and return).
class EventBus {
 public:
  using Callback = std::function<void(const BusEvent&)>;
  virtual ~EventBus() = default;
  virtual void Publish(const BusEvent& event) = 0;
  [[nodiscard]] virtual std::unique_ptr<Subscription> Subscribe(const TenantId& tenant,
                                                                Callback callback) = 0;
};

}  // namespace parley::bus

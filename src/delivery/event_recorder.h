// src/delivery/event_recorder.h
//
// Records events inside one store write: the sealed event row (the stream's resumable
// record, and what the webhook cursors deliver) and the bus event to publish once the write
// is committed.
//
//   auto recorder = std::make_shared<EventRecorder>(key, clock);
//   co_await store::Write(store, [=](store::Writer& w) {
//     return recorder->Record(w, tenant, ConversationStartedData{…}, conversation).status();
//   });
//   recorder->Publish(bus);  // after the commit succeeded
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/message.h"
#include "crypto/keys.h"
#include "store/store.h"

namespace parley::delivery {

// The id of message "msg_X"'s message.created event: "ev_X".
EventId MessageCreatedEventId(const MessageId& message);

// Publishes a live-only event (typing): not stored, not sent to webhooks; the stream passes
// it on to clients connected now (BusEvent::seq 0).
void PublishLive(bus::EventBus& bus, const Clock& clock, const TenantId& tenant, EventData data,
                 std::optional<ConversationId> conversation);

// A message.created event built and sealed before the write (off the writer thread).
struct PreparedEvent {
  Event header;  // id, tenant, created_at
  std::string json;
  std::string sealed;
  std::shared_ptr<const Message> message;  // published with the event (BusEvent::message)
};

// Not thread-safe: one recorder belongs to one write.
class EventRecorder {
 public:
  // `key` is the tenant's data key; `clock` outlives the recorder.
  EventRecorder(std::shared_ptr<const crypto::DataKey> key, const Clock& clock)
      : key_(std::move(key)), clock_(clock) {}

  Result<EventId> Record(store::Writer& writer, const TenantId& tenant, EventData data,
                         std::optional<ConversationId> conversation);
  // Builds and seals the message.created event of `message` (not null), whose serialized
  // form (Serialize(*message)) the caller already has, without a writer, for RecordPrepared
  // (api/sealed_message.h). The bus event carries `message` too (BusEvent::message).
  // Thread-safe.
  static PreparedEvent PrepareMessage(const crypto::DataKey& key, const Clock& clock,
                                      std::shared_ptr<const Message> message,
                                      std::string_view message_json);
  // Records an event built by PrepareMessage.
  Result<EventId> RecordPrepared(store::Writer& writer, const PreparedEvent& event,
                                 std::optional<ConversationId> conversation);

  // Forget what was recorded (the write's savepoint rolled back).
  void Clear() { pending_.clear(); }

  // Publishes what was recorded, in order. Call only after the commit succeeded.
  void Publish(bus::EventBus& bus);

 private:
  Event Header(const TenantId& tenant) const;
  Result<EventId> Store(store::Writer& writer, const Event& event, std::string json,
                        std::optional<ConversationId> conversation);
  Result<EventId> StoreSealed(store::Writer& writer, const Event& event, std::string json,
                              std::string sealed, std::optional<ConversationId> conversation,
                              std::shared_ptr<const Message> message = nullptr);

  std::shared_ptr<const crypto::DataKey> key_;
  const Clock& clock_;
  std::vector<bus::BusEvent> pending_;
};

}  // namespace parley::delivery

#include "delivery/event_recorder.h"

#include "core/message_json.h"
#include "delivery/tenant_keys.h"

namespace parley::delivery {

Result<EventId> EventRecorder::Record(store::Writer& writer, const TenantId& tenant, EventData data,
                                      std::optional<ConversationId> conversation) {
  Event event = Header(tenant);
  event.data = std::move(data);
  std::string json = Serialize(event);
  return Store(writer, event, std::move(json), conversation);
}

Result<EventId> EventRecorder::RecordMessage(store::Writer& writer, const Message& message,
                                             std::string_view message_json) {
  Event event = Header(message.tenant);
  // The message.created event of "msg_X" is "ev_X": the retention sweeper finds a message's
  // pending deliveries from its id alone (store.h, SweepMessages).
  event.id = MessageCreatedEventId(message.id);
  event.data = Message{};  // only its kind is read (the event's type): the data is message_json
  std::string json = SerializeWithData(event, message_json);
  return Store(writer, event, std::move(json), message.conversation);
}

void PublishLive(bus::EventBus& bus, const Clock& clock, const TenantId& tenant, EventData data,
                 std::optional<ConversationId> conversation) {
  Event event;
  event.id = EventId::New(clock);
  event.tenant = tenant;
  event.created_at = clock.Now();
  event.data = std::move(data);
  bus.Publish(bus::BusEvent{tenant, 0, event.id, Serialize(event), std::move(conversation)});
}

EventId MessageCreatedEventId(const MessageId& message) {
  return EventId::FromTrusted(std::string(EventId::kPrefix) + "_" +
                              message.str().substr(MessageId::kPrefix.size() + 1));
}

Event EventRecorder::Header(const TenantId& tenant) const {
  Event event;
  event.id = EventId::New(clock_);
  event.tenant = tenant;
  event.created_at = clock_.Now();
  return event;
}

Result<EventId> EventRecorder::Store(store::Writer& writer, const Event& event, std::string json,
                                     std::optional<ConversationId> conversation) {
  const TenantId& tenant = event.tenant;
  store::EventRecord row;
  row.id = event.id;
  row.tenant = tenant;
  row.conversation = conversation;
  row.type = std::string(WireName(TypeOf(event)));
  row.payload_sealed = key_->Seal(json, place::EventPayload(tenant, event.id.str()));
  row.created_at = event.created_at;
  // Webhook endpoints read events from their cursors (store.h, WebhookCursorRecord): the row
  // is all a write needs for every endpoint of the tenant.
  PARLEY_ASSIGN_OR_RETURN(int64_t seq, writer.InsertEvent(row));
  pending_.push_back(bus::BusEvent{tenant, seq, event.id, std::move(json), conversation});
  return event.id;
}

void EventRecorder::Publish(bus::EventBus& bus) {
  for (const bus::BusEvent& e : pending_) bus.Publish(e);
  pending_.clear();
}

}  // namespace parley::delivery

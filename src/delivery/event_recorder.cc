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

PreparedEvent EventRecorder::PrepareMessage(const crypto::DataKey& key, const Clock& clock,
                                            std::shared_ptr<const Message> shared,
                                            std::string_view message_json) {
  PARLEY_CHECK(shared != nullptr);
  const Message& message = *shared;
  PreparedEvent out;
  out.header.tenant = message.tenant;
  out.header.created_at = clock.Now();
  // The message.created event of "msg_X" is "ev_X": the retention sweeper finds a message's
  // pending deliveries from its id alone (store.h, SweepMessages).
  out.header.id = MessageCreatedEventId(message.id);
  out.header.data = Message{};  // only its kind is read (the type): the data is message_json
  out.json = SerializeWithData(out.header, message_json);
  out.sealed = key.Seal(out.json, place::EventPayload(message.tenant, out.header.id.str()));
  out.message = std::move(shared);
  return out;
}

Result<EventId> EventRecorder::RecordPrepared(store::Writer& writer, const PreparedEvent& event,
                                              std::optional<ConversationId> conversation) {
  return StoreSealed(writer, event.header, event.json, event.sealed, std::move(conversation),
                     event.message);
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
  std::string sealed = key_->Seal(json, place::EventPayload(event.tenant, event.id.str()));
  return StoreSealed(writer, event, std::move(json), std::move(sealed), std::move(conversation));
}

Result<EventId> EventRecorder::StoreSealed(store::Writer& writer, const Event& event,
                                           std::string json, std::string sealed,
                                           std::optional<ConversationId> conversation,
                                           std::shared_ptr<const Message> message) {
  const TenantId& tenant = event.tenant;
  store::EventRecord row;
  row.id = event.id;
  row.tenant = tenant;
  row.conversation = conversation;
  row.type = std::string(WireName(TypeOf(event)));
  row.payload_sealed = std::move(sealed);
  row.created_at = event.created_at;
  row.payload_json = std::move(json);  // not stored; the store may keep it in memory
  // Webhook endpoints read events from their cursors (store.h, WebhookCursorRecord): the row
  // is all a write needs for every endpoint of the tenant.
  PARLEY_ASSIGN_OR_RETURN(int64_t seq, writer.InsertEvent(row));
  pending_.push_back(bus::BusEvent{tenant, seq, event.id, std::move(row.payload_json), conversation,
                                   std::move(message)});
  return event.id;
}

void EventRecorder::Publish(bus::EventBus& bus) {
  for (const bus::BusEvent& e : pending_) bus.Publish(e);
  pending_.clear();
}

}  // namespace parley::delivery

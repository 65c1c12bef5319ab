// src/core/message_json_test_samples.h — sample messages and events for the tests of
// message_json.h (message_json_test.cc, message_json_validation_test.cc,
// message_schema_test.cc) and of the widget's frames (api/web_chat_test.cc); not part of
// parley_core.
//
// SampleMessages() holds one message per content type with every optional field set and
// another with them all unset; SampleEvents() one event per event type.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/message.h"

namespace parley::message_json_testing {

inline const TimePoint kT0 = FromUnixMillis(1'763'708'000'123);
inline const TenantId kTenant = TenantId::New(kT0);
inline const ConversationId kConversation = ConversationId::New(kT0);
inline const ConnectionId kConnection = ConnectionId::New(kT0);
inline const CustomerId kCustomer = CustomerId::New(kT0);

inline Message InboundText() {
  Message m;
  m.id = MessageId::New(kT0);
  m.tenant = kTenant;
  m.conversation = kConversation;
  m.channel = {"whatsapp", kConnection};
  m.direction = Direction::kInbound;
  m.author.role = AuthorRole::kCustomer;
  m.author.customer = kCustomer;
  m.author.name = "Ana";
  m.provider_message_id = "wamid.HBgL";
  m.sent_at = kT0 - std::chrono::seconds(2);
  m.received_at = kT0;
  m.content = TextContent{"Hello"};
  return m;
}

inline Message OutboundWith(Content c) {
  Message m = InboundText();
  m.direction = Direction::kOutbound;
  m.author = Author{AuthorRole::kAgent, std::nullopt, "Bea", "agent-7"};
  m.provider_message_id.clear();
  m.reply_to = MessageId::New(kT0);
  m.reply_to_provider_id = "wamid.prev";
  m.metadata = {{"crm_ticket", "T-1"}, {"desk.queue", "sales"}};
  m.content = std::move(c);
  return m;
}

inline Message InboundWith(Content c) {
  Message m = InboundText();
  m.content = std::move(c);
  return m;
}

// One message per content type, every optional field set, and a second with them all unset.
inline std::vector<Message> SampleMessages() {
  Attachment full{
      AttachmentId::New(kT0), "https://parley.example/a/1?sig=x", "image/jpeg", 2048, "cat.jpg",
      std::string(64, 'a')};
  Attachment bare{std::nullopt, "https://cdn.example/x.png", "image/png", std::nullopt, "", ""};
  InteractiveList list{
      "Choose",
      {{"Sizes", {{"s", "Small", "fits 1"}, {"l", "Large", ""}}}, {"", {{"x", "Other", ""}}}}};
  std::vector<Card> cards{{"Shoe", "red", "https://img.example/s.jpg", {{"buy", "Buy"}}},
                          {"Hat", "", "", {}}};
  TemplateContent tmpl{"order_update",
                       "en_US",
                       {{"header", {{"image", "https://img.example/h.jpg"}}},
                        {"body", {{"text", "Ana"}, {"currency", ""}}},
                        {"footer", {}}}};
  return {
      InboundText(),
      InboundWith(MediaContent{MediaKind::kImage, {full, bare}, "look"}),
      InboundWith(MediaContent{MediaKind::kSticker, {bare}, ""}),
      InboundWith(LocationContent{52.52, -13.405, "Office", "Main St 1"}),
      InboundWith(LocationContent{-90, 180, "", ""}),
      InboundWith(ContactContent{{{{"Ana Lima", "Ana", "Lima"},
                                   {{"+351900000000", "mobile"}, {"+351210000000", ""}},
                                   {{"ana@example.com", "work"}}},
                                  {{"Bob", "", ""}, {}, {}}}}),
      InboundWith(ReplyContent{ReplySource::kQuickReply, "Yes", "YES_PAYLOAD"}),
      InboundWith(ReplyContent{ReplySource::kList, "Large", ""}),
      InboundWith(ReactionContent{"👍", MessageId::New(kT0), "wamid.x"}),
      InboundWith(ReactionContent{"", std::nullopt, "wamid.x"}),
      OutboundWith(InteractiveContent{InteractiveKind::kButtons,
                                      "Hi",
                                      "See you",
                                      "Pick one",
                                      {{"a", "A"}, {"b", "B"}},
                                      {},
                                      {}}),
      OutboundWith(InteractiveContent{
          InteractiveKind::kQuickReplies, "", "", "Pick", {{"y", "Yes"}}, {}, {}}),
      OutboundWith(
          InteractiveContent{InteractiveKind::kList, "Menu", "", "Our sizes", {}, list, {}}),
      OutboundWith(InteractiveContent{InteractiveKind::kCarousel, "", "", "", {}, {}, cards}),
      OutboundWith(tmpl),
      OutboundWith(TemplateContent{"hello_world", "en", {}}),
      OutboundWith(SystemContent{"conversation.ended", "The agent closed the chat"}),
      InboundWith(SystemContent{"customer.changed_number", ""}),
      InboundWith(UnsupportedContent{"order", "WhatsApp order message"}),
      InboundWith(UnsupportedContent{"ephemeral", ""}),
  };
}

inline std::vector<Event> SampleEvents() {
  auto ev = [](EventData d) {
    Event e;
    e.id = EventId::New(kT0);
    e.tenant = kTenant;
    e.created_at = kT0;
    e.data = std::move(d);
    return e;
  };
  MessageId msg = MessageId::New(kT0);
  return {
      ev(InboundText()),
      ev(MessageStatusData{msg, kConversation, DeliveryStatus::kDelivered, std::nullopt, "wamid.1",
                           kT0}),
      ev(MessageStatusData{msg, kConversation, DeliveryStatus::kFailed,
                           ProviderError{"131047", "Re-engagement message"}, "", kT0}),
      ev(TypingData{kConversation, AuthorRole::kCustomer, true}),
      ev(TypingData{kConversation, AuthorRole::kAgent, false}),
      ev(ConversationStartedData{kConversation, kConnection, kCustomer}),
      ev(ConversationEndedData{kConversation, kConnection, kCustomer, EndReason::kInactivity}),
      ev(CustomerUpdatedData{kCustomer, kConnection, "Ana Lima"}),
      ev(CustomerUpdatedData{kCustomer, kConnection, ""}),
      ev(ConversationStartedData{kConversation, kConnection, kCustomer, true, kT0}),
  };
}

}  // namespace parley::message_json_testing

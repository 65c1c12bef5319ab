// src/core/message_json_test.cc — round trips of the codec in message_json.h. Rejected input
// is tested in message_json_validation_test.cc, drift against docs/schema in
// message_schema_test.cc.
#include "core/message_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/message_json_test_samples.h"

namespace parley {
namespace {

namespace json = boost::json;

using message_json_testing::InboundText;
using message_json_testing::kConnection;
using message_json_testing::kT0;
using message_json_testing::OutboundWith;
using message_json_testing::SampleEvents;
using message_json_testing::SampleMessages;

// ---- Round trips -------------------------------------------------------------------------

TEST(MessageJsonTest, SamplesCoverEveryContentAndEventType) {
  std::set<ContentType> content_types;
  for (const Message& m : SampleMessages()) content_types.insert(TypeOf(m.content));
  EXPECT_EQ(content_types.size(), EnumNames<ContentType>::kNames.size());
  std::set<EventType> event_types;
  for (const Event& e : SampleEvents()) event_types.insert(TypeOf(e));
  EXPECT_EQ(event_types.size(), EnumNames<EventType>::kNames.size());
}

TEST(MessageJsonTest, EveryContentTypeRoundTripsValueAndText) {
  for (const Message& m : SampleMessages()) {
    SCOPED_TRACE(WireName(TypeOf(m.content)));
    ASSERT_TRUE(ValidateMessage(m).ok()) << ValidateMessage(m).ToString();
    std::string text = Serialize(m);
    Result<Message> back = ParseMessage(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(Serialize(*back), text);
  }
}

TEST(MessageJsonTest, EveryEventTypeRoundTripsValueAndText) {
  for (const Event& e : SampleEvents()) {
    SCOPED_TRACE(WireName(TypeOf(e)));
    ASSERT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e).ToString();
    std::string text = Serialize(e);
    Result<Event> back = ParseEvent(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    EXPECT_EQ(*back, e);
    EXPECT_EQ(Serialize(*back), text);
  }
}

TEST(MessageJsonTest, SerializeWithDataWritesWhatSerializeWrites) {
  for (const Event& e : SampleEvents()) {
    SCOPED_TRACE(WireName(TypeOf(e)));
    std::string data = std::visit(
        [](const auto& d) {
          Event only;
          only.data = d;
          return json::serialize(ToJson(only).as_object().at("data"));
        },
        e.data);
    EXPECT_EQ(SerializeWithData(e, data), Serialize(e));
  }
}

// Serialize writes a message without a tree (an event's tree is built in an arena on the
// stack); ToJson builds one on the heap. Both must give the same text: for every content
// type, every byte value, absent and present optionals, metadata, and an event larger than
// the arena.
TEST(MessageJsonTest, SerializeWritesWhatToJsonOnTheHeapWrites) {
  std::vector<Message> messages = SampleMessages();
  Message large = InboundText();
  std::get<TextContent>(large.content).text = std::string(20000, 'x') + "\u00e9\n\"";
  messages.push_back(large);
  Message bytes = OutboundWith(TextContent{});
  for (int c = 0; c < 256; ++c) std::get<TextContent>(bytes.content).text += static_cast<char>(c);
  bytes.author.name = "A \"quoted\"\tname\\";
  bytes.reply_to = MessageId::New(kT0);
  bytes.reply_to_provider_id = "wamid.\x01";
  bytes.sent_at.reset();
  bytes.metadata = {{"a", "x\"y"}, {"b", "\n\u00e9"}, {"order_id", ""}};
  messages.push_back(bytes);
  for (const Message& m : messages) {
    SCOPED_TRACE(WireName(TypeOf(m.content)));
    EXPECT_EQ(Serialize(m), json::serialize(ToJson(m)));
  }
  for (const Event& e : SampleEvents()) {
    SCOPED_TRACE(WireName(TypeOf(e)));
    EXPECT_EQ(Serialize(e), json::serialize(ToJson(e)));
  }
  Result<Message> back = ParseMessage(Serialize(large));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, large);
}

TEST(MessageJsonTest, ContentRoundTripsOnItsOwn) {
  for (const Message& m : SampleMessages()) {
    Result<Content> back = ContentFromJson(ToJson(m.content));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, m.content);
  }
}

TEST(MessageJsonTest, WritesTheDesignShapeWithNullForAbsentOptionals) {
  Message m = InboundText();
  m.sent_at.reset();
  json::object o = ToJson(m).as_object();
  std::vector<std::string> keys;
  for (const auto& kv : o) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"v", "id", "tenant", "conversation", "channel",
                                            "direction", "author", "provider_message_id",
                                            "reply_to", "reply_to_provider_id", "sent_at",
                                            "received_at", "content", "metadata"}));
  EXPECT_EQ(o.at("v").as_int64(), 1);
  EXPECT_TRUE(o.at("reply_to").is_null());
  EXPECT_TRUE(o.at("sent_at").is_null());
  EXPECT_TRUE(o.at("author").as_object().at("agent_id").is_null());
  EXPECT_EQ(std::string(o.at("received_at").as_string()), "2025-11-21T06:53:20.123Z");
  EXPECT_EQ(json::serialize(o.at("content")), R"({"type":"text","text":"Hello"})");
  EXPECT_EQ(json::serialize(o.at("channel")),
            R"({"kind":"whatsapp","connection":")" + kConnection.str() + R"("})");
}

TEST(MessageJsonTest, InteractiveWritesOnlyThePartOfItsKind) {
  json::object o =
      ToJson(Content(InteractiveContent{
                 InteractiveKind::kQuickReplies, "", "", "Pick", {{"y", "Yes"}}, {}, {}}))
          .as_object();
  EXPECT_TRUE(o.contains("quick_replies"));
  EXPECT_FALSE(o.contains("buttons"));
  EXPECT_FALSE(o.contains("list"));
  EXPECT_FALSE(o.contains("cards"));
}

TEST(MessageJsonTest, AcceptsMissingOptionalKeysAsAbsent) {
  Result<Content> c = ContentFromJson(json::parse(
      R"({"type":"media","kind":"file","attachments":[{"url":"https://x.example/f.pdf","mime_type":"application/pdf"}]})"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& media = std::get<MediaContent>(*c);
  EXPECT_EQ(media.kind, MediaKind::kFile);
  EXPECT_FALSE(media.attachments[0].id.has_value());
  EXPECT_FALSE(media.attachments[0].size_bytes.has_value());
  EXPECT_TRUE(media.caption.empty());
}

TEST(MessageJsonTest, DuplicateKeysKeepTheLastValue) {
  Result<Content> c = ContentFromJson(json::parse(R"({"type":"text","text":"a","text":"b"})"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(std::get<TextContent>(*c).text, "b");
}

}  // namespace
}  // namespace parley

// The widget's message frames: from a stored message's JSON, and from a message in memory.
#include "api/web_chat_frames.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/message_json.h"
#include "core/message_json_test_samples.h"

namespace parley::api {
namespace {

namespace json = boost::json;

// The widget's message and ack frames, built in an arena, carry the same view as MessageView.
TEST(MessageFrameTest, CarriesTheViewAndTellsTheIdAndDirection) {
  const std::string stored =
      R"({"id":"msg_1","tenant":"tn_1","conversation":"cv_1","direction":"inbound",)"
      R"("content":{"type":"text","text":"hi \"there\""},"reply_to":null,)"
      R"("author":{"role":"customer","name":"Ann","id":"cu_1"},"received_at":"2026-11-22T10:00:00Z"})";
  auto stored_json = ParseBoundedJson(stored);
  ASSERT_TRUE(stored_json.ok());
  const json::object view = MessageView(stored_json->get_object(), "sent");

  // Byte for byte what serializing the view in a frame writes: the same keys, in order.
  ViewFacts facts;
  EXPECT_EQ(MessageFrame(stored, "sent", "c7", &facts),
            json::serialize(json::object{{"type", "ack"}, {"client_id", "c7"}, {"message", view}}));
  EXPECT_FALSE(view.contains("tenant"));
  EXPECT_EQ(
      json::serialize(view),
      R"({"id":"msg_1","direction":"inbound","content":{"type":"text","text":"hi \"there\""},)"
      R"("author":{"role":"customer","name":"Ann"},"created_at":"2026-11-22T10:00:00Z",)"
      R"("status":"sent"})");
  EXPECT_EQ(facts.id, "msg_1");
  EXPECT_TRUE(facts.inbound);

  EXPECT_EQ(MessageFrame(stored, {}),
            json::serialize(json::object{{"type", "message"},
                                         {"message", MessageView(stored_json->get_object())}}));

  ViewFacts agent;
  std::string outbound = stored;
  outbound.replace(outbound.find("inbound"), 7, "outbound");
  EXPECT_FALSE(MessageFrame(outbound, {}, {}, &agent).empty());
  EXPECT_EQ(agent.id, "msg_1");
  EXPECT_FALSE(agent.inbound);

  EXPECT_EQ(MessageFrame("[1,2]", "sent"), "");
  EXPECT_EQ(MessageFrame("{not json", "sent"), "");

  // A view without a usable id is shown but not remembered by id.
  ViewFacts odd = FactsOf(json::object{{"id", 7}, {"direction", "inbound"}});
  EXPECT_EQ(odd.id, "");
  EXPECT_TRUE(odd.inbound);
}

// The frame of a message in memory is byte for byte the frame of its stored JSON, for every
// content type, with and without the optional fields, as a message and as an ack.
TEST(MessageFrameTest, AMessageInMemoryGivesTheFrameOfItsJson) {
  std::vector<Message> samples = message_json_testing::SampleMessages();
  ASSERT_GE(samples.size(), 10u);
  for (const Message& m : samples) {
    const std::string stored = Serialize(m);
    for (std::string_view status : {"", "sent"}) {
      for (std::string_view ack_of : {"", "c\"7"}) {
        ViewFacts from_json, from_memory;
        EXPECT_EQ(MessageFrame(m, status, ack_of, &from_memory),
                  MessageFrame(stored, status, ack_of, &from_json))
            << stored;
        EXPECT_EQ(from_memory.id, from_json.id);
        EXPECT_EQ(from_memory.inbound, from_json.inbound);
      }
    }
  }
}

// A message larger than the arena on the stack goes on in the heap.
TEST(MessageFrameTest, AMessageLargerThanTheArenaIsWhole) {
  const std::string text(50000, 'x');
  const std::string stored =
      R"({"id":"msg_2","direction":"outbound","content":{"type":"text","text":")" + text +
      R"("},"author":{"role":"agent"},"received_at":"2026-11-22T10:00:00Z"})";
  auto frame = ParseBoundedJson(MessageFrame(stored, {}));
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->at("message").at("content").at("text").as_string().size(), text.size());
}

}  // namespace
}  // namespace parley::api

// src/core/message_json_validation_test.cc — what the codec in message_json.h rejects: wrong
// shapes, types and names, broken limits and rules, and hostile text (oversized, deeply nested,
// truncated, mutated). Round trips are in message_json_test.cc.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/message_json.h"
#include "core/message_json_test_samples.h"

namespace parley {
namespace {

namespace json = boost::json;

using message_json_testing::InboundText;
using message_json_testing::InboundWith;
using message_json_testing::kConversation;
using message_json_testing::kT0;
using message_json_testing::kTenant;
using message_json_testing::OutboundWith;
using message_json_testing::SampleEvents;
using message_json_testing::SampleMessages;

// ---- Negative cases ----------------------------------------------------------------------

// The message of the error from parsing `m`'s JSON after `mutate` changed it.
std::string MessageError(const Message& m, const std::function<void(json::object&)>& mutate) {
  json::value v = ToJson(m);
  mutate(v.as_object());
  Result<Message> r = MessageFromJson(v);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string ContentError(std::string_view text) {
  Result<Content> r = ContentFromJson(json::parse(json::string_view(text.data(), text.size())));
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(MessageJsonTest, RejectsMissingRequiredEnvelopeFields) {
  for (const char* key : {"v", "id", "tenant", "conversation", "channel", "direction", "author",
                          "received_at", "content"}) {
    EXPECT_EQ(MessageError(InboundText(), [&](json::object& o) { o.erase(key); }),
              std::string(key) + ": required")
        << key;
  }
}

TEST(MessageJsonTest, RejectsWrongTypesWithPath) {
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["id"] = 7; }),
            "id: must be a string");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["author"] = "x"; }),
            "author: must be an object");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["v"] = 2; }),
            "v: unsupported version");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["v"] = "1"; }),
            "v: unsupported version");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["metadata"] = json::array(); }),
            "metadata: must be an object");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) {
                           o["metadata"] = json::object{{"k", 1}};
                         }),
            "metadata: values must be strings");
  EXPECT_EQ(ContentError(R"({"type":"location","latitude":"1","longitude":2})"),
            "content.latitude: must be a number");
  EXPECT_EQ(ContentError(R"({"type":"text","text":["a"]})"), "content.text: must be a string");
  EXPECT_EQ(ContentError(R"({"type":"contact","contacts":{}})"),
            "content.contacts: must be an array");
  EXPECT_EQ(ContentError(R"({"type":"contact","contacts":[1]})"),
            "content.contacts[0]: must be an object");
  EXPECT_EQ(ContentError(R"([1])"), "content: must be an object");
  EXPECT_EQ(MessageFromJson(json::parse("[]")).status().message(),
            "(top level): must be an object");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["Bad Key"] = 1; }),
            "(top level): unknown field");
}

TEST(MessageJsonTest, RejectsMalformedIdsAndTimestamps) {
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["tenant"] = "cv_x"; }),
            "tenant: malformed tn_ id");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["tenant"] = kConversation.str(); }),
            "tenant: malformed tn_ id");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["reply_to"] = "msg_"; }),
            "reply_to: malformed msg_ id");
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["sent_at"] = "yesterday"; }),
            "sent_at: must be an RFC 3339 timestamp");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["received_at"] = "2025-11-21T06:40:00"; }),
            "received_at: must be an RFC 3339 timestamp");
  EXPECT_EQ(
      MessageError(InboundText(), [](json::object& o) { o["sent_at"] = "2625-01-01T00:00:00Z"; }),
      "sent_at: year out of range");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["received_at"] = "1969-12-31T23:59:59Z"; }),
            "received_at: year out of range");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["received_at"] = "2200-12-31T23:59:59Z"; }),
            "OK");
}

TEST(MessageJsonTest, RejectsUnknownEnumNames) {
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["direction"] = "sideways"; }),
            "direction: must be one of inbound, outbound");
  EXPECT_EQ(ContentError(R"({"type":"hologram"})"),
            "content.type: must be one of text, media, location, contact, reply, reaction, "
            "interactive, template, system, unsupported");
  EXPECT_EQ(ContentError(R"({"type":"media","kind":"gif","attachments":[]})"),
            "content.kind: must be one of image, audio, video, file, sticker");
  EXPECT_EQ(ContentError(R"({"type":"reply","source":"voice","title":"x"})"),
            "content.source: must be one of quick_reply, button, list, postback");
}

TEST(MessageJsonTest, RejectsUnknownFieldsWithoutEchoingOddKeys) {
  EXPECT_EQ(MessageError(InboundText(), [](json::object& o) { o["colour"] = 1; }),
            "colour: unknown field");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["author"].as_object()["email"] = "a@b"; }),
            "author.email: unknown field");
  EXPECT_EQ(ContentError(R"({"type":"text","text":"a","caption":"b"})"),
            "content.caption: unknown field");
  EXPECT_EQ(ContentError(R"({"type":"text","text":"a","<script>":"b"})"), "content: unknown field");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"buttons","body":"b",
                             "buttons":[{"id":"a","title":"A"}],"cards":[]})"),
            "content.cards: unknown field");
}

TEST(MessageJsonTest, RejectsMissingRequiredContentFieldsWithPath) {
  EXPECT_EQ(ContentError(R"({"text":"a"})"), "content.type: required");
  EXPECT_EQ(ContentError(R"({"type":"text","text":""})"), "content.text: required");
  EXPECT_EQ(ContentError(R"({"type":"text","text":null})"), "content.text: required");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"buttons","body":"b","buttons":[
      {"id":"a","title":"A"},{"id":"b","title":"B"},{"id":"c"}]})"),
            "content.buttons[2].title: required");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"list","body":"b","list":{"button":"Go",
      "sections":[{"rows":[{"id":"r","title":"R"}]},{"rows":[{"title":"S"}]}]}})"),
            "content.list.sections[1].rows[0].id: required");
  EXPECT_EQ(
      ContentError(R"({"type":"interactive","kind":"buttons","buttons":[{"id":"a","title":"A"}]})"),
      "content.body: required");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"list","body":"b"})"),
            "content.list: required");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"carousel","cards":[]})"),
            "content.cards: at least one item required");
  EXPECT_EQ(ContentError(R"({"type":"media","kind":"image","attachments":[]})"),
            "content.attachments: at least one item required");
  EXPECT_EQ(
      ContentError(R"({"type":"media","kind":"image","attachments":[{"mime_type":"image/png"}]})"),
      "content.attachments[0]: needs an id or a url");
  // A file elsewhere needs its type; a stored file's type is filled in by Parley.
  EXPECT_EQ(ContentError(R"({"type":"media","kind":"image","attachments":[{"url":"https://a"}]})"),
            "content.attachments[0].mime_type: required");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"id":"att_01kajk0nvv4xa3yexh9at47agm"}]})"),
      "OK");
  EXPECT_EQ(ContentError(R"({"type":"contact","contacts":[{"name":{"first":"A"}}]})"),
            "content.contacts[0].name.formatted: required");
  EXPECT_EQ(ContentError(R"({"type":"contact","contacts":[{"name":{"formatted":"A"},
      "phones":[{"type":"mobile"}]}]})"),
            "content.contacts[0].phones[0].number: required");
  EXPECT_EQ(ContentError(R"({"type":"reaction","emoji":"x","target":{}})"),
            "content.target: needs message or provider_message_id");
  EXPECT_EQ(ContentError(R"({"type":"reaction","target":{"provider_message_id":"p"}})"),
            "content.emoji: required");
  EXPECT_EQ(ContentError(R"({"type":"template","name":"t"})"), "content.language: required");
  EXPECT_EQ(ContentError(R"({"type":"template","name":"t","language":"en",
      "components":[{"type":"body","parameters":[{"text":"x"}]}]})"),
            "content.components[0].parameters[0].type: required");
  EXPECT_EQ(ContentError(R"({"type":"system","text":"x"})"), "content.code: required");
  EXPECT_EQ(ContentError(R"({"type":"unsupported"})"), "content.provider_type: required");
  EXPECT_EQ(ContentError(R"({"type":"reply","source":"button"})"), "content.title: required");
}

TEST(MessageJsonTest, EnforcesLengthLimits) {
  std::string max_text(kMaxTextBytes, 'a');
  EXPECT_EQ(ContentError(R"({"type":"text","text":")" + max_text + R"("})"), "OK");
  EXPECT_EQ(ContentError(R"({"type":"text","text":")" + max_text + R"(a"})"),
            "content.text: longer than 32768 bytes");
  std::string long_string(kMaxStringBytes + 1, 'b');
  EXPECT_EQ(ContentError(R"({"type":"reply","source":"button","title":")" + long_string + R"("})"),
            "content.title: longer than 1024 bytes");
  EXPECT_EQ(ContentError(R"({"type":"system","code":")" + std::string(65, 'c') + R"("})"),
            "content.code: longer than 64 bytes");
  EXPECT_EQ(
      ContentError(R"({"type":"media","kind":"image","attachments":[{"url":"https://x.example/)" +
                   std::string(kMaxUrlBytes, 'u') + R"(","mime_type":"image/png"}]})"),
      "content.attachments[0].url: longer than 2048 bytes");
  EXPECT_EQ(MessageError(InboundText(),
                         [&](json::object& o) {
                           o["author"].as_object()["name"] = json::string(long_string);
                         }),
            "author.name: longer than 1024 bytes");
}

TEST(MessageJsonTest, EnforcesCountLimits) {
  auto choices = [](int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += std::string(i ? "," : "") + R"({"id":"i","title":"t"})";
    return s + "]";
  };
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"buttons","body":"b","buttons":)" +
                         choices(10) + "}"),
            "OK");
  EXPECT_EQ(ContentError(R"({"type":"interactive","kind":"buttons","body":"b","buttons":)" +
                         choices(11) + "}"),
            "content.buttons: at most 10 items");
  EXPECT_EQ(
      ContentError(R"({"type":"interactive","kind":"quick_replies","body":"b","quick_replies":)" +
                   choices(11) + "}"),
      "content.quick_replies: at most 10 items");
  EXPECT_EQ(
      ContentError(R"({"type":"interactive","kind":"carousel","cards":[{"title":"c","buttons":)" +
                   choices(11) + "}]}"),
      "content.cards[0].buttons: at most 10 items");
  std::string params = "[";
  for (int i = 0; i < 21; ++i) params += std::string(i ? "," : "") + R"({"type":"text"})";
  params += "]";
  EXPECT_EQ(
      ContentError(
          R"({"type":"template","name":"t","language":"en","components":[{"type":"body","parameters":)" +
          params + "}]}"),
      "content.components[0].parameters: at most 20 items");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) {
                           json::object meta;
                           for (int i = 0; i < 17; ++i) meta["k" + std::to_string(i)] = "v";
                           o["metadata"] = std::move(meta);
                         }),
            "metadata: at most 16 entries");
}

TEST(MessageJsonTest, EnforcesRangesAndShapes) {
  EXPECT_EQ(ContentError(R"({"type":"location","latitude":91,"longitude":0})"),
            "content.latitude: must be between -90 and 90");
  EXPECT_EQ(ContentError(R"({"type":"location","latitude":0,"longitude":-180.5})"),
            "content.longitude: must be between -180 and 180");
  EXPECT_EQ(ContentError(R"({"type":"location","latitude":0,"longitude":1e999})"),
            "content.longitude: must be between -180 and 180");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"file:///etc/passwd","mime_type":"image/png"}]})"),
      "content.attachments[0].url: must be an absolute http(s) URL");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"https://a b","mime_type":"image/png"}]})"),
      "content.attachments[0].url: must be a URL");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"https://a","mime_type":"png"}]})"),
      "content.attachments[0].mime_type: must be type/subtype");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"https://a","mime_type":"image/png","size_bytes":-1}]})"),
      "content.attachments[0].size_bytes: out of range");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"https://a","mime_type":"image/png","size_bytes":1.5}]})"),
      "content.attachments[0].size_bytes: must be an integer");
  EXPECT_EQ(
      ContentError(
          R"({"type":"media","kind":"image","attachments":[{"url":"https://a","mime_type":"image/png","sha256":"ABC"}]})"),
      "content.attachments[0].sha256: must be 64 lower-case hex characters");
  EXPECT_EQ(ContentError(R"({"type":"system","code":"has space"})"),
            "content.code: must contain only letters, digits, '_', '-', '.'");
  EXPECT_EQ(ContentError(R"({"type":"template","name":"t","language":"en.US"})"),
            "content.language: must contain only letters, digits, '_', '-'");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["channel"].as_object()["kind"] = "Whats App"; }),
            "channel.kind: must contain only letters, digits, '_', '-', '.'");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) {
                           o["metadata"] = json::object{{"bad key", "v"}};
                         }),
            "metadata.<key>: must contain only letters, digits, '_', '-', '.'");
}

TEST(MessageJsonTest, EnforcesAuthorRules) {
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["author"].as_object()["customer"] = nullptr; }),
            "author.customer: required for role customer");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["author"].as_object()["role"] = "agent"; }),
            "author.customer: only for role customer");
  EXPECT_EQ(MessageError(InboundText(),
                         [](json::object& o) { o["author"].as_object()["agent_id"] = "a1"; }),
            "author.agent_id: only for role agent or bot");
}

TEST(MessageJsonTest, EnforcesDirectionOfContentTypes) {
  Message m =
      InboundWith(InteractiveContent{InteractiveKind::kButtons, "", "", "b", {{"a", "A"}}, {}, {}});
  EXPECT_EQ(ValidateMessage(m).message(), "content.type: not allowed in this direction");
  m = InboundWith(TemplateContent{"t", "en", {}});
  EXPECT_EQ(ValidateMessage(m).message(), "content.type: not allowed in this direction");
  m = OutboundWith(ReplyContent{ReplySource::kButton, "Yes", ""});
  EXPECT_EQ(ValidateMessage(m).message(), "content.type: not allowed in this direction");
  m = OutboundWith(UnsupportedContent{"order", ""});
  EXPECT_EQ(ValidateMessage(m).message(), "content.type: not allowed in this direction");
}

TEST(MessageJsonTest, OutboundContentRefusesTypesClientsCannotSend) {
  for (const char* text :
       {R"({"type":"reply","source":"button","title":"Yes"})", R"({"type":"system","code":"x"})",
        R"({"type":"unsupported","provider_type":"x"})"}) {
    Result<Content> r = OutboundContentFromJson(json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message(), "content.type: cannot be sent by a client application");
  }
  EXPECT_TRUE(OutboundContentFromJson(json::parse(R"({"type":"text","text":"Hi"})")).ok());
  EXPECT_TRUE(OutboundContentFromJson(
                  json::parse(R"({"type":"template","name":"hello_world","language":"en"})"))
                  .ok());
}

TEST(MessageJsonTest, ValidatesInteractiveKindParts) {
  InteractiveContent c{InteractiveKind::kList, "", "", "b", {{"a", "A"}}, {}, {}};
  EXPECT_EQ(ValidateContent(c).message(), "content.buttons: not allowed for this kind");
  c = {InteractiveKind::kButtons, "", "", "b", {{"a", "A"}}, {"Go", {}}, {}};
  EXPECT_EQ(ValidateContent(c).message(), "content.list: not allowed for this kind");
  c = {InteractiveKind::kButtons, "", "", "b", {{"a", "A"}}, {}, {{"t", "", "", {}}}};
  EXPECT_EQ(ValidateContent(c).message(), "content.cards: not allowed for this kind");
}

TEST(MessageJsonTest, RejectsBadEvents) {
  Event e = SampleEvents()[0];
  std::get<Message>(e.data).tenant = TenantId::New(kT0);
  EXPECT_EQ(ValidateEvent(e).message(), "data.tenant: must equal the event's tenant");

  auto event_error = [](const Event& ev, const std::function<void(json::object&)>& mutate) {
    json::value v = ToJson(ev);
    mutate(v.as_object());
    Result<Event> r = EventFromJson(v);
    return r.ok() ? std::string("OK") : r.status().message();
  };
  std::vector<Event> events = SampleEvents();
  EXPECT_EQ(event_error(events[0], [](json::object& o) { o["type"] = "message.deleted"; }),
            "type: must be one of message.created, message.status, typing, conversation.started, "
            "conversation.ended, customer.updated");
  EXPECT_EQ(event_error(events[0], [](json::object& o) { o["type"] = "typing"; }),
            "data.role: required")
      << "data is read as the declared type";
  EXPECT_EQ(event_error(events[0], [](json::object& o) { o.erase("data"); }), "data: required");
  EXPECT_EQ(event_error(
                events[0],
                [](json::object& o) { o["data"].as_object()["content"].as_object()["text"] = ""; }),
            "data.content.text: required");
  EXPECT_EQ(event_error(events[1],
                        [](json::object& o) {
                          o["data"].as_object()["error"] = json::object{{"code", "1"}};
                        }),
            "data.error: only with status failed");
  EXPECT_EQ(event_error(events[3], [](json::object& o) { o["data"].as_object()["on"] = "yes"; }),
            "data.on: must be true or false");
  EXPECT_EQ(
      event_error(events[6], [](json::object& o) { o["data"].as_object()["reason"] = "bored"; }),
      "data.reason: must be one of client, customer, inactivity, system");
  EXPECT_EQ(event_error(events[7], [](json::object& o) { o["data"].as_object()["extra"] = 1; }),
            "data.extra: unknown field");
  EXPECT_EQ(event_error(events[5], [](json::object& o) { o["id"] = kTenant.str(); }),
            "id: malformed ev_ id");
}

// ---- Hostile input -----------------------------------------------------------------------

TEST(MessageJsonTest, RejectsOversizedAndDeeplyNestedText) {
  Result<Message> big = ParseMessage(std::string(kMaxMessageJsonBytes + 1, ' '));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Result<Message> nested = ParseMessage(deep);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().code(), StatusCode::kInvalidArgument);
  std::string deep_content = Serialize(InboundText());
  deep_content.insert(deep_content.size() - 1,
                      R"(,"x":)" + std::string(40, '[') + std::string(40, ']'));
  EXPECT_FALSE(ParseMessage(deep_content).ok());
}

TEST(MessageJsonTest, RejectsHugeArraysBeforeReadingThem) {
  json::array big(100000, json::object{{"id", "i"}, {"title", "t"}});
  json::object c{{"type", "interactive"}, {"kind", "buttons"}, {"body", "b"}, {"buttons", big}};
  Result<Content> r = ContentFromJson(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "content.buttons: at most 10 items");
}

TEST(MessageJsonTest, RejectsInvalidJsonTextAndInvalidUtf8) {
  for (std::string_view text : {"", "{", "{\"v\":1,}", "// c\n{}", "nul", "{\"a\":\"\xff\"}"}) {
    Result<Message> r = ParseMessage(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(MessageJsonTest, SurvivesTruncatedAndMutatedText) {
  std::vector<std::string> texts;
  for (const Message& m : SampleMessages()) texts.push_back(Serialize(m));
  for (const Event& e : SampleEvents()) texts.push_back(Serialize(e));
  int parsed = 0;
  for (const std::string& text : texts) {
    for (size_t n = 0; n < text.size(); ++n) {
      parsed += ParseMessage(text.substr(0, n)).ok();
      parsed += ParseEvent(text.substr(0, n)).ok();
    }
  }
  EXPECT_EQ(parsed, 0) << "no strict prefix of a JSON object is a JSON object";
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]\",:0123456789-.eEtrufalsn \\u\x01\x80\xff";
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = texts[rng() % texts.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(pos, 1 + rng() % 8);
          break;
        default:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
      if (text.empty()) text = "{";
    }
    Result<Message> m = ParseMessage(text);
    Result<Event> e = ParseEvent(text);
    // Whatever is accepted must be valid and re-serialize to something that parses again.
    if (m.ok()) {
      ++accepted;
      EXPECT_TRUE(ValidateMessage(*m).ok());
      EXPECT_TRUE(ParseMessage(Serialize(*m)).ok());
    }
    if (e.ok()) {
      ++accepted;
      EXPECT_TRUE(ParseEvent(Serialize(*e)).ok());
    }
  }
  EXPECT_LT(accepted, 20000);
}

}  // namespace
}  // namespace parley

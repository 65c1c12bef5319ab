// Inbound: every Messenger fixture of ../shared/fixtures/providers, the event types the
// fixtures lack, and malformed input.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "channels/messenger/messenger_adapter.h"
#include "channels/messenger/messenger_common.h"

#ifndef PARLEY_FIXTURES_DIR
#error "PARLEY_FIXTURES_DIR must name ../shared/fixtures"
#endif

namespace parley::channels::messenger {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<InboundBatch> Parse(std::string_view body) {
  return ParseMessagingWebhook(body, kMessengerFlavor);
}

// One event in a page envelope.
std::string Event(std::string_view event_fields) {
  return std::string(R"({"object":"page","entry":[{"id":"111","time":1700000000000,)"
                     R"("messaging":[{"sender":{"id":"222"},"recipient":{"id":"111"},)"
                     R"("timestamp":1700000000123,)") +
         std::string(event_fields) + "}]}]}";
}

constexpr int64_t kFixtureMillis = 1459991487970;

TEST(MessengerParseTest, TextFixture) {
  auto batch = Parse(ReadFixture("messenger_text.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  EXPECT_EQ(m.provider_message_id, "external_id");
  EXPECT_EQ(m.contact_id, "5678");
  EXPECT_EQ(m.client_identity, "1234567890");
  ASSERT_TRUE(m.sent_at.has_value());
  EXPECT_EQ(ToUnixMillis(*m.sent_at), kFixtureMillis);
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hello World");
  EXPECT_TRUE(m.media.empty());
  EXPECT_EQ(batch->ignored, 0);
}

TEST(MessengerParseTest, ImageFixture) {
  auto batch = Parse(ReadFixture("messenger_image.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  EXPECT_EQ(m.provider_message_id, "external_id");
  EXPECT_EQ(m.contact_id, "5678");
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kImage);
  ASSERT_EQ(media.attachments.size(), 1u);
  EXPECT_FALSE(media.attachments[0].id.has_value());
  EXPECT_TRUE(media.attachments[0].url.empty());
  EXPECT_EQ(media.caption, "");
  ASSERT_EQ(m.media.size(), 1u);
  EXPECT_EQ(m.media[0].ref, "https://image-url/foo.png");
  EXPECT_EQ(m.media[0].mime_type, "");
}

TEST(MessengerParseTest, QuickReplyFixture) {
  auto batch = Parse(ReadFixture("messenger_quick_reply.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  EXPECT_EQ(m.provider_message_id, "mid.1457764197618:41d102a3e1ae206a38");
  EXPECT_EQ(m.contact_id, "<PSID>");
  EXPECT_EQ(m.client_identity, "<PAGE_ID>");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1458692752478);
  const auto& reply = std::get<ReplyContent>(m.content);
  EXPECT_EQ(reply.source, ReplySource::kQuickReply);
  EXPECT_EQ(reply.title, "hello, world!");
  EXPECT_EQ(reply.payload, "<DEVELOPER_DEFINED_PAYLOAD>");
}

TEST(MessengerParseTest, PostbackFixtureWithoutMidGetsAStableDerivedId) {
  auto batch = Parse(ReadFixture("messenger_postback.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  const auto& reply = std::get<ReplyContent>(m.content);
  EXPECT_EQ(reply.source, ReplySource::kPostback);
  EXPECT_EQ(reply.title, "postback title");
  EXPECT_EQ(reply.payload, "postback payload");
  EXPECT_EQ(m.contact_id, "5678");
  EXPECT_EQ(m.client_identity, "1234567890");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), kFixtureMillis);
  EXPECT_EQ(m.provider_message_id,
            DerivedEventId("postback", {"1234567890", "5678", "1459991487970", "postback payload",
                                        "postback title"}));
  EXPECT_EQ(m.provider_message_id.rfind("postback.", 0), 0u);
  EXPECT_EQ(m.provider_message_id.size(), 9u + 32u);
  // Meta's retry of the same event dedupes.
  auto again = Parse(ReadFixture("messenger_postback.json"));
  EXPECT_EQ(again->messages[0].provider_message_id, m.provider_message_id);
}

TEST(MessengerParseTest, PostbackWithMidUsesIt) {
  auto batch = Parse(Event(R"("postback":{"mid":"m_1","title":"Yes","payload":"YES"})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->messages[0].provider_message_id, "m_1");
}

TEST(MessengerParseTest, DeliveryFixtureGivesOneStatusPerMid) {
  auto batch = Parse(ReadFixture("messenger_delivery.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_TRUE(batch->messages.empty());
  ASSERT_EQ(batch->statuses.size(), 1u);
  const InboundStatus& s = batch->statuses[0];
  EXPECT_EQ(s.provider_message_id, "mid.1458668856218:ed81099e15d3f4f233");
  EXPECT_EQ(s.status, DeliveryStatus::kDelivered);
  EXPECT_EQ(s.client_identity, "1234567890");
  EXPECT_EQ(ToUnixMillis(*s.at), kFixtureMillis);
  EXPECT_FALSE(s.watermark.has_value());
  EXPECT_FALSE(s.error.has_value());
}

TEST(MessengerParseTest, DeliveryWithoutMidsIsAWatermark) {
  auto batch = Parse(Event(R"("delivery":{"watermark":1699999999000,"seq":3})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->statuses.size(), 1u);
  const InboundStatus& s = batch->statuses[0];
  EXPECT_EQ(s.status, DeliveryStatus::kDelivered);
  EXPECT_EQ(s.provider_message_id, "");
  ASSERT_TRUE(s.watermark.has_value());
  EXPECT_EQ(ToUnixMillis(*s.watermark), 1699999999000);
  EXPECT_EQ(s.contact_id, "222");
  EXPECT_EQ(s.client_identity, "111");
}

TEST(MessengerParseTest, ReadIsAWatermark) {
  auto batch = Parse(Event(R"("read":{"watermark":1699999999500,"seq":4})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->statuses.size(), 1u);
  const InboundStatus& s = batch->statuses[0];
  EXPECT_EQ(s.status, DeliveryStatus::kRead);
  EXPECT_EQ(ToUnixMillis(*s.watermark), 1699999999500);
  EXPECT_EQ(ToUnixMillis(*s.at), 1700000000123);
  EXPECT_EQ(s.contact_id, "222");
}

TEST(MessengerParseTest, LegacyLocation) {
  auto batch = Parse(Event(
      R"("message":{"mid":"m_loc","attachments":[{"title":"Ana's Location","url":"https://l.facebook.com/x",)"
      R"("type":"location","payload":{"coordinates":{"lat":52.52,"long":-13.4}}}]})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const auto& loc = std::get<LocationContent>(batch->messages[0].content);
  EXPECT_DOUBLE_EQ(loc.latitude, 52.52);
  EXPECT_DOUBLE_EQ(loc.longitude, -13.4);
  EXPECT_EQ(loc.name, "Ana's Location");
  EXPECT_TRUE(batch->messages[0].media.empty());
}

TEST(MessengerParseTest, SeveralImagesAreOneMediaMessage) {
  auto batch = Parse(Event(R"("message":{"mid":"m_2","text":"look","attachments":[)"
                           R"({"type":"image","payload":{"url":"https://cdn.example/a.jpg"}},)"
                           R"({"type":"image","payload":{"url":"https://cdn.example/b.jpg"}}]})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundMessage& m = batch->messages[0];
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kImage);
  EXPECT_EQ(media.attachments.size(), 2u);
  EXPECT_EQ(media.caption, "look");
  ASSERT_EQ(m.media.size(), 2u);
  EXPECT_EQ(m.media[0].ref, "https://cdn.example/a.jpg");
  EXPECT_EQ(m.media[1].ref, "https://cdn.example/b.jpg");
}

TEST(MessengerParseTest, MixedMediaKindsBecomeFiles) {
  auto batch = Parse(
      Event(R"("message":{"mid":"m_3","attachments":[)"
            R"({"type":"image","payload":{"url":"https://cdn.example/a.jpg"}},)"
            R"({"type":"file","payload":{"url":"https://cdn.example/v/report.pdf?oh=1"}}]})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundMessage& m = batch->messages[0];
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kFile);
  ASSERT_EQ(media.attachments.size(), 2u);
  EXPECT_EQ(media.attachments[0].filename, "a.jpg");
  EXPECT_EQ(media.attachments[1].filename, "report.pdf");
  EXPECT_EQ(m.media[1].filename, "report.pdf");
}

TEST(MessengerParseTest, StickerImageIsASticker) {
  auto batch =
      Parse(Event(R"("message":{"mid":"m_s","attachments":[{"type":"image","payload":)"
                  R"({"url":"https://cdn.example/s.png","sticker_id":369239263222822}}]})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(std::get<MediaContent>(batch->messages[0].content).kind, MediaKind::kSticker);
}

TEST(MessengerParseTest, UnmappableAttachmentsAreUnsupportedNotDropped) {
  struct Case {
    const char* attachments;
    const char* provider_type;
  } cases[] = {
      {R"([{"type":"fallback","title":"A link","url":"https://x.example","payload":null}])",
       "fallback"},
      {R"([{"type":"template","payload":{"template_type":"generic"}}])", "template"},
      {R"([{"type":"image","payload":{}}])", "image"},
      {R"([{"type":"image","payload":{"url":"https://a.example/1.png"}},{"type":"share","payload":{}}])",
       "share"},
  };
  for (const Case& c : cases) {
    auto batch =
        Parse(Event(std::string(R"("message":{"mid":"m_u","attachments":)") + c.attachments + "}"));
    ASSERT_TRUE(batch.ok()) << c.attachments << ": " << batch.status().ToString();
    ASSERT_EQ(batch->messages.size(), 1u);
    const auto& u = std::get<UnsupportedContent>(batch->messages[0].content);
    EXPECT_EQ(u.provider_type, c.provider_type) << c.attachments;
    EXPECT_TRUE(batch->messages[0].media.empty());
  }
}

TEST(MessengerParseTest, ReplyToMidIsKept) {
  auto batch = Parse(Event(R"("message":{"mid":"m_4","text":"yes","reply_to":{"mid":"m_0"}})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->messages[0].reply_to_provider_id, "m_0");
}

TEST(MessengerParseTest, EchoesAndOtherEventsAreIgnored) {
  auto batch = Parse(
      R"({"object":"page","entry":[{"id":"111","messaging":[)"
      R"({"sender":{"id":"111"},"recipient":{"id":"222"},"timestamp":1,)"
      R"("message":{"is_echo":true,"app_id":1,"mid":"m_e","text":"ours"}},)"
      R"({"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":2,"optin":{"ref":"x"}},)"
      R"({"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":3,"message":{"mid":"m_5","text":"hi"}}]},)"
      R"({"id":"111","standby":[{"sender":{"id":"9"}},{"sender":{"id":"8"}}]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->ignored, 4);
  ASSERT_EQ(batch->messages.size(), 1u);
  EXPECT_EQ(batch->messages[0].provider_message_id, "m_5");
}

TEST(MessengerParseTest, Reactions) {
  auto react = Parse(Event(
      R"("reaction":{"mid":"m_ours","action":"react","reaction":"love","emoji":"\u2764\ufe0f"})"));
  ASSERT_TRUE(react.ok()) << react.status().ToString();
  const InboundMessage& m = react->messages[0];
  const auto& r = std::get<ReactionContent>(m.content);
  EXPECT_EQ(r.emoji, "\u2764\ufe0f");
  EXPECT_EQ(r.target_provider_message_id, "m_ours");
  EXPECT_EQ(m.provider_message_id.rfind("reaction.", 0), 0u);

  auto unreact = Parse(Event(R"("reaction":{"mid":"m_ours","action":"unreact"})"));
  ASSERT_TRUE(unreact.ok()) << unreact.status().ToString();
  const auto& u = std::get<ReactionContent>(unreact->messages[0].content);
  EXPECT_EQ(u.emoji, "");
  EXPECT_EQ(u.target_provider_message_id, "m_ours");
  EXPECT_NE(unreact->messages[0].provider_message_id, m.provider_message_id);
}

TEST(MessengerParseTest, RejectsMalformedInputNamingTheField) {
  struct Case {
    std::string body;
    const char* field;
  } cases[] = {
      {"[]", "body"},
      {"not json", ""},
      {R"({"object":"instagram","entry":[]})", "object"},
      {R"({"object":"page"})", "entry"},
      {R"({"object":"page","entry":[3]})", "entry[0]"},
      {R"({"object":"page","entry":[{"id":5,"messaging":[]}]})", "entry[0].id"},
      {R"({"object":"page","entry":[{"id":"1","messaging":{}}]})", "entry[0].messaging"},
      {R"({"object":"page","entry":[{"id":"1","messaging":[{"message":{"mid":"m","text":"x"}}]}]})",
       "entry[0].messaging[0].sender"},
      {Event(R"("message":{"text":"x"})"), "entry[0].messaging[0].message.mid"},
      {Event(R"("message":{"mid":"m","text":7})"), "entry[0].messaging[0].message.text"},
      {Event(R"("message":{"mid":"m","attachments":[{"payload":{}}]})"),
       "entry[0].messaging[0].message.attachments[0].type"},
      {Event(
           R"("message":{"mid":"m","attachments":[{"type":"image","payload":{"url":"file:///etc/passwd"}}]})"),
       "entry[0].messaging[0].message.attachments[0].payload.url"},
      {Event(
           R"("message":{"mid":"m","attachments":[{"type":"location","payload":{"coordinates":{"lat":91,"long":0}}}]})"),
       "latitude"},
      {Event(R"("delivery":{"mids":[7]})"), "entry[0].messaging[0].delivery.mids[0]"},
      {Event(R"("read":{})"), "entry[0].messaging[0].read.watermark"},
      {Event(R"("read":{"watermark":-5})"), "entry[0].messaging[0].read.watermark"},
      {Event(R"("reaction":{"action":"react","emoji":"x"})"), "entry[0].messaging[0].reaction.mid"},
      {Event(R"("reaction":{"mid":"m","action":"wave"})"), "entry[0].messaging[0].reaction.action"},
      {Event(R"("postback":{})"), "entry[0].messaging[0].postback.title"},
      {Event(R"("message":{"mid":")" + std::string(600, 'm') + R"(","text":"x"})"),
       "entry[0].messaging[0].message.mid"},
  };
  for (const Case& c : cases) {
    auto batch = Parse(c.body);
    ASSERT_FALSE(batch.ok()) << c.body;
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(batch.status().message().find(c.field), std::string::npos)
        << c.body << " -> " << batch.status().message();
  }
}

TEST(MessengerParseTest, SurvivesHostileNesting) {
  std::string deep = Event(R"("message":)" + std::string(5000, '[') + std::string(5000, ']'));
  auto batch = Parse(deep);
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  std::string truncated = ReadFixture("messenger_text.json");
  for (size_t n = 0; n < truncated.size(); n += 7) {
    EXPECT_FALSE(Parse(truncated.substr(0, n)).ok()) << n;
  }
}

TEST(MessengerParseTest, SurvivesRandomMutationsOfEveryFixture) {
  std::mt19937 rng(20240501);
  for (const char* name :
       {"messenger_text.json", "messenger_image.json", "messenger_quick_reply.json",
        "messenger_postback.json", "messenger_delivery.json", "instagram_text.json"}) {
    const std::string original = ReadFixture(name);
    ASSERT_FALSE(original.empty()) << name;
    for (int round = 0; round < 500; ++round) {
      std::string body = original;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        size_t at = rng() % body.size();
        switch (rng() % 3) {
          case 0:
            body[at] = static_cast<char>(rng() % 256);
            break;
          case 1:
            body.erase(at, 1 + rng() % 8);
            break;
          default:
            body.insert(at, body.substr(rng() % body.size(), 1 + rng() % 16));
        }
        if (body.empty()) body = "{";
      }
      auto batch = Parse(body);
      if (!batch.ok()) {
        EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
      }
    }
  }
}

TEST(MessengerParseTest, AdapterParsesTheRequestBody) {
  AdapterDeps deps;
  MessengerAdapter adapter(deps);
  http::Request request;
  request.body = ReadFixture("messenger_text.json");
  auto batch = adapter.ParseWebhook(request);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->messages.size(), 1u);
  EXPECT_EQ(adapter.kind(), "messenger");
}

}  // namespace
}  // namespace parley::channels::messenger

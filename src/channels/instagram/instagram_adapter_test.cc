// Instagram's differences from Messenger: the envelope, the identity setting, buttons as
// quick replies, the ❤ reaction, and Instagram-only inbound events.
#include "channels/instagram/instagram_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace parley::channels::instagram {
namespace {

namespace json = boost::json;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class InstagramAdapterTest : public ::testing::Test {
 protected:
  InstagramAdapterTest() : adapter_(deps_) {}

  Result<InboundBatch> Parse(std::string body) {
    http::Request r;
    r.method = "POST";
    r.body = std::move(body);
    return adapter_.ParseWebhook(r);
  }

  static std::string Event(std::string_view fields) {
    return std::string(
               R"({"object":"instagram","entry":[{"id":"17841400000000001","time":1,)"
               R"("messaging":[{"sender":{"id":"9001"},"recipient":{"id":"17841400000000001"},)"
               R"("timestamp":1700000000000,)") +
           std::string(fields) + "}]}]}";
  }

  messenger::RenderedMessage Render(Content content) {
    OutboundRequest r;
    r.message.direction = Direction::kOutbound;
    r.message.content = std::move(content);
    r.contact_id = "9001";
    return messenger::RenderSendBody(r, adapter_.flavor());
  }

  AdapterDeps deps_;
  InstagramAdapter adapter_;
};

TEST_F(InstagramAdapterTest, KindAndIdentity) {
  EXPECT_EQ(adapter_.kind(), "instagram");
  ConnectionContext c;
  c.settings["instagram_id"] = "17841400000000001";
  c.settings["page_id"] = "111";
  EXPECT_EQ(adapter_.ClientIdentity(c), "17841400000000001");
}

TEST_F(InstagramAdapterTest, TextFixture) {
  auto batch = Parse(ReadFixture("instagram_text.json"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  EXPECT_EQ(m.provider_message_id, "external_id");
  EXPECT_EQ(m.contact_id, "5678");
  EXPECT_EQ(m.client_identity, "1234567890");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1459991487970);
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hello World");
}

TEST_F(InstagramAdapterTest, RejectsMessengerEnvelopeAndViceVersa) {
  auto page = Parse(ReadFixture("messenger_text.json"));
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(page.status().message().find("object"), std::string::npos);
  EXPECT_FALSE(messenger::ParseMessagingWebhook(ReadFixture("instagram_text.json"),
                                                messenger::kMessengerFlavor)
                   .ok());
}

TEST_F(InstagramAdapterTest, InstagramOnlyEvents) {
  auto story = Parse(Event(
      R"("message":{"mid":"aWdf1","attachments":[{"type":"story_mention","payload":{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}}]})"));
  ASSERT_TRUE(story.ok()) << story.status().ToString();
  EXPECT_EQ(std::get<UnsupportedContent>(story->messages[0].content).provider_type,
            "story_mention");

  auto story_reply = Parse(Event(
      R"("message":{"mid":"aWdf2","text":"nice","reply_to":{"story":{"url":"https://x.example/s","id":"1"}}})"));
  ASSERT_TRUE(story_reply.ok()) << story_reply.status().ToString();
  EXPECT_EQ(std::get<TextContent>(story_reply->messages[0].content).text, "nice");
  EXPECT_EQ(story_reply->messages[0].reply_to_provider_id, "");

  auto deleted = Parse(Event(R"("message":{"mid":"aWdf3","is_deleted":true})"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->messages.empty());
  EXPECT_EQ(deleted->ignored, 1);

  auto unsupported = Parse(Event(R"("message":{"mid":"aWdf4","is_unsupported":true})"));
  ASSERT_TRUE(unsupported.ok());
  EXPECT_EQ(std::get<UnsupportedContent>(unsupported->messages[0].content).provider_type,
            "unsupported");

  auto reel = Parse(Event(
      R"("message":{"mid":"aWdf5","attachments":[{"type":"ig_reel","payload":{"reel_video_id":"1","title":"t"}}]})"));
  ASSERT_TRUE(reel.ok());
  EXPECT_EQ(std::get<UnsupportedContent>(reel->messages[0].content).provider_type, "ig_reel");

  auto reaction = Parse(
      Event(R"("reaction":{"mid":"aWdf0","action":"react","reaction":"love","emoji":"\u2764"})"));
  ASSERT_TRUE(reaction.ok());
  EXPECT_EQ(std::get<ReactionContent>(reaction->messages[0].content).emoji, "\u2764");

  auto comments = Parse(
      R"({"object":"instagram","entry":[{"id":"1","time":1,"changes":[{"field":"comments","value":{}}]}]})");
  ASSERT_TRUE(comments.ok());
  EXPECT_EQ(comments->ignored, 1);
}

TEST_F(InstagramAdapterTest, ButtonsBecomeQuickReplies) {
  InteractiveContent c;
  c.kind = InteractiveKind::kButtons;
  c.body = "Confirm?";
  c.choices = {{"yes", "Yes"}, {"no", "No"}};
  messenger::RenderedMessage r = Render(c);
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(
      json::serialize(r.body),
      R"({"recipient":{"id":"9001"},"messaging_type":"RESPONSE","message":{"text":"Confirm?",)"
      R"("quick_replies":[{"content_type":"text","title":"Yes","payload":"yes"},)"
      R"({"content_type":"text","title":"No","payload":"no"}]}})");
}

TEST_F(InstagramAdapterTest, CarouselIsAGenericTemplate) {
  InteractiveContent c;
  c.kind = InteractiveKind::kCarousel;
  c.cards = {{"Shoe", "", "https://shop.example/shoe.png", {{"buy", "Buy"}}}};
  messenger::RenderedMessage r = Render(c);
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(
      json::serialize(r.body),
      R"({"recipient":{"id":"9001"},"messaging_type":"RESPONSE","message":{"attachment":)"
      R"({"type":"template","payload":{"template_type":"generic","elements":[{"title":"Shoe",)"
      R"("image_url":"https://shop.example/shoe.png","buttons":[{"type":"postback","title":"Buy",)"
      R"("payload":"buy"}]}]}}}})");
}

TEST_F(InstagramAdapterTest, HeartReactionIsASenderAction) {
  ReactionContent heart;
  heart.emoji = "\u2764\ufe0f";
  heart.target_provider_message_id = "aWdf0";
  messenger::RenderedMessage r = Render(heart);
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(json::serialize(r.body), R"({"recipient":{"id":"9001"},"sender_action":"react",)"
                                     R"("payload":{"message_id":"aWdf0","reaction":"love"}})");

  ReactionContent removed;
  removed.target_provider_message_id = "aWdf0";
  EXPECT_EQ(
      json::serialize(Render(removed).body),
      R"({"recipient":{"id":"9001"},"sender_action":"unreact","payload":{"message_id":"aWdf0"}})");

  ReactionContent thumbs;
  thumbs.emoji = "\U0001F44D";
  thumbs.target_provider_message_id = "aWdf0";
  EXPECT_EQ(Render(thumbs).error.code, "unsupported_content");
  ReactionContent no_target;
  no_target.emoji = "\u2764";
  EXPECT_EQ(Render(no_target).error.code, "unsupported_content");
}

TEST_F(InstagramAdapterTest, TemplateFailsAndTextLimitHolds) {
  TemplateContent t;
  t.name = "x";
  t.language = "en";
  EXPECT_EQ(Render(t).error.code, "unsupported_content");
  EXPECT_EQ(Render(TextContent{.text = std::string(2001, 'a')}).error.code, "too_long");
}

TEST_F(InstagramAdapterTest, PrepareConnectionUsesInstagramId) {
  json::object credentials{{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "a"}};
  json::object settings{{"instagram_id", "17841400000000001"}};
  auto ok = adapter_.PrepareConnection(settings, credentials);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(settings["api_version"], "v21.0");

  json::object page_settings{{"page_id", "1"}};
  auto bad = adapter_.PrepareConnection(page_settings, credentials);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("settings.page_id"), std::string::npos);
  json::object missing;
  auto none = adapter_.PrepareConnection(missing, credentials);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("settings.instagram_id"), std::string::npos);
}

}  // namespace
}  // namespace parley::channels::instagram

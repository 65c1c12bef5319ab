// Outbound: the exact Send API body for every content type, the degradations and limits,
// and the interpretation of the Send API's answers.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "channels/messenger/messenger_common.h"

namespace parley::channels::messenger {
namespace {

namespace json = boost::json;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

OutboundRequest Request(Content content) {
  OutboundRequest r;
  r.message.direction = Direction::kOutbound;
  r.message.content = std::move(content);
  r.contact_id = "222";
  return r;
}

std::string Body(Content content) {
  RenderedMessage r = RenderSendBody(Request(std::move(content)), kMessengerFlavor);
  EXPECT_TRUE(r.ok()) << r.error.code << ": " << r.error.message;
  return json::serialize(r.body);
}

ProviderError Refusal(Content content) {
  RenderedMessage r = RenderSendBody(Request(std::move(content)), kMessengerFlavor);
  EXPECT_FALSE(r.ok());
  return r.error;
}

constexpr const char* kHead = R"({"recipient":{"id":"222"},"messaging_type":"RESPONSE",)";

std::vector<Choice> Choices(int n) {
  std::vector<Choice> out;
  for (int i = 1; i <= n; ++i) out.push_back({fmt::format("c{}", i), fmt::format("Choice {}", i)});
  return out;
}

InteractiveContent Interactive(InteractiveKind kind, std::string body) {
  InteractiveContent c;
  c.kind = kind;
  c.body = std::move(body);
  return c;
}

TEST(MessengerRenderTest, Text) {
  EXPECT_EQ(Body(TextContent{.text = "Hello"}),
            std::string(kHead) + R"("message":{"text":"Hello"}})");
}

TEST(MessengerRenderTest, TextOverTheLimitFailsAsTooLong) {
  // 2000 characters pass even when they are multi-byte; 2001 do not.
  std::string at_limit;
  for (int i = 0; i < 2000; ++i) at_limit += "\u00e9";
  EXPECT_TRUE(RenderSendBody(Request(TextContent{.text = at_limit}), kMessengerFlavor).ok());
  EXPECT_EQ(Refusal(TextContent{.text = at_limit + "x"}).code, "too_long");
}

TEST(MessengerRenderTest, MediaByUrl) {
  struct Case {
    MediaKind kind;
    const char* type;
  } cases[] = {{MediaKind::kImage, "image"},
               {MediaKind::kVideo, "video"},
               {MediaKind::kAudio, "audio"},
               {MediaKind::kFile, "file"},
               {MediaKind::kSticker, "image"}};
  for (const Case& c : cases) {
    MediaContent media;
    media.kind = c.kind;
    Attachment a;
    a.url = "https://parley.example/a/att_1?sig=x";
    a.mime_type = "image/png";
    media.attachments.push_back(a);
    EXPECT_EQ(Body(media), std::string(kHead) + R"("message":{"attachment":{"type":")" + c.type +
                               R"(","payload":{"url":"https://parley.example/a/att_1?sig=x"}}}})");
  }
}

TEST(MessengerRenderTest, MediaRefusals) {
  MediaContent media;
  Attachment a;
  a.url = "/v1/attachments/att_1?sig=x";  // no public URL configured
  media.attachments.push_back(a);
  EXPECT_EQ(Refusal(media).code, "public_url_required");
  media.attachments[0].url = "https://parley.example/a";
  media.caption = "see this";
  EXPECT_EQ(Refusal(media).code, "unsupported_content");
  media.caption.clear();
  media.attachments.push_back(media.attachments[0]);
  EXPECT_EQ(Refusal(media).code, "unsupported_content");
}

TEST(MessengerRenderTest, QuickRepliesMatchTheFixtureShape) {
  InteractiveContent c = Interactive(InteractiveKind::kQuickReplies, "Pick a color:");
  c.choices = {{"{POSTBACK_PAYLOAD}", "Red"}, {"{POSTBACK_PAYLOAD}", "Green"}};
  json::value rendered = json::parse(Body(c));
  json::value fixture = json::parse(ReadFixture("messenger_send_quick_replies_request.json"));
  // The fixture's quick replies carry image_url; Parley's choices have none.
  for (auto& reply : fixture.at("message").at("quick_replies").as_array()) {
    reply.as_object().erase("image_url");
  }
  fixture.at("recipient").as_object()["id"] = "222";
  EXPECT_EQ(rendered, fixture) << json::serialize(rendered);
}

TEST(MessengerRenderTest, QuickReplyTitlesAreTruncatedAndHeaderFooterJoinTheText) {
  InteractiveContent c = Interactive(InteractiveKind::kQuickReplies, "Body");
  c.header = "Head";
  c.footer = "Foot";
  c.choices = {{"p1", "A title much longer than twenty characters"}};
  EXPECT_EQ(Body(c),
            std::string(kHead) +
                R"("message":{"text":"Head\n\nBody\n\nFoot","quick_replies":[)"
                R"({"content_type":"text","title":"A title much longer ","payload":"p1"}]}})");
  c.choices[0].id = std::string(1001, 'p');
  EXPECT_EQ(Refusal(c).code, "too_long");
}

TEST(MessengerRenderTest, ButtonsAsButtonTemplate) {
  InteractiveContent c = Interactive(InteractiveKind::kButtons, "Confirm?");
  c.choices = {{"yes", "Yes"}, {"no", "No"}};
  EXPECT_EQ(Body(c),
            std::string(kHead) +
                R"("message":{"attachment":{"type":"template","payload":{"template_type":"button",)"
                R"("text":"Confirm?","buttons":[{"type":"postback","title":"Yes","payload":"yes"},)"
                R"({"type":"postback","title":"No","payload":"no"}]}}}})");
}

TEST(MessengerRenderTest, MoreThanThreeButtonsOrLongTextBecomeQuickReplies) {
  InteractiveContent c = Interactive(InteractiveKind::kButtons, "Pick");
  c.choices = Choices(4);
  json::value v = json::parse(Body(c));
  EXPECT_EQ(v.at("message").at("text"), "Pick");
  EXPECT_EQ(v.at("message").at("quick_replies").as_array().size(), 4u);
  EXPECT_EQ(v.at("message").at("quick_replies").at(3).at("payload"), "c4");

  c.choices = Choices(2);
  c.body = std::string(641, 'b');
  v = json::parse(Body(c));
  EXPECT_EQ(v.at("message").at("quick_replies").as_array().size(), 2u);
}

TEST(MessengerRenderTest, ShortListBecomesQuickReplies) {
  InteractiveContent c = Interactive(InteractiveKind::kList, "Choose a slot");
  c.list.button = "Slots";
  c.list.sections = {{"Morning", {{"m9", "9:00", "early"}, {"m10", "10:00", ""}}},
                     {"Afternoon", {{"a2", "14:00", ""}}}};
  EXPECT_EQ(Body(c), std::string(kHead) +
                         R"("message":{"text":"Choose a slot","quick_replies":[)"
                         R"({"content_type":"text","title":"9:00","payload":"m9"},)"
                         R"({"content_type":"text","title":"10:00","payload":"m10"},)"
                         R"({"content_type":"text","title":"14:00","payload":"a2"}]}})");
}

TEST(MessengerRenderTest, LongListBecomesNumberedText) {
  InteractiveContent c = Interactive(InteractiveKind::kList, "Choose");
  c.list.button = "Open";
  for (int s = 0; s < 2; ++s) {
    ListSection section;
    section.title = fmt::format("S{}", s + 1);
    for (int i = 0; i < 7; ++i) section.rows.push_back({fmt::format("r{}{}", s, i), "Row", ""});
    c.list.sections.push_back(section);
  }
  c.list.sections[0].rows[0].description = "first";
  json::value v = json::parse(Body(c));
  EXPECT_FALSE(v.at("message").as_object().contains("quick_replies"));
  EXPECT_EQ(v.at("message").at("text"),
            "Choose\n\nS1\n1. Row - first\n2. Row\n3. Row\n4. Row\n5. Row\n6. Row\n7. Row\n"
            "\nS2\n8. Row\n9. Row\n10. Row\n11. Row\n12. Row\n13. Row\n14. Row");
}

TEST(MessengerRenderTest, CarouselAsGenericTemplate) {
  InteractiveContent c;
  c.kind = InteractiveKind::kCarousel;
  c.cards = {{"Shoe", "Size 42", "https://shop.example/shoe.png", {{"buy-1", "Buy"}}},
             {std::string(85, 't'), "", "", {}}};
  EXPECT_EQ(
      Body(c),
      std::string(kHead) +
          R"("message":{"attachment":{"type":"template","payload":{"template_type":"generic",)"
          R"("elements":[{"title":"Shoe","subtitle":"Size 42","image_url":"https://shop.example/shoe.png",)"
          R"("buttons":[{"type":"postback","title":"Buy","payload":"buy-1"}]},)"
          R"({"title":")" +
          std::string(80, 't') + R"("}]}}}})");
}

TEST(MessengerRenderTest, CarouselRefusals) {
  InteractiveContent c;
  c.kind = InteractiveKind::kCarousel;
  c.cards = {{"Shoe", "", "", Choices(4)}};
  EXPECT_EQ(Refusal(c).code, "unsupported_content");
  c.cards = {{"Shoe", "", "/relative.png", {}}};
  EXPECT_EQ(Refusal(c).code, "public_url_required");
  c.cards = {{"Shoe", "", "", {}}};
  c.body = "intro";
  EXPECT_EQ(Refusal(c).code, "unsupported_content");
}

TEST(MessengerRenderTest, LocationDegradesToTextWithAMapsLink) {
  LocationContent loc;
  loc.latitude = 52.52;
  loc.longitude = 13.405;
  loc.name = "Office";
  loc.address = "Main St 1";
  EXPECT_EQ(Body(loc), std::string(kHead) +
                           R"("message":{"text":"Office\n\nMain St 1\n52.52, 13.405\n)"
                           R"(https://maps.google.com/?q=52.52,13.405"}})");
  LocationContent bare;
  bare.latitude = -1.5;
  bare.longitude = 2;
  EXPECT_EQ(Body(bare), std::string(kHead) +
                            R"("message":{"text":"-1.5, 2\nhttps://maps.google.com/?q=-1.5,2"}})");
}

TEST(MessengerRenderTest, ContactsDegradeToText) {
  ContactContent c;
  ContactCard card;
  card.name.formatted = "Ana Lima";
  card.phones = {{"+4915112345678", "mobile"}};
  card.emails = {{"ana@example.com", ""}};
  c.contacts = {card};
  EXPECT_EQ(Body(c),
            std::string(kHead) +
                R"("message":{"text":"Ana Lima\n+4915112345678 (mobile)\nana@example.com"}})");
}

TEST(MessengerRenderTest, UnsupportedContentFailsPermanently) {
  TemplateContent t;
  t.name = "hello_world";
  t.language = "en_US";
  EXPECT_EQ(Refusal(t).code, "unsupported_content");
  ReactionContent r;
  r.emoji = "\u2764";
  r.target_provider_message_id = "m_1";
  EXPECT_EQ(Refusal(r).code, "unsupported_content");
  SystemContent s;
  s.code = "x";
  EXPECT_EQ(Refusal(s).code, "unsupported_content");
}

TEST(MessengerRenderTest, MissingRecipientFails) {
  OutboundRequest r = Request(TextContent{.text = "x"});
  r.contact_id.clear();
  EXPECT_EQ(RenderSendBody(r, kMessengerFlavor).error.code, "invalid_recipient");
}

TEST(MessengerRenderTest, SenderActions) {
  EXPECT_EQ(json::serialize(RenderSenderAction("222", SignalRequest::Kind::kTypingOn)),
            R"({"recipient":{"id":"222"},"sender_action":"typing_on"})");
  EXPECT_EQ(json::serialize(RenderSenderAction("222", SignalRequest::Kind::kTypingOff)),
            R"({"recipient":{"id":"222"},"sender_action":"typing_off"})");
  EXPECT_EQ(json::serialize(RenderSenderAction("222", SignalRequest::Kind::kRead)),
            R"({"recipient":{"id":"222"},"sender_action":"mark_seen"})");
}

TEST(MessengerRenderTest, GraphPostUrlAndAuthorization) {
  ConnectionContext connection;
  connection.settings["page_id"] = "111";
  connection.settings["api_base_url"] = "http://127.0.0.1:9";
  connection.settings["api_version"] = "v20.0";
  connection.credentials["access_token"] = "tok";
  http::ClientRequest r =
      BuildGraphPost(connection, kMessengerFlavor, json::object{{"a", 1}}, Millis(1234));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9/v20.0/111/messages");
  EXPECT_EQ(r.body, R"({"a":1})");
  EXPECT_EQ(r.timeout, Millis(1234));
  bool auth = false;
  for (const auto& [name, value] : r.headers) {
    if (name == "Authorization") auth = value == "Bearer tok";
  }
  EXPECT_TRUE(auth);
}

http::ClientResponse Response(int status, std::string body) {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(MessengerRenderTest, InterpretsSuccess) {
  SendOutcome o = InterpretSendResponse(Response(200, ReadFixture("messenger_send_response.json")));
  EXPECT_EQ(o.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(
      o.provider_message_id,
      "AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P");
  // A sender action's answer has no message_id; an odd 2xx is still "sent" (never resent).
  EXPECT_EQ(InterpretSendResponse(Response(200, R"({"recipient_id":"1"})")).kind,
            SendOutcome::Kind::kSent);
  EXPECT_EQ(InterpretSendResponse(Response(200, "garbage")).kind, SendOutcome::Kind::kSent);
}

TEST(MessengerRenderTest, InterpretsErrors) {
  SendOutcome token =
      InterpretSendResponse(Response(400, ReadFixture("messenger_error_response.json")));
  EXPECT_EQ(token.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(token.error.code, "meta_190");
  EXPECT_EQ(token.error.message, "Invalid OAuth access token.");

  SendOutcome limited = InterpretSendResponse(
      Response(400, R"({"error":{"message":"limit","type":"OAuthException","code":613}})"));
  EXPECT_EQ(limited.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(limited.error.code, "meta_613");

  http::ClientResponse busy = Response(429, "");
  busy.headers.emplace_back("retry-after", "7");
  SendOutcome retry = InterpretSendResponse(busy);
  EXPECT_EQ(retry.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(retry.retry_after, Millis(7000));
  EXPECT_EQ(retry.error.code, "http_429");

  EXPECT_EQ(InterpretSendResponse(Response(503, "")).kind, SendOutcome::Kind::kRetry);

  SendOutcome window = InterpretSendResponse(Response(
      400,
      R"({"error":{"message":"outside the allowed window","code":10,"error_subcode":2018278}})"));
  EXPECT_EQ(window.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(window.error.code, "meta_10");
}

TEST(MessengerRenderTest, CharacterHelpers) {
  EXPECT_EQ(CountChars("a\u00e9\u2764"), 3u);
  EXPECT_EQ(TruncateChars("a\u00e9\u2764b", 3), "a\u00e9\u2764");
  EXPECT_EQ(TruncateChars("ab", 5), "ab");
}

}  // namespace
}  // namespace parley::channels::messenger

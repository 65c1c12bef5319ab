#include "channels/whatsapp/whatsapp_render.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace parley::channels::whatsapp {
namespace {

namespace json = boost::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

OutboundRequest Request(Content content, std::string reply_to = "") {
  OutboundRequest r;
  r.message.direction = Direction::kOutbound;
  r.message.content = std::move(content);
  r.contact_id = "16505551234";
  r.reply_to_provider_id = std::move(reply_to);
  return r;
}

// The rendered body; fails the test when rendering failed.
json::value Body(const OutboundRequest& request) {
  RenderedMessage r = RenderMessage(request);
  EXPECT_FALSE(r.failure.has_value()) << (r.failure ? r.failure->message : "");
  return r.body;
}

std::string FailureCode(const OutboundRequest& request) {
  RenderedMessage r = RenderMessage(request);
  return r.failure ? r.failure->code : "";
}

json::value Expected(std::string_view payload) {
  return json::parse(std::string(R"({"messaging_product":"whatsapp","recipient_type":"individual",)"
                                 R"("to":"16505551234",)") +
                     std::string(payload) + "}");
}

Attachment Linked(std::string url, std::string mime, std::string filename = "") {
  Attachment a;
  a.url = std::move(url);
  a.mime_type = std::move(mime);
  a.filename = std::move(filename);
  return a;
}

TEST(WhatsAppRenderTest, RendersText) {
  EXPECT_EQ(Body(Request(TextContent{"Hello"})),
            Expected(R"("type":"text","text":{"preview_url":false,"body":"Hello"})"));
  EXPECT_EQ(
      Body(Request(TextContent{"See https://example.com"}, "wamid.prev")),
      Expected(R"("type":"text","text":{"preview_url":true,"body":"See https://example.com"},)"
               R"("context":{"message_id":"wamid.prev"})"));
}

TEST(WhatsAppRenderTest, TextOverTheLimitFailsAsTooLong) {
  std::string at_limit;
  for (size_t i = 0; i < kMaxTextChars; ++i) at_limit += "\xC3\xA9";  // 4096 characters, 8192 bytes
  EXPECT_FALSE(RenderMessage(Request(TextContent{at_limit})).failure.has_value());
  EXPECT_EQ(FailureCode(Request(TextContent{at_limit + "x"})), "too_long");
}

TEST(WhatsAppRenderTest, RendersImageLikeTheFixtureButByLink) {
  MediaContent m{MediaKind::kImage,
                 {Linked("https://parley.example/a/1?sig=x", "image/jpeg")},
                 "The best succulent ever?"};
  json::value expected = json::parse(Fixture("whatsapp_send_image_request.json"));
  expected.at("to") = "16505551234";
  expected.at("image").as_object().erase("id");
  expected.at("image").as_object()["link"] = "https://parley.example/a/1?sig=x";
  EXPECT_EQ(Body(Request(m)), expected);
}

TEST(WhatsAppRenderTest, RendersEveryMediaKind) {
  EXPECT_EQ(
      Body(Request(MediaContent{
          MediaKind::kFile, {Linked("https://p/f", "application/pdf", "menu.pdf")}, "Menu"})),
      Expected(
          R"("type":"document","document":{"link":"https://p/f","caption":"Menu","filename":"menu.pdf"})"));
  EXPECT_EQ(
      Body(Request(MediaContent{MediaKind::kAudio, {Linked("https://p/a", "audio/ogg")}, ""})),
      Expected(R"("type":"audio","audio":{"link":"https://p/a"})"));
  EXPECT_EQ(
      Body(Request(MediaContent{MediaKind::kVideo, {Linked("https://p/v", "video/mp4")}, "v"})),
      Expected(R"("type":"video","video":{"link":"https://p/v","caption":"v"})"));
  EXPECT_EQ(
      Body(Request(MediaContent{MediaKind::kSticker, {Linked("https://p/s", "image/webp")}, ""})),
      Expected(R"("type":"sticker","sticker":{"link":"https://p/s"})"));
}

TEST(WhatsAppRenderTest, MediaFailuresArePermanentWithACode) {
  EXPECT_EQ(
      FailureCode(Request(MediaContent{MediaKind::kImage, {Linked("/v1/a/1", "image/png")}, ""})),
      "public_url_required");
  EXPECT_EQ(FailureCode(Request(MediaContent{
                MediaKind::kImage,
                {Linked("https://p/1", "image/png"), Linked("https://p/2", "image/png")},
                ""})),
            "unsupported_content");
  EXPECT_EQ(FailureCode(Request(
                MediaContent{MediaKind::kAudio, {Linked("https://p/a", "audio/ogg")}, "caption"})),
            "unsupported_content");
  EXPECT_EQ(FailureCode(Request(MediaContent{MediaKind::kImage,
                                             {Linked("https://p/1", "image/png")},
                                             std::string(kMaxCaptionChars + 1, 'c')})),
            "too_long");
}

TEST(WhatsAppRenderTest, RendersLocationContactsAndReaction) {
  EXPECT_EQ(Body(Request(LocationContent{37.5, -122.25, "Philz", "101 Forest Ave"})),
            Expected(R"("type":"location","location":{"latitude":37.5,"longitude":-122.25,)"
                     R"("name":"Philz","address":"101 Forest Ave"})"));
  ContactCard card{{"Ann Lee", "Ann", "Lee"}, {{"+1 555", "mobile"}}, {{"a@example.com", ""}}};
  EXPECT_EQ(
      Body(Request(ContactContent{{card}})),
      Expected(
          R"("type":"contacts","contacts":[{"name":{"formatted_name":"Ann Lee",)"
          R"("first_name":"Ann","last_name":"Lee"},"phones":[{"phone":"+1 555","type":"MOBILE"}],)"
          R"("emails":[{"email":"a@example.com"}]}])"));
  ReactionContent reaction;
  reaction.emoji = "\xF0\x9F\x91\x8D";
  reaction.target_provider_message_id = "wamid.t";
  EXPECT_EQ(
      Body(Request(reaction, "wamid.ignored")),
      Expected(R"("type":"reaction","reaction":{"message_id":"wamid.t","emoji":"\ud83d\udc4d"})"));
  reaction.target_provider_message_id.clear();
  EXPECT_EQ(FailureCode(Request(reaction)), "unsupported_content");
}

InteractiveContent Buttons(size_t n, InteractiveKind kind = InteractiveKind::kButtons) {
  InteractiveContent c;
  c.kind = kind;
  c.body = "Pick one";
  for (size_t i = 0; i < n; ++i) {
    c.choices.push_back({fmt::format("id-{}", i), fmt::format("Choice {}", i)});
  }
  return c;
}

TEST(WhatsAppRenderTest, RendersReplyButtonsLikeTheFixture) {
  InteractiveContent c;
  c.kind = InteractiveKind::kButtons;
  c.body =
      "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you "
      "need to reschedule. Thank you!";
  c.footer = "Lucky Shrub: Your gateway to succulents!™";
  c.choices = {{"change-button", "Change"}, {"cancel-button", "Cancel"}};
  json::value expected = json::parse(Fixture("whatsapp_send_interactive_buttons_request.json"));
  expected.at("to") = "16505551234";
  expected.at("interactive").as_object().erase("header");  // the fixture's image header
  EXPECT_EQ(Body(Request(c)), expected);
}

TEST(WhatsAppRenderTest, QuickRepliesAreButtonsAndTitlesAreCut) {
  InteractiveContent c = Buttons(1, InteractiveKind::kQuickReplies);
  c.header = "Header";
  c.choices[0].title = "A title much longer than twenty";
  EXPECT_EQ(
      Body(Request(c)),
      Expected(
          R"("type":"interactive","interactive":{"type":"button",)"
          R"("header":{"type":"text","text":"Header"},"body":{"text":"Pick one"},)"
          R"("action":{"buttons":[{"type":"reply","reply":{"id":"id-0","title":"A title much longer"}}]}})"));
}

TEST(WhatsAppRenderTest, MoreThanThreeChoicesBecomeAList) {
  json::value body = Body(Request(Buttons(4)));
  EXPECT_EQ(
      body,
      Expected(R"("type":"interactive","interactive":{"type":"list",)"
               R"("body":{"text":"Pick one"},"action":{"button":"Choose","sections":[{"rows":[)"
               R"({"id":"id-0","title":"Choice 0"},{"id":"id-1","title":"Choice 1"},)"
               R"({"id":"id-2","title":"Choice 2"},{"id":"id-3","title":"Choice 3"}]}]}})"));
}

TEST(WhatsAppRenderTest, ButtonLimitsFailPermanently) {
  InteractiveContent long_body = Buttons(2);
  long_body.body = std::string(kMaxButtonsBodyChars + 1, 'b');
  EXPECT_EQ(FailureCode(Request(long_body)), "too_long");
  InteractiveContent long_id = Buttons(2);
  long_id.choices[0].id = std::string(kMaxButtonIdBytes + 1, 'i');
  EXPECT_EQ(FailureCode(Request(long_id)), "too_long");
}

InteractiveContent List(size_t sections, size_t rows_each) {
  InteractiveContent c;
  c.kind = InteractiveKind::kList;
  c.body = "Our menu";
  c.list.button = "View the whole menu now";
  for (size_t s = 0; s < sections; ++s) {
    ListSection section;
    section.title = fmt::format("Section {}", s);
    for (size_t r = 0; r < rows_each; ++r) {
      section.rows.push_back(
          {fmt::format("r{}-{}", s, r), fmt::format("Row {}", r), r == 0 ? "first" : ""});
    }
    c.list.sections.push_back(std::move(section));
  }
  return c;
}

TEST(WhatsAppRenderTest, RendersAList) {
  InteractiveContent c = List(2, 2);
  c.footer = "Footer";
  EXPECT_EQ(
      Body(Request(c)),
      Expected(
          R"("type":"interactive","interactive":{"type":"list","footer":{"text":"Footer"},)"
          R"("body":{"text":"Our menu"},"action":{"button":"View the whole menu",)"
          R"("sections":[{"title":"Section 0","rows":[{"id":"r0-0","title":"Row 0","description":"first"},)"
          R"({"id":"r0-1","title":"Row 1"}]},{"title":"Section 1","rows":[)"
          R"({"id":"r1-0","title":"Row 0","description":"first"},{"id":"r1-1","title":"Row 1"}]}]}})"));
}

TEST(WhatsAppRenderTest, AListOverTenRowsDegradesToNumberedText) {
  InteractiveContent c = List(2, 6);
  json::value body = Body(Request(c));
  EXPECT_EQ(body.at("type"), "text");
  EXPECT_EQ(body.at("text").at("body"),
            "Our menu\n\n1. Row 0 — first\n2. Row 1\n3. Row 2\n4. Row 3\n5. Row 4\n6. Row 5\n"
            "7. Row 0 — first\n8. Row 1\n9. Row 2\n10. Row 3\n11. Row 4\n12. Row 5");
}

TEST(WhatsAppRenderTest, ACarouselDegradesToNumberedText) {
  InteractiveContent c;
  c.kind = InteractiveKind::kCarousel;
  c.cards = {{"Red shirt", "$20", "https://shop/red.jpg", {{"buy-red", "Buy"}}},
             {"Blue shirt", "", "", {}}};
  json::value body = Body(Request(c, "wamid.q"));
  EXPECT_EQ(body, Expected(R"("type":"text","text":{"preview_url":true,"body":)"
                           R"("1. Red shirt\n$20\nhttps://shop/red.jpg\n   • Buy\n2. Blue shirt"},)"
                           R"("context":{"message_id":"wamid.q"})"));
}

TEST(WhatsAppRenderTest, RendersTemplatesLikeTheFixture) {
  TemplateContent t{"hello_world", "en_US", {}};
  json::value expected = json::parse(Fixture("whatsapp_send_template_request.json"));
  expected.at("to") = "16505551234";
  expected.as_object()["recipient_type"] = "individual";
  EXPECT_EQ(Body(Request(t)), expected);
}

TEST(WhatsAppRenderTest, RendersTemplateParametersAndButtons) {
  TemplateContent t{"order_update",
                    "pt_BR",
                    {{"header", {{"image", "https://p/i.png"}}},
                     {"body", {{"text", "Ana"}, {"currency", "R$ 10,00"}}},
                     {"button", {{"payload", "STOP"}, {"text", "track/123"}}}}};
  EXPECT_EQ(
      Body(Request(t)),
      Expected(
          R"("type":"template","template":{"name":"order_update","language":{"code":"pt_BR"},)"
          R"("components":[)"
          R"({"type":"header","parameters":[{"type":"image","image":{"link":"https://p/i.png"}}]},)"
          R"({"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"R$ 10,00"}]},)"
          R"({"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"STOP"}]},)"
          R"({"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"track/123"}]}]})"));
  TemplateContent relative{"x", "en", {{"header", {{"document", "/v1/a/1"}}}}};
  EXPECT_EQ(FailureCode(Request(relative)), "public_url_required");
}

TEST(WhatsAppRenderTest, RefusesWhatWhatsAppCannotCarry) {
  EXPECT_EQ(FailureCode(Request(ReplyContent{ReplySource::kButton, "t", "p"})),
            "unsupported_content");
  EXPECT_EQ(FailureCode(Request(UnsupportedContent{"x", ""})), "unsupported_content");
  OutboundRequest no_recipient = Request(TextContent{"hi"});
  no_recipient.contact_id.clear();
  EXPECT_EQ(FailureCode(no_recipient), "invalid_recipient");
}

TEST(WhatsAppRenderTest, RendersReadMarksAndTypingIndicators) {
  SignalRequest read{SignalRequest::Kind::kRead, "16505551234", "wamid.in"};
  EXPECT_EQ(
      json::value(*RenderSignal(read)),
      json::parse(R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.in"})"));
  SignalRequest typing{SignalRequest::Kind::kTypingOn, "16505551234", "wamid.in"};
  EXPECT_EQ(
      json::value(*RenderSignal(typing)),
      json::parse(R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.in",)"
                  R"("typing_indicator":{"type":"text"}})"));
  EXPECT_FALSE(RenderSignal({SignalRequest::Kind::kTypingOff, "1", "wamid.in"}).has_value());
  EXPECT_FALSE(RenderSignal({SignalRequest::Kind::kTypingOn, "1", ""}).has_value());
}

http::ClientResponse Response(int status, std::string body,
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(WhatsAppRenderTest, InterpretsTheSendResponseFixture) {
  SendOutcome o = InterpretSendResponse(Response(200, Fixture("whatsapp_send_response.json")));
  EXPECT_EQ(o.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(o.provider_message_id, "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA");
  // A 2xx without an id was still accepted: never sent twice.
  SendOutcome no_id = InterpretSendResponse(Response(200, "{}"));
  EXPECT_EQ(no_id.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(no_id.provider_message_id, "");
}

TEST(WhatsAppRenderTest, InterpretsThrottlingAndErrors) {
  SendOutcome throttled = InterpretSendResponse(Response(
      400,
      R"({"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429}})"));
  EXPECT_EQ(throttled.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(throttled.error.code, "meta_130429");
  SendOutcome pair =
      InterpretSendResponse(Response(400, R"({"error":{"message":"pair","code":131056}})"));
  EXPECT_EQ(pair.kind, SendOutcome::Kind::kRetry);
  SendOutcome too_many = InterpretSendResponse(Response(429, "", {{"retry-after", "30"}}));
  EXPECT_EQ(too_many.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(too_many.retry_after, Millis(30000));
  SendOutcome down = InterpretSendResponse(Response(503, "<html>"));
  EXPECT_EQ(down.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(down.error.code, "http_503");
  SendOutcome window = InterpretSendResponse(Response(
      400,
      R"({"error":{"message":"Re-engagement message","type":"OAuthException","code":131047}})"));
  EXPECT_EQ(window.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(window.error.code, "meta_131047");
  EXPECT_EQ(window.error.message, "Re-engagement message");
}

TEST(WhatsAppRenderTest, CountsAndCutsCharactersNotBytes) {
  EXPECT_EQ(CharCount("h\xC3\xA9llo"), 5u);
  EXPECT_EQ(TruncateChars("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(TruncateChars("abc", 5), "abc");
  EXPECT_EQ(CharCount("\xF0\x9F\x91\x8D"), 1u);
}

}  // namespace
}  // namespace parley::channels::whatsapp

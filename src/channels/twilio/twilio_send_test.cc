#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "channels/twilio/twilio_adapter.h"

namespace parley::channels::twilio {
namespace {

namespace json = boost::json;

Attachment Linked(std::string url, std::string mime_type) {
  Attachment a;
  a.url = std::move(url);
  a.mime_type = std::move(mime_type);
  return a;
}

constexpr char kSid[] = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ConnectionContext Connection() {
  ConnectionContext c;
  c.kind = "twilio";
  c.settings = {{"account_sid", kSid},
                {"from", "whatsapp:+15017122661"},
                {"api_base_url", "https://api.twilio.com"},
                {"webhook_url", "https://parley.example.com/v1/webhooks/con_1"}};
  c.credentials = {{"auth_token", "token"}};
  return c;
}

OutboundRequest Request(Content content) {
  OutboundRequest r;
  r.message.content = std::move(content);
  r.contact_id = "whatsapp:+15558675310";
  return r;
}

FormParams Params(const Content& content) {
  auto rendered = RenderContent(content);
  if (auto* failed = std::get_if<SendOutcome>(&rendered)) {
    ADD_FAILURE() << failed->error.code << ": " << failed->error.message;
    return {};
  }
  return std::get<FormParams>(rendered);
}

SendOutcome Refusal(const Content& content) {
  auto rendered = RenderContent(content);
  if (!std::holds_alternative<SendOutcome>(rendered)) {
    ADD_FAILURE() << "rendered instead of refusing";
    return {};
  }
  return std::get<SendOutcome>(rendered);
}

TEST(TwilioSendTest, RendersTheWholeRequest) {
  Rendered rendered = RenderSend(Request(TextContent{"Hello"}), Connection(), "");
  ASSERT_TRUE(std::holds_alternative<http::ClientRequest>(rendered));
  const auto& r = std::get<http::ClientRequest>(rendered);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url,
            std::string("https://api.twilio.com/2010-04-01/Accounts/") + kSid + "/Messages.json");
  EXPECT_EQ(r.body,
            "To=whatsapp%3A%2B15558675310&From=whatsapp%3A%2B15017122661&Body=Hello"
            "&StatusCallback=https%3A%2F%2Fparley.example.com%2Fv1%2Fwebhooks%2Fcon_1");
  bool auth = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "Authorization") {
      auth = true;
      // base64("ACaa…:token")
      EXPECT_EQ(v, "Basic QUNhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYTp0b2tlbg==");
    }
    if (k == "Content-Type") {
      EXPECT_EQ(v, "application/x-www-form-urlencoded");
    }
  }
  EXPECT_TRUE(auth);
}

TEST(TwilioSendTest, UsesTheMessagingServiceAndThePublicUrlCallback) {
  ConnectionContext c = Connection();
  c.settings.erase("webhook_url");
  c.settings["messaging_service_sid"] = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  Rendered rendered = RenderSend(Request(TextContent{"Hi"}), c, "https://p.example");
  const auto& r = std::get<http::ClientRequest>(rendered);
  auto params = ParseForm(r.body);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*FindParam(*params, "MessagingServiceSid"), "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(FindParam(*params, "From"), nullptr);
  EXPECT_EQ(*FindParam(*params, "StatusCallback"), "https://p.example/v1/webhooks/" + c.id.str());

  // No public URL known: no StatusCallback (statuses then come from the service's URL).
  Rendered without = RenderSend(Request(TextContent{"Hi"}), c, "");
  auto p2 = ParseForm(std::get<http::ClientRequest>(without).body);
  EXPECT_EQ(FindParam(*p2, "StatusCallback"), nullptr);
}

TEST(TwilioSendTest, RendersTextAndRefusesTooLongText) {
  EXPECT_EQ(Params(TextContent{"Hi"}), (FormParams{{"Body", "Hi"}}));
  // 1600 characters of two bytes each still fit: the limit counts characters.
  std::string at_limit;
  for (size_t i = 0; i < kMaxBodyChars; ++i) at_limit += "é";
  EXPECT_EQ(Params(TextContent{at_limit}).at(0).second, at_limit);
  SendOutcome too_long = Refusal(TextContent{at_limit + "x"});
  EXPECT_EQ(too_long.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(too_long.error.code, "too_long");
}

TEST(TwilioSendTest, RendersMediaAsMediaUrls) {
  MediaContent media;
  media.kind = MediaKind::kImage;
  media.caption = "Look";
  media.attachments = {Linked("https://p.example/a/1?sig=x", "image/png"),
                       Linked("https://p.example/a/2", "image/png")};
  EXPECT_EQ(Params(media), (FormParams{{"Body", "Look"},
                                       {"MediaUrl", "https://p.example/a/1?sig=x"},
                                       {"MediaUrl", "https://p.example/a/2"}}));
  media.attachments[1].url = "/v1/attachments/att_1/content";
  SendOutcome refused = Refusal(media);
  EXPECT_EQ(refused.error.code, "public_url_required");
}

TEST(TwilioSendTest, DegradesButtonsAndQuickRepliesToNumberedText) {
  InteractiveContent buttons;
  buttons.kind = InteractiveKind::kButtons;
  buttons.header = "Order 42";
  buttons.body = "Confirm?";
  buttons.footer = "Reply with a number";
  buttons.choices = {{"yes", "Yes"}, {"no", "No"}};
  EXPECT_EQ(Params(buttons),
            (FormParams{{"Body", "Order 42\n\nConfirm?\n\n1. Yes\n2. No\n\nReply with a number"}}));
  InteractiveContent quick;
  quick.kind = InteractiveKind::kQuickReplies;
  quick.body = "Size?";
  quick.choices = {{"s", "Small"}, {"l", "Large"}};
  EXPECT_EQ(Params(quick), (FormParams{{"Body", "Size?\n\n1. Small\n2. Large"}}));
}

TEST(TwilioSendTest, DegradesListsAndCarouselsToText) {
  InteractiveContent list;
  list.kind = InteractiveKind::kList;
  list.body = "Pick a slot";
  list.list.button = "Slots";
  list.list.sections = {{"Monday", {{"m9", "9:00", "morning"}, {"m14", "14:00", ""}}},
                        {"", {{"t9", "Tuesday 9:00", ""}}}};
  EXPECT_EQ(Params(list).at(0).second,
            "Pick a slot\n\nMonday\n1. 9:00 - morning\n2. 14:00\n3. Tuesday 9:00");

  InteractiveContent carousel;
  carousel.kind = InteractiveKind::kCarousel;
  carousel.cards = {{"Red shoe", "$40", "https://img/1", {{"buy_red", "Buy"}}},
                    {"Blue shoe", "", "", {{"buy_blue", "Buy"}, {"info_blue", "Details"}}}};
  EXPECT_EQ(Params(carousel).at(0).second,
            "Red shoe\n$40\n1. Buy\n\nBlue shoe\n2. Buy\n3. Details");
}

TEST(TwilioSendTest, DegradesLocationAndContactsToText) {
  LocationContent location{52.5, 4.25, "Office", "Dam 1"};
  EXPECT_EQ(Params(location).at(0).second,
            "Office\nDam 1\n52.5, 4.25\nhttps://maps.google.com/?q=52.5,4.25");
  ContactContent contacts;
  ContactCard card;
  card.name.formatted = "Ana Lima";
  card.phones = {{"+3161234", "mobile"}};
  card.emails = {{"ana@example.com", ""}};
  contacts.contacts = {card};
  EXPECT_EQ(Params(contacts).at(0).second, "Ana Lima\n+3161234 (mobile)\nana@example.com");
}

TEST(TwilioSendTest, SendsContentApiTemplatesOnly) {
  TemplateContent tmpl;
  tmpl.name = "HXb5b62575e6e4ff6129ad7c8efe1f983e";
  tmpl.language = "en";
  tmpl.components = {{"header", {{"text", "ignored"}}},
                     {"body", {{"text", "Ana"}, {"text", "12 \"May\""}}}};
  EXPECT_EQ(Params(tmpl), (FormParams{{"ContentSid", "HXb5b62575e6e4ff6129ad7c8efe1f983e"},
                                      {"ContentVariables", R"({"1":"Ana","2":"12 \"May\""})"}}));
  tmpl.name = "order_update";
  EXPECT_EQ(Refusal(tmpl).error.code, "unsupported_content");
  EXPECT_EQ(Refusal(ReactionContent{"👍", std::nullopt, "SM1"}).error.code, "unsupported_content");
}

TEST(TwilioSendTest, RefusesWithoutCredentials) {
  ConnectionContext c = Connection();
  c.credentials.clear();
  Rendered rendered = RenderSend(Request(TextContent{"Hi"}), c, "");
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(rendered));
  EXPECT_EQ(std::get<SendOutcome>(rendered).error.code, "connection_misconfigured");
}

TEST(TwilioSendTest, InterpretsSuccess) {
  http::ClientResponse response;
  response.status = 201;
  response.body = ReadFixture("twilio_send_response.json");
  SendOutcome outcome = InterpretSendResponse(response);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(outcome.provider_message_id, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

TEST(TwilioSendTest, InterpretsPermanentErrorsWithTwilioCodes) {
  http::ClientResponse response;
  response.status = 400;
  response.body = ReadFixture("twilio_error_response.json");
  SendOutcome outcome = InterpretSendResponse(response);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(outcome.error.code, "twilio_20001");
  EXPECT_EQ(outcome.error.message, "Bad request");

  response.body =
      R"({"code":21211,"message":"The 'To' number is not a valid phone number.","status":400})";
  EXPECT_EQ(InterpretSendResponse(response).error.code, "twilio_21211");

  response.status = 404;
  response.body = "<html>not json</html>";
  outcome = InterpretSendResponse(response);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(outcome.error.code, "http_404");
}

TEST(TwilioSendTest, RetriesRateLimitsAndServerErrors) {
  http::ClientResponse response;
  response.status = 429;
  response.headers = {{"retry-after", "7"}};
  response.body = R"({"code":20429,"message":"Too Many Requests","status":429})";
  SendOutcome outcome = InterpretSendResponse(response);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "twilio_20429");
  EXPECT_EQ(outcome.retry_after, Millis(7000));

  response.headers.clear();
  EXPECT_EQ(InterpretSendResponse(response).retry_after, Millis(0));  // backoff applies

  response.status = 503;
  response.body = "";
  outcome = InterpretSendResponse(response);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "http_503");
}

}  // namespace
}  // namespace parley::channels::twilio

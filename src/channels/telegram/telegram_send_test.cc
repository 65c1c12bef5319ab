#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "channels/telegram/telegram_adapter.h"

namespace parley::channels::telegram {
namespace {

namespace json = boost::json;

Attachment Linked(std::string url, std::string mime_type) {
  Attachment a;
  a.url = std::move(url);
  a.mime_type = std::move(mime_type);
  return a;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

OutboundRequest Request(Content content, std::string reply_to = "") {
  OutboundRequest r;
  r.message.content = std::move(content);
  r.contact_id = "5000000000";
  r.reply_to_provider_id = std::move(reply_to);
  return r;
}

// The call for `content` as {"method":…,"params":…}, for exact comparison.
json::value Call(Content content, std::string reply_to = "") {
  auto rendered = RenderCall(Request(std::move(content), std::move(reply_to)));
  if (auto* failed = std::get_if<SendOutcome>(&rendered)) {
    ADD_FAILURE() << failed->error.code << ": " << failed->error.message;
    return nullptr;
  }
  const ApiCall& call = std::get<ApiCall>(rendered);
  return json::object{{"method", call.method}, {"params", call.params}};
}

SendOutcome Refusal(Content content) {
  auto rendered = RenderCall(Request(std::move(content)));
  if (!std::holds_alternative<SendOutcome>(rendered)) {
    ADD_FAILURE() << "rendered instead of refusing";
    return {};
  }
  return std::get<SendOutcome>(rendered);
}

TEST(TelegramSendTest, RendersTextWithAReply) {
  EXPECT_EQ(Call(TextContent{"Hello"}, "5000000000:17"), json::parse(R"({"method":"sendMessage",
    "params":{"chat_id":5000000000,"text":"Hello",
              "reply_parameters":{"message_id":17,"allow_sending_without_reply":true}}})"));
  // A reply in another chat, or an id of another scheme, is left out.
  EXPECT_EQ(Call(TextContent{"Hi"}, "42:17"),
            json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,"text":"Hi"}})"));
  EXPECT_EQ(Call(TextContent{"Hi"}, "cbq:99"),
            json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,"text":"Hi"}})"));
}

TEST(TelegramSendTest, RefusesTooLongTextCountingUtf16Units) {
  std::string emoji;  // U+1F600 is two UTF-16 units
  for (size_t i = 0; i < kMaxTextUnits / 2; ++i) emoji += "\xF0\x9F\x98\x80";
  EXPECT_EQ(Call(TextContent{emoji}).at("params").at("text"), emoji.c_str());
  EXPECT_EQ(Refusal(TextContent{emoji + "x"}).error.code, "too_long");
}

TEST(TelegramSendTest, RefusesAnUnusableRecipient) {
  OutboundRequest r = Request(TextContent{"Hi"});
  r.contact_id = "@channel";
  auto rendered = RenderCall(r);
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(rendered));
  EXPECT_EQ(std::get<SendOutcome>(rendered).error.code, "invalid_recipient");
}

TEST(TelegramSendTest, RendersButtonsAndQuickRepliesAsAnInlineKeyboard) {
  InteractiveContent buttons;
  buttons.kind = InteractiveKind::kButtons;
  buttons.header = "Order 42";
  buttons.body = "Confirm?";
  buttons.footer = "Thanks";
  buttons.choices = {{"yes", "Yes"}, {"no", "No"}};
  EXPECT_EQ(Call(buttons), json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,
    "text":"Order 42\n\nConfirm?\n\nThanks",
    "reply_markup":{"inline_keyboard":[[{"text":"Yes","callback_data":"yes"}],
                                       [{"text":"No","callback_data":"no"}]]}}})"));
  buttons.kind = InteractiveKind::kQuickReplies;
  EXPECT_EQ(Call(buttons).at("params").at("reply_markup").at("inline_keyboard").as_array().size(),
            2u);
  buttons.choices[1].id = std::string(kMaxCallbackDataBytes + 1, 'x');
  EXPECT_EQ(Refusal(buttons).error.code, "payload_too_long");
  buttons.choices[1].id = std::string(kMaxCallbackDataBytes, 'x');
  EXPECT_TRUE(std::holds_alternative<ApiCall>(RenderCall(Request(buttons))));
}

TEST(TelegramSendTest, RendersAListAsKeyboardRowsWithDescriptionsInTheText) {
  InteractiveContent list;
  list.kind = InteractiveKind::kList;
  list.body = "Pick a slot";
  list.list.button = "Slots";
  list.list.sections = {{"Monday", {{"m9", "9:00", "morning"}, {"m14", "14:00", ""}}},
                        {"", {{"t9", "Tue 9:00", ""}}}};
  EXPECT_EQ(Call(list), json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,
    "text":"Pick a slot\n\nMonday\n9:00: morning",
    "reply_markup":{"inline_keyboard":[[{"text":"9:00","callback_data":"m9"}],
                                       [{"text":"14:00","callback_data":"m14"}],
                                       [{"text":"Tue 9:00","callback_data":"t9"}]]}}})"));
}

TEST(TelegramSendTest, RendersACarouselAsOneMessage) {
  InteractiveContent carousel;
  carousel.kind = InteractiveKind::kCarousel;
  carousel.cards = {{"Red shoe", "$40", "https://img/1", {{"buy_red", "Buy"}}},
                    {"Blue shoe", "", "", {{"buy_blue", "Buy"}}}};
  EXPECT_EQ(Call(carousel), json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,
    "text":"Red shoe\n$40\n\nBlue shoe",
    "reply_markup":{"inline_keyboard":[[{"text":"Red shoe – Buy","callback_data":"buy_red"}],
                                       [{"text":"Blue shoe – Buy","callback_data":"buy_blue"}]]}}})"));
}

TEST(TelegramSendTest, RendersMediaByKind) {
  MediaContent photo;
  photo.kind = MediaKind::kImage;
  photo.caption = "Look";
  photo.attachments = {Linked("https://p.example/a/1", "image/png")};
  EXPECT_EQ(Call(photo), json::parse(R"({"method":"sendPhoto","params":{"chat_id":5000000000,
    "photo":"https://p.example/a/1","caption":"Look"}})"));
  MediaContent doc = photo;
  doc.kind = MediaKind::kFile;
  doc.caption = "";
  EXPECT_EQ(Call(doc).at("method"), "sendDocument");
  EXPECT_EQ(Call(doc).at("params").at("document"), "https://p.example/a/1");
  MediaContent voice = doc;
  voice.kind = MediaKind::kAudio;
  voice.attachments[0].mime_type = "audio/ogg";
  EXPECT_EQ(Call(voice).at("method"), "sendVoice");
  voice.attachments[0].mime_type = "audio/mpeg";
  EXPECT_EQ(Call(voice).at("method"), "sendAudio");
  MediaContent video = doc;
  video.kind = MediaKind::kVideo;
  EXPECT_EQ(Call(video).at("method"), "sendVideo");
  MediaContent sticker = doc;
  sticker.kind = MediaKind::kSticker;
  EXPECT_EQ(Call(sticker).at("method"), "sendSticker");
  sticker.caption = "no";
  EXPECT_EQ(Refusal(sticker).error.code, "unsupported_content");

  MediaContent album = photo;
  album.attachments.push_back(Linked("https://p.example/a/2", "image/png"));
  EXPECT_EQ(Call(album), json::parse(R"({"method":"sendMediaGroup","params":{"chat_id":5000000000,
    "media":[{"type":"photo","media":"https://p.example/a/1","caption":"Look"},
             {"type":"photo","media":"https://p.example/a/2"}]}})"));

  photo.caption = std::string(kMaxCaptionUnits + 1, 'c');
  EXPECT_EQ(Refusal(photo).error.code, "too_long");
  photo.caption = "";
  photo.attachments[0].url = "/v1/attachments/att_1/content";
  EXPECT_EQ(Refusal(photo).error.code, "public_url_required");
}

TEST(TelegramSendTest, RendersLocationVenueAndContacts) {
  EXPECT_EQ(Call(LocationContent{52.5, 4.25, "", ""}),
            json::parse(R"({"method":"sendLocation","params":{"chat_id":5000000000,
              "latitude":52.5,"longitude":4.25}})"));
  EXPECT_EQ(Call(LocationContent{52.5, 4.25, "Office", "Dam 1"}),
            json::parse(R"({"method":"sendVenue","params":{"chat_id":5000000000,
              "latitude":52.5,"longitude":4.25,"title":"Office","address":"Dam 1"}})"));
  ContactCard ana;
  ana.name = {"Ana Lima", "Ana", "Lima"};
  ana.phones = {{"+3161234", "mobile"}};
  EXPECT_EQ(Call(ContactContent{{ana}}),
            json::parse(R"({"method":"sendContact","params":{"chat_id":5000000000,
              "phone_number":"+3161234","first_name":"Ana","last_name":"Lima"}})"));
  ContactCard bo;
  bo.name.formatted = "Bo";
  bo.emails = {{"bo@example.com", ""}};
  EXPECT_EQ(Call(ContactContent{{ana, bo}}),
            json::parse(R"({"method":"sendMessage","params":{"chat_id":5000000000,
              "text":"Ana Lima\n+3161234\n\nBo\nbo@example.com"}})"));
}

TEST(TelegramSendTest, RefusesTemplatesAndReactions) {
  EXPECT_EQ(Refusal(TemplateContent{"order_update", "en", {}}).error.code, "unsupported_content");
  EXPECT_EQ(Refusal(ReactionContent{"👍", std::nullopt, "1:2"}).error.code, "unsupported_content");
}

TEST(TelegramSendTest, InterpretsSuccess) {
  http::ClientResponse response;
  response.status = 200;
  response.body =
      R"({"ok":true,"result":{"message_id":77,"chat":{"id":5000000000,"type":"private"},"date":1,"text":"Hi"}})";
  SendOutcome outcome = InterpretSendResponse(response, 5000000000);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(outcome.provider_message_id, "5000000000:77");
  response.body =
      R"({"ok":true,"result":[{"message_id":80,"chat":{"id":5,"type":"private"}},{"message_id":81}]})";
  EXPECT_EQ(InterpretSendResponse(response, 5).provider_message_id, "5:80");
}

TEST(TelegramSendTest, InterpretsRateLimits) {
  http::ClientResponse response;
  response.status = 429;
  response.body =
      R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 12","parameters":{"retry_after":12}})";
  SendOutcome outcome = InterpretSendResponse(response, 1);
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "telegram_429");
  EXPECT_EQ(outcome.retry_after, Millis(12000));
  response.status = 400;  // retry_after decides, whatever the status
  EXPECT_EQ(InterpretSendResponse(response, 1).kind, SendOutcome::Kind::kRetry);
}

TEST(TelegramSendTest, InterpretsPermanentAndServerErrors) {
  http::ClientResponse response;
  response.status = 403;
  response.body =
      R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})";
  SendOutcome blocked = InterpretSendResponse(response, 1);
  EXPECT_EQ(blocked.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(blocked.error.code, "telegram_403");
  EXPECT_EQ(blocked.error.message, "Forbidden: bot was blocked by the user");

  response.status = 409;
  response.body = ReadFixture("telegram_error_409.json");
  SendOutcome conflict = InterpretSendResponse(response, 1);
  EXPECT_EQ(conflict.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(conflict.error.code, "telegram_409");
  EXPECT_NE(conflict.error.message.find("Conflict"), std::string::npos);

  response.status = 400;
  response.body =
      R"({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}})";
  SendOutcome migrated = InterpretSendResponse(response, 1);
  EXPECT_EQ(migrated.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_NE(migrated.error.message.find("migrate_to_chat_id"), std::string::npos);
  EXPECT_EQ(migrated.error.message.find("1234567890"), std::string::npos);

  response.status = 502;
  response.body = "<html>Bad Gateway</html>";
  SendOutcome gateway = InterpretSendResponse(response, 1);
  EXPECT_EQ(gateway.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(gateway.error.code, "http_502");
}

}  // namespace
}  // namespace parley::channels::telegram

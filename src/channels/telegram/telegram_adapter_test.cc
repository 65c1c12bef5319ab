#include "channels/telegram/telegram_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace parley::channels::telegram {
namespace {

namespace json = boost::json;

constexpr char kToken[] = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-x";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

http::Request JsonRequest(std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/v1/webhooks/con_1";
  r.headers.emplace_back("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

class TelegramAdapterTest : public ::testing::Test {
 protected:
  TelegramAdapterTest() : adapter_(deps_) {
    connection_.kind = "telegram";
    connection_.settings = {{"api_base_url", "https://api.telegram.org"}};
    connection_.credentials = {{"bot_token", kToken}, {"secret_token", "s3cr3t_T0ken-value"}};
  }

  InboundBatch Parse(const std::string& body) {
    auto batch = adapter_.ParseWebhook(JsonRequest(body));
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  AdapterDeps deps_;
  TelegramAdapter adapter_;
  ConnectionContext connection_;
};

TEST_F(TelegramAdapterTest, ParsesATextMessage) {
  InboundBatch batch = Parse(ReadFixture("telegram_text_modern.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "218485655:6557");
  EXPECT_EQ(m.contact_id, "218485655");
  EXPECT_EQ(m.contact_name, "Waffle");
  EXPECT_EQ(m.client_identity, "");
  ASSERT_TRUE(m.sent_at.has_value());
  EXPECT_EQ(ToUnixSeconds(*m.sent_at), 1569518342);
  EXPECT_EQ(std::get<TextContent>(m.content).text, "hello there");
  EXPECT_TRUE(batch.ack_data.empty());
}

TEST_F(TelegramAdapterTest, ParsesAPhotoTakingTheLargestSize) {
  InboundBatch batch = Parse(ReadFixture("telegram_photo.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "27433968:3460");
  EXPECT_EQ(m.contact_id, "27433968");
  EXPECT_EQ(m.contact_name, "Crax | rats addict");
  EXPECT_EQ(ToUnixSeconds(*m.sent_at), 1655671349);
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kImage);
  EXPECT_EQ(media.caption, "www.example.com");
  ASSERT_EQ(media.attachments.size(), 1u);
  EXPECT_EQ(media.attachments[0].mime_type, "image/jpeg");
  ASSERT_EQ(m.media.size(), 1u);
  EXPECT_EQ(m.media[0].ref,
            "AgACAgQAAxkBAAINhGKvijUVSn2i3980bQIIc1fqWGNCAAJpvDEbEmaBUfuA43fR-BnlAQADAgADeQADJAQ");
  EXPECT_EQ(m.media[0].mime_type, "image/jpeg");
}

TEST_F(TelegramAdapterTest, APhotoSizeWithANegativeWidthDoesNotBreakTheChoice) {
  // Found by the fuzz target: every size's area below zero left no size chosen (UBSan:
  // reference to null). Negative sizes count as none; the file is still the photo's.
  std::string body = R"({"update_id": 10001, "message": {"message_id": 3460,
    "from": {"id": 27468, "is_bot": false, "first_name": "Crax"},
    "chat": {"id": 27433968, "type": "private"}, "date": 1655671349,
    "photo": [{"file_id": "AgA80", "width": -1280, "height": 1280}]}})";
  InboundBatch batch = Parse(body);
  ASSERT_EQ(batch.messages.size(), 1u);
  ASSERT_EQ(batch.messages[0].media.size(), 1u);
  EXPECT_EQ(batch.messages[0].media[0].ref, "AgA80");
  auto empty = adapter_.ParseWebhook(JsonRequest(R"({"update_id": 10002, "message": {
    "message_id": 1, "chat": {"id": 1, "type": "private"}, "date": 1655671349,
    "photo": []}})"));
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TelegramAdapterTest, ParsesTheOldCallbackQueryExample) {
  InboundBatch batch = Parse(ReadFixture("telegram_callback_query.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "cbq:4382bfdwdsb323b2d9");
  EXPECT_EQ(m.contact_id, "1111111");  // no message: the user's private chat
  EXPECT_EQ(m.contact_name, "Test Firstname Test Lastname");
  EXPECT_EQ(m.reply_to_provider_id, "");
  const auto& reply = std::get<ReplyContent>(m.content);
  EXPECT_EQ(reply.source, ReplySource::kButton);
  EXPECT_EQ(reply.payload, "Data from button callback");
  EXPECT_EQ(reply.title, "Data from button callback");  // the button is not in the update
  EXPECT_EQ(batch.ack_data, "4382bfdwdsb323b2d9");
  auto ack = adapter_.Acknowledgement(batch);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->status, 200);
  EXPECT_EQ(
      json::parse(ack->body),
      json::parse(R"({"method":"answerCallbackQuery","callback_query_id":"4382bfdwdsb323b2d9"})"));
}

TEST_F(TelegramAdapterTest, FindsThePressedButtonsTitle) {
  InboundBatch batch = Parse(R"({"update_id":5,"callback_query":{"id":"77","from":{"id":42,
    "is_bot":false,"first_name":"Ana"},"chat_instance":"1","data":"size_l",
    "message":{"message_id":9,"chat":{"id":42,"type":"private"},"date":1700000000,"text":"Size?",
    "reply_markup":{"inline_keyboard":[[{"text":"Small","callback_data":"size_s"}],
                                       [{"text":"Large","callback_data":"size_l"}]]}}}})");
  const InboundMessage& m = batch.messages.at(0);
  EXPECT_EQ(m.reply_to_provider_id, "42:9");
  EXPECT_EQ(std::get<ReplyContent>(m.content).title, "Large");
  EXPECT_FALSE(m.sent_at.has_value());
}

TEST_F(TelegramAdapterTest, AcknowledgesOtherUpdatesWithAnEmptyObject) {
  auto ack = adapter_.Acknowledgement(InboundBatch{});
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->status, 200);
  EXPECT_EQ(ack->body, "{}");
}

TEST_F(TelegramAdapterTest, MapsEveryMessageKind) {
  auto parse = [&](std::string fields) {
    InboundBatch b = Parse(R"({"update_id":1,"message":{"message_id":3,"date":1700000000,)"
                           R"("from":{"id":5000000000,"first_name":"Bo","last_name":"Li"},)"
                           R"("chat":{"id":5000000000,"type":"private"},)" +
                           fields + "}}");
    EXPECT_EQ(b.messages.size(), 1u) << fields;
    return b.messages.empty() ? InboundMessage{} : b.messages[0];
  };
  InboundMessage doc = parse(
      R"("document":{"file_id":"DOC-1","file_unique_id":"u","file_name":"a.pdf","mime_type":"application/pdf"},"caption":"invoice")");
  EXPECT_EQ(doc.contact_id, "5000000000");  // beyond 2^31
  EXPECT_EQ(doc.contact_name, "Bo Li");
  const auto& d = std::get<MediaContent>(doc.content);
  EXPECT_EQ(d.kind, MediaKind::kFile);
  EXPECT_EQ(d.caption, "invoice");
  EXPECT_EQ(d.attachments.at(0).filename, "a.pdf");
  EXPECT_EQ(d.attachments.at(0).mime_type, "application/pdf");
  EXPECT_EQ(doc.media.at(0).ref, "DOC-1");
  EXPECT_EQ(doc.media.at(0).filename, "a.pdf");

  InboundMessage voice = parse(R"("voice":{"file_id":"V1","file_unique_id":"u","duration":3})");
  EXPECT_EQ(std::get<MediaContent>(voice.content).kind, MediaKind::kAudio);
  EXPECT_EQ(voice.media.at(0).mime_type, "audio/ogg");

  InboundMessage audio =
      parse(R"("audio":{"file_id":"A1","file_unique_id":"u","mime_type":"audio/mp4"})");
  EXPECT_EQ(audio.media.at(0).mime_type, "audio/mp4");

  InboundMessage video = parse(R"("video":{"file_id":"VI1","file_unique_id":"u"})");
  EXPECT_EQ(std::get<MediaContent>(video.content).kind, MediaKind::kVideo);
  EXPECT_EQ(video.media.at(0).mime_type, "video/mp4");

  InboundMessage animation = parse(
      R"("animation":{"file_id":"AN1","file_unique_id":"u"},"document":{"file_id":"AN1","file_unique_id":"u"})");
  EXPECT_EQ(std::get<MediaContent>(animation.content).kind, MediaKind::kVideo);

  InboundMessage sticker =
      parse(R"("sticker":{"file_id":"S1","file_unique_id":"u","is_animated":true})");
  EXPECT_EQ(std::get<MediaContent>(sticker.content).kind, MediaKind::kSticker);
  EXPECT_EQ(sticker.media.at(0).mime_type, "application/x-tgsticker");

  InboundMessage location = parse(R"("location":{"latitude":52.37,"longitude":4.9})");
  EXPECT_DOUBLE_EQ(std::get<LocationContent>(location.content).latitude, 52.37);

  InboundMessage venue = parse(
      R"("venue":{"location":{"latitude":1.5,"longitude":-2},"title":"Cafe","address":"Main St 1"},"location":{"latitude":1.5,"longitude":-2})");
  const auto& v = std::get<LocationContent>(venue.content);
  EXPECT_EQ(v.name, "Cafe");
  EXPECT_EQ(v.address, "Main St 1");
  EXPECT_DOUBLE_EQ(v.longitude, -2);

  InboundMessage contact = parse(
      R"("contact":{"phone_number":"+3161234","first_name":"Ana","last_name":"Lima","user_id":7})");
  const auto& c = std::get<ContactContent>(contact.content);
  EXPECT_EQ(c.contacts.at(0).name.formatted, "Ana Lima");
  EXPECT_EQ(c.contacts.at(0).phones.at(0).number, "+3161234");

  InboundMessage poll = parse(R"("poll":{"id":"1","question":"?","options":[]})");
  EXPECT_EQ(std::get<UnsupportedContent>(poll.content).provider_type, "poll");

  InboundMessage reply = parse(
      R"("text":"yes","reply_to_message":{"message_id":2,"chat":{"id":5000000000,"type":"private"},"date":1})");
  EXPECT_EQ(reply.reply_to_provider_id, "5000000000:2");
}

TEST_F(TelegramAdapterTest, EditsBecomeNewMessagesDedupedByEditDate) {
  InboundBatch batch = Parse(R"({"update_id":2,"edited_message":{"message_id":3,"date":1700000000,
    "edit_date":1700000100,"from":{"id":42,"first_name":"Ana"},"chat":{"id":42,"type":"private"},
    "text":"fixed typo"}})");
  const InboundMessage& m = batch.messages.at(0);
  EXPECT_EQ(m.provider_message_id, "42:3:e1700000100");
  EXPECT_EQ(ToUnixSeconds(*m.sent_at), 1700000100);
  EXPECT_EQ(std::get<TextContent>(m.content).text, "fixed typo");
}

TEST_F(TelegramAdapterTest, GroupMessagesBelongToTheGroup) {
  InboundBatch batch = Parse(R"({"update_id":2,"message":{"message_id":3,"date":1700000000,
    "from":{"id":42,"first_name":"Ana"},"chat":{"id":-1001234567890,"type":"supergroup",
    "title":"Support group"},"text":"hi all"}})");
  const InboundMessage& m = batch.messages.at(0);
  EXPECT_EQ(m.contact_id, "-1001234567890");
  EXPECT_EQ(m.contact_name, "Support group");
  EXPECT_EQ(m.provider_message_id, "-1001234567890:3");
}

TEST_F(TelegramAdapterTest, IgnoresChannelPostsServiceMessagesAndOtherUpdates) {
  for (
      const char* body : {
          R"({"update_id":1,"channel_post":{"message_id":1,"chat":{"id":-100,"type":"channel"},"date":1,"text":"news"}})",
          R"({"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"}}})",
          R"({"update_id":1,"message":{"message_id":1,"chat":{"id":-5,"type":"group"},"date":1,"new_chat_members":[]}})",
          R"({"update_id":1})",
      }) {
    InboundBatch batch = Parse(body);
    EXPECT_EQ(batch.ignored, 1) << body;
    EXPECT_TRUE(batch.messages.empty()) << body;
  }
}

TEST_F(TelegramAdapterTest, RejectsMalformedUpdatesNamingTheField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"message":{}})", "update_id"},
      {R"({"update_id":"1"})", "update_id"},
      {R"({"update_id":1,"message":[]})", "message"},
      {R"({"update_id":1,"message":{"chat":{"id":1},"text":"x"}})", "message.message_id"},
      {R"({"update_id":1,"message":{"message_id":1,"text":"x"}})", "message.chat"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1.5},"text":"x"}})",
       "message.chat.id"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":18446744073709551615},"text":"x"}})",
       "message.chat.id"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"text":5}})", "message.text"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"photo":[]}})", "message.photo"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"document":{"file_id":"../x"}}})",
       "message.document.file_id"},
      {R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"location":{"latitude":99,"longitude":0}}})",
       "message.location.latitude"},
      {R"({"update_id":1,"callback_query":{"id":"1","data":"x"}})", "callback_query.from"},
      {R"({"update_id":1,"callback_query":{"from":{"id":1}}})", "callback_query.id"},
      {R"([1])", "body"},
      {R"({"update_id":)", ""},
  };
  for (const Case& c : cases) {
    auto batch = adapter_.ParseWebhook(JsonRequest(c.body));
    ASSERT_FALSE(batch.ok()) << c.body;
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(batch.status().message().find(c.field), std::string::npos)
        << c.body << " -> " << batch.status().message();
  }
  std::string deep(100, '[');
  EXPECT_FALSE(adapter_.ParseWebhook(JsonRequest(deep)).ok());
}

TEST_F(TelegramAdapterTest, SurvivesTruncatedAndMutatedFixtures) {
  for (const char* name :
       {"telegram_text_modern.json", "telegram_photo.json", "telegram_callback_query.json"}) {
    std::string body = ReadFixture(name);
    for (size_t i = 0; i < body.size(); ++i) {
      auto truncated = adapter_.ParseWebhook(JsonRequest(body.substr(0, i)));
      if (!truncated.ok()) {
        EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
      }
      for (char c : {'0', '"', '-', '9', '{', '\xff'}) {
        std::string mutated = body;
        mutated[i] = c;
        auto parsed = adapter_.ParseWebhook(JsonRequest(mutated));
        if (!parsed.ok()) {
          EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
        }
      }
    }
  }
}

TEST_F(TelegramAdapterTest, VerifiesTheSecretToken) {
  http::Request r = JsonRequest("{}");
  EXPECT_EQ(adapter_.VerifyWebhook(r, connection_, {}).code(), StatusCode::kUnauthenticated);
  r.headers.emplace_back("x-telegram-bot-api-secret-token", "s3cr3t_T0ken-value");
  EXPECT_TRUE(adapter_.VerifyWebhook(r, connection_, {}).ok());
  r.headers.back().second = "s3cr3t_T0ken-valuf";
  EXPECT_EQ(adapter_.VerifyWebhook(r, connection_, {}).code(), StatusCode::kUnauthenticated);
  r.headers.back().second = "s3cr3t_T0ken-value ";
  EXPECT_EQ(adapter_.VerifyWebhook(r, connection_, {}).code(), StatusCode::kUnauthenticated);
  r.headers.back().second = "";
  EXPECT_EQ(adapter_.VerifyWebhook(r, connection_, {}).code(), StatusCode::kUnauthenticated);
  ConnectionContext no_secret = connection_;
  no_secret.credentials.erase("secret_token");
  EXPECT_EQ(adapter_.VerifyWebhook(r, no_secret, {}).code(), StatusCode::kUnauthenticated);
}

TEST_F(TelegramAdapterTest, PrepareConnectionGeneratesTheSecretToken) {
  json::object settings{{"bot_id", "123456789"}};
  json::object credentials{{"bot_token", kToken}};
  auto shown = adapter_.PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(settings.at("api_base_url"), "https://api.telegram.org");
  std::string secret(credentials.at("secret_token").as_string());
  EXPECT_EQ(secret.size(), kGeneratedSecretChars);
  EXPECT_EQ(
      secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
      std::string::npos);
  EXPECT_EQ(shown->at("secret_token"), credentials.at("secret_token"));

  json::object given{{"bot_token", kToken}, {"secret_token", "mine"}};
  json::object plain;
  auto none_shown = adapter_.PrepareConnection(plain, given);
  ASSERT_TRUE(none_shown.ok());
  EXPECT_TRUE(none_shown->empty());
  EXPECT_EQ(given.at("secret_token"), "mine");
}

TEST_F(TelegramAdapterTest, PrepareConnectionRejectsBadInput) {
  struct Case {
    json::object settings, credentials;
    const char* field;
  } cases[] = {
      {{}, {}, "credentials.bot_token"},
      {{}, {{"bot_token", "123:short"}}, "credentials.bot_token"},
      {{}, {{"bot_token", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx"}}, "credentials.bot_token"},
      {{}, {{"bot_token", kToken}, {"secret_token", "has space"}}, "credentials.secret_token"},
      {{},
       {{"bot_token", kToken}, {"secret_token", std::string(257, 'a')}},
       "credentials.secret_token"},
      {{}, {{"bot_token", kToken}, {"webhook_secret", "x"}}, "credentials.webhook_secret"},
      {{{"bot_id", "999"}}, {{"bot_token", kToken}}, "settings.bot_id"},
      {{{"bot_id", true}}, {{"bot_token", kToken}}, "settings.bot_id"},
      {{{"api_base_url", "https://api.telegram.org/"}},
       {{"bot_token", kToken}},
       "settings.api_base_url"},
      {{{"name", "x"}}, {{"bot_token", kToken}}, "settings.name"},
  };
  for (Case& c : cases) {
    auto result = adapter_.PrepareConnection(c.settings, c.credentials);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.field), std::string::npos)
        << result.status().message();
    EXPECT_EQ(result.status().message().find("AAHdq"), std::string::npos);  // never the token
  }
}

}  // namespace
}  // namespace parley::channels::telegram

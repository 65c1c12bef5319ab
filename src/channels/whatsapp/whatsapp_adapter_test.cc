#include "channels/whatsapp/whatsapp_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "crypto/encoding.h"
#include "crypto/hash.h"

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

json::object SignatureVector(size_t index) {
  return json::parse(Fixture("signature_vectors.json")).at("vectors").at(index).as_object();
}

http::Request Body(std::string body) {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  return r;
}

http::Request SignedBody(std::string body, std::string_view secret) {
  http::Request r = Body(std::move(body));
  r.headers.emplace_back("x-hub-signature-256",
                         "sha256=" + crypto::HexEncode(crypto::HmacSha256(secret, r.body)));
  return r;
}

// One change value in Meta's envelope.
std::string Envelope(std::string_view value) {
  return std::string(R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)") +
         R"({"field":"messages","value":)" + std::string(value) + "}]}]}";
}

std::string OneMessage(std::string_view message) {
  return Envelope(
      std::string(
          R"({"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},)") +
      R"("contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],"messages":[)" +
      std::string(message) + "]}");
}

class WhatsAppAdapterTest : public ::testing::Test {
 protected:
  WhatsAppAdapterTest() : clock_(FromUnixMillis(1'763'708'000'000)) {
    deps_.clock = &clock_;
    adapter_ = std::make_unique<WhatsAppAdapter>(deps_);
    connection_.kind = "whatsapp";
    connection_.settings["phone_number_id"] = "106540352242922";
    connection_.credentials["app_secret"] = "1222e786b144d0e85b9f365372d93676";
    connection_.credentials["verify_token"] = "meatyhamhock";
    connection_.credentials["access_token"] = "EAAG-token";
  }

  InboundBatch Parse(const std::string& body) {
    auto batch = adapter_->ParseWebhook(Body(body));
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  InboundMessage ParseOne(const std::string& message_json) {
    InboundBatch batch = Parse(OneMessage(message_json));
    EXPECT_EQ(batch.messages.size(), 1u);
    return batch.messages.empty() ? InboundMessage{} : batch.messages[0];
  }

  FakeClock clock_;
  AdapterDeps deps_;
  std::unique_ptr<WhatsAppAdapter> adapter_;
  ConnectionContext connection_;
};

// ---- Fixtures ------------------------------------------------------------------------------

TEST_F(WhatsAppAdapterTest, ParsesTextFixture) {
  InboundBatch batch = Parse(Fixture("whatsapp_text.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_TRUE(batch.statuses.empty());
  EXPECT_EQ(batch.ignored, 0);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
  EXPECT_EQ(m.contact_id, "16505551234");
  EXPECT_EQ(m.contact_name, "Sheena Nelson");
  EXPECT_EQ(m.client_identity, "106540352242922");
  ASSERT_TRUE(m.sent_at.has_value());
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1749416383000);
  EXPECT_TRUE(m.reply_to_provider_id.empty());
  EXPECT_TRUE(m.media.empty());
  ASSERT_TRUE(std::holds_alternative<TextContent>(m.content));
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Does it come in another color?");
}

TEST_F(WhatsAppAdapterTest, ParsesSignedTextFixture) {
  InboundBatch batch = Parse(Fixture("whatsapp_signed_text.raw.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id,
            "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA");
  EXPECT_EQ(m.contact_id, "972544401243");
  EXPECT_EQ(m.contact_name, "PyWa Tests");
  EXPECT_EQ(m.client_identity, "277321005464405");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1730231903000);
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hey there! I am using PyWa.");
}

TEST_F(WhatsAppAdapterTest, ParsesImageFixtureWithAMediaRef) {
  InboundBatch batch = Parse(Fixture("whatsapp_image.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.contact_name, "Sheena Nelson");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1744344496000);
  ASSERT_TRUE(std::holds_alternative<MediaContent>(m.content));
  const MediaContent& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kImage);
  EXPECT_EQ(media.caption, "Taj Mahal");
  ASSERT_EQ(media.attachments.size(), 1u);
  EXPECT_EQ(media.attachments[0].mime_type, "image/jpeg");
  EXPECT_FALSE(media.attachments[0].id.has_value());
  EXPECT_TRUE(media.attachments[0].url.empty());
  // The base64 digest of the webhook, as the common format's hex.
  EXPECT_EQ(
      media.attachments[0].sha256,
      crypto::HexEncode(*crypto::Base64Decode("SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=")));
  ASSERT_EQ(m.media.size(), 1u);
  EXPECT_EQ(m.media[0].ref, "1003383421387256");
  EXPECT_EQ(m.media[0].mime_type, "image/jpeg");
  EXPECT_EQ(m.media[0].sha256, "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=");
}

TEST_F(WhatsAppAdapterTest, ParsesLocationFixture) {
  InboundBatch batch = Parse(Fixture("whatsapp_location.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=");
  ASSERT_TRUE(std::holds_alternative<LocationContent>(m.content));
  const LocationContent& l = std::get<LocationContent>(m.content);
  EXPECT_DOUBLE_EQ(l.latitude, 37.44221496582);
  EXPECT_DOUBLE_EQ(l.longitude, -122.16165924072);
  EXPECT_EQ(l.name, "Philz Coffee");
  EXPECT_EQ(l.address, "101 Forest Ave, Palo Alto, CA 94301");
}

TEST_F(WhatsAppAdapterTest, ParsesButtonReplyFixtureWithContext) {
  InboundBatch batch = Parse(Fixture("whatsapp_interactive_button_reply.json"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.reply_to_provider_id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA");
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1750025136000);
  ASSERT_TRUE(std::holds_alternative<ReplyContent>(m.content));
  const ReplyContent& r = std::get<ReplyContent>(m.content);
  EXPECT_EQ(r.source, ReplySource::kButton);
  EXPECT_EQ(r.title, "Cancel");
  EXPECT_EQ(r.payload, "cancel-button");
}

TEST_F(WhatsAppAdapterTest, ParsesSentStatusFixture) {
  InboundBatch batch = Parse(Fixture("whatsapp_status_sent.json"));
  EXPECT_TRUE(batch.messages.empty());
  ASSERT_EQ(batch.statuses.size(), 1u);
  const InboundStatus& s = batch.statuses[0];
  EXPECT_EQ(s.provider_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=");
  EXPECT_EQ(s.status, DeliveryStatus::kSent);
  EXPECT_EQ(ToUnixMillis(*s.at), 1750030073000);
  EXPECT_EQ(s.client_identity, "106540352242922");
  EXPECT_EQ(s.contact_id, "16505551234");
  EXPECT_FALSE(s.error.has_value());
  EXPECT_FALSE(s.message.has_value());
}

TEST_F(WhatsAppAdapterTest, ParsesDeliveredAndReadStatusFixtures) {
  InboundBatch delivered = Parse(Fixture("whatsapp_status_delivered.json"));
  ASSERT_EQ(delivered.statuses.size(), 1u);
  EXPECT_EQ(delivered.statuses[0].provider_message_id, "wamid.xyzxyz");
  EXPECT_EQ(delivered.statuses[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(ToUnixMillis(*delivered.statuses[0].at), 1698266945000);
  EXPECT_EQ(delivered.statuses[0].client_identity, "1122334455667");
  EXPECT_EQ(delivered.statuses[0].contact_id, "972987654321");
  // The contacts[] beside statuses names no message.
  EXPECT_TRUE(delivered.messages.empty());

  InboundBatch read = Parse(Fixture("whatsapp_status_read.json"));
  ASSERT_EQ(read.statuses.size(), 1u);
  EXPECT_EQ(read.statuses[0].status, DeliveryStatus::kRead);
  EXPECT_EQ(ToUnixMillis(*read.statuses[0].at), 1689380458000);
}

// ---- Shapes without a fixture file (from PROVIDERS.md §1a) ---------------------------------

TEST_F(WhatsAppAdapterTest, ParsesListReply) {
  InboundMessage m = ParseOne(
      R"({"context":{"from":"15550783881","id":"wamid.list"},"from":"16505551234","id":"wamid.1",)"
      R"("timestamp":"1750025136","type":"interactive","interactive":{"type":"list_reply",)"
      R"("list_reply":{"id":"priority-express","title":"Express","description":"Next day"}}})");
  EXPECT_EQ(m.reply_to_provider_id, "wamid.list");
  const ReplyContent& r = std::get<ReplyContent>(m.content);
  EXPECT_EQ(r.source, ReplySource::kList);
  EXPECT_EQ(r.title, "Express");
  EXPECT_EQ(r.payload, "priority-express");
}

TEST_F(WhatsAppAdapterTest, ParsesTemplateQuickReplyButton) {
  InboundMessage m = ParseOne(
      R"({"context":{"from":"15550783881","id":"wamid.tpl"},"from":"16505551234","id":"wamid.2",)"
      R"("timestamp":"1750025136","type":"button","button":{"payload":"STOP","text":"Stop promotions"}})");
  const ReplyContent& r = std::get<ReplyContent>(m.content);
  EXPECT_EQ(r.source, ReplySource::kQuickReply);
  EXPECT_EQ(r.title, "Stop promotions");
  EXPECT_EQ(r.payload, "STOP");
  EXPECT_EQ(m.reply_to_provider_id, "wamid.tpl");
}

TEST_F(WhatsAppAdapterTest, ParsesEveryMediaKind) {
  struct Case {
    const char* type;
    MediaKind kind;
  } cases[] = {{"image", MediaKind::kImage},
               {"audio", MediaKind::kAudio},
               {"video", MediaKind::kVideo},
               {"document", MediaKind::kFile},
               {"sticker", MediaKind::kSticker}};
  for (const Case& c : cases) {
    std::string type = c.type;
    InboundMessage m = ParseOne(
        R"({"from":"16505551234","id":"wamid.m","timestamp":"1","type":")" + type + R"(",")" +
        type +
        R"(":{"id":"987","mime_type":"application/pdf","sha256":"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF","filename":"menu.pdf","caption":"Our menu"}})");
    const MediaContent& media = std::get<MediaContent>(m.content);
    EXPECT_EQ(media.kind, c.kind) << type;
    EXPECT_EQ(media.caption, "Our menu");
    EXPECT_EQ(media.attachments[0].filename, "menu.pdf");
    EXPECT_EQ(media.attachments[0].sha256,
              "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    ASSERT_EQ(m.media.size(), 1u);
    EXPECT_EQ(m.media[0].ref, "987");
    EXPECT_EQ(m.media[0].filename, "menu.pdf");
  }
}

TEST_F(WhatsAppAdapterTest, ParsesReactionsAndTheirRemoval) {
  InboundMessage added =
      ParseOne(R"({"from":"16505551234","id":"wamid.r1","timestamp":"1","type":"reaction",)"
               R"("reaction":{"message_id":"wamid.target","emoji":"\ud83d\udc4d"}})");
  const ReactionContent& r = std::get<ReactionContent>(added.content);
  EXPECT_EQ(r.emoji, "\xF0\x9F\x91\x8D");
  EXPECT_EQ(r.target_provider_message_id, "wamid.target");
  InboundMessage removed =
      ParseOne(R"({"from":"16505551234","id":"wamid.r2","timestamp":"1","type":"reaction",)"
               R"("reaction":{"message_id":"wamid.target"}})");
  EXPECT_EQ(std::get<ReactionContent>(removed.content).emoji, "");
}

TEST_F(WhatsAppAdapterTest, ParsesSharedContacts) {
  InboundMessage m = ParseOne(
      R"({"from":"16505551234","id":"wamid.c","timestamp":"1","type":"contacts","contacts":[)"
      R"({"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara","last_name":"Johnson"},)"
      R"("phones":[{"phone":"+1 (940) 555-1234","wa_id":"19405551234","type":"HOME"},{"wa_id":"1555"}],)"
      R"("emails":[{"email":"bjohnson@example.com","type":"WORK"}]},)"
      R"({"name":{"first_name":"Ann","last_name":"Lee"}}, {"phones":[]}]})");
  const ContactContent& c = std::get<ContactContent>(m.content);
  ASSERT_EQ(c.contacts.size(), 2u);  // the third card has neither name nor phone
  EXPECT_EQ(c.contacts[0].name.formatted, "Barbara J. Johnson");
  EXPECT_EQ(c.contacts[0].name.first, "Barbara");
  ASSERT_EQ(c.contacts[0].phones.size(), 2u);
  EXPECT_EQ(c.contacts[0].phones[0].number, "+1 (940) 555-1234");
  EXPECT_EQ(c.contacts[0].phones[0].type, "home");
  EXPECT_EQ(c.contacts[0].phones[1].number, "1555");
  ASSERT_EQ(c.contacts[0].emails.size(), 1u);
  EXPECT_EQ(c.contacts[0].emails[0].address, "bjohnson@example.com");
  EXPECT_EQ(c.contacts[0].emails[0].type, "work");
  EXPECT_EQ(c.contacts[1].name.formatted, "Ann Lee");
}

TEST_F(WhatsAppAdapterTest, UnmappedTypesBecomeUnsupported) {
  for (std::string type : {"order", "system", "unsupported", "request_welcome"}) {
    InboundMessage m = ParseOne(R"({"from":"16505551234","id":"wamid.u","timestamp":"1","type":")" +
                                type + R"(",")" + type + R"(":{"whatever":1}})");
    ASSERT_TRUE(std::holds_alternative<UnsupportedContent>(m.content)) << type;
    EXPECT_EQ(std::get<UnsupportedContent>(m.content).provider_type, type);
  }
  InboundMessage flow =
      ParseOne(R"({"from":"16505551234","id":"wamid.f","timestamp":"1","type":"interactive",)"
               R"("interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}})");
  EXPECT_EQ(std::get<UnsupportedContent>(flow.content).provider_type, "interactive");
  EXPECT_EQ(std::get<UnsupportedContent>(flow.content).description, "interactive type nfm_reply");
}

TEST_F(WhatsAppAdapterTest, ParsesFailedAndPlayedStatuses) {
  InboundBatch batch = Parse(Envelope(
      R"({"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"statuses":[)"
      R"({"id":"wamid.a","status":"failed","timestamp":"1750030073","recipient_id":"16505551234",)"
      R"("errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.",)"
      R"("message":"Healthy ecosystem","error_data":{"details":"…"},"href":"https://x"}]},)"
      R"({"id":"wamid.b","status":"played","timestamp":"1750030074"},)"
      R"({"id":"wamid.c","status":"deleted","timestamp":"1750030075"}]})"));
  ASSERT_EQ(batch.statuses.size(), 2u);
  EXPECT_EQ(batch.statuses[0].status, DeliveryStatus::kFailed);
  ASSERT_TRUE(batch.statuses[0].error.has_value());
  EXPECT_EQ(batch.statuses[0].error->code, "meta_131049");
  EXPECT_EQ(batch.statuses[0].error->message, "Healthy ecosystem");
  EXPECT_EQ(batch.statuses[1].provider_message_id, "wamid.b");
  EXPECT_EQ(batch.statuses[1].status, DeliveryStatus::kRead);
  EXPECT_EQ(batch.ignored, 1);  // "deleted"
}

TEST_F(WhatsAppAdapterTest, IteratesEveryEntryAndChangeAndCountsIgnoredOnes) {
  std::string body =
      R"({"object":"whatsapp_business_account","entry":[)"
      R"({"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}},)"
      R"({"field":"messages","value":{"metadata":{"phone_number_id":"111"},)"
      R"("contacts":[{"profile":{"name":"A"},"wa_id":"1001"},{"profile":{"name":"B"},"wa_id":"1002"}],)"
      R"("messages":[{"from":"1001","id":"wamid.1","timestamp":"10","type":"text","text":{"body":"one"}},)"
      R"({"from":"1002","id":"wamid.2","timestamp":"11","type":"text","text":{"body":"two"}}],)"
      R"("errors":[{"code":131000,"title":"Something went wrong"}]}}]},)"
      R"({"id":"2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"222"},)"
      R"("messages":[{"from":"1003","id":"wamid.3","timestamp":"12","type":"text","text":{"body":"three"}}],)"
      R"("statuses":[{"id":"wamid.x","status":"delivered","timestamp":"13","recipient_id":"1003"}]}}]}]})";
  InboundBatch batch = Parse(body);
  ASSERT_EQ(batch.messages.size(), 3u);
  EXPECT_EQ(batch.messages[0].contact_name, "A");
  EXPECT_EQ(batch.messages[1].contact_name, "B");
  EXPECT_EQ(batch.messages[1].client_identity, "111");
  EXPECT_EQ(batch.messages[2].contact_name, "");
  EXPECT_EQ(batch.messages[2].client_identity, "222");
  ASSERT_EQ(batch.statuses.size(), 1u);
  EXPECT_EQ(batch.statuses[0].client_identity, "222");
  EXPECT_EQ(batch.ignored, 2);  // account_update and the value-level error
}

TEST_F(WhatsAppAdapterTest, RejectsMalformedBodiesNamingTheField) {
  struct Case {
    std::string body;
    const char* field;
  } cases[] = {
      {"{", "JSON"},
      {"[]", "body"},
      {R"({"object":"page","entry":[]})", "object"},
      {R"({"object":"whatsapp_business_account"})", "entry"},
      {R"({"object":"whatsapp_business_account","entry":[5]})", "entry[0]"},
      {R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{}}]}]})",
       "entry[0].changes[0].field"},
      {R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]})",
       "entry[0].changes[0].value"},
      {OneMessage(R"({"from":"1","timestamp":"1","type":"text","text":{"body":"x"}})"),
       "entry[0].changes[0].value.messages[0].id"},
      {OneMessage(R"({"id":"w","timestamp":"1","type":"text","text":{"body":"x"}})"),
       "messages[0].from"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"soon","type":"text","text":{"body":"x"}})"),
       "messages[0].timestamp"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"1","text":{"body":"x"}})"),
       "messages[0].type"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"1","type":"text"})"), "messages[0].text"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"1","type":"text","text":{"body":7}})"),
       "messages[0].text.body"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"1","type":"image","image":{}})"),
       "messages[0].image.id"},
      {OneMessage(
           R"({"id":"w","from":"1","timestamp":"1","type":"location","location":{"latitude":91,"longitude":0}})"),
       "messages[0].location.latitude"},
      {OneMessage(
           R"({"id":"w","from":"1","timestamp":"1","type":"reaction","reaction":{"emoji":"x"}})"),
       "messages[0].reaction.message_id"},
      {OneMessage(
           R"({"id":"w","from":"1","timestamp":"1","type":"interactive","interactive":{"type":"button_reply"}})"),
       "messages[0].interactive.button_reply"},
      {OneMessage(R"({"id":"w","from":"1","timestamp":"1","type":"a b","a b":{}})"),
       "messages[0].type"},
      {OneMessage(
           R"({"id":"w","from":"1","timestamp":"1","type":"text","text":{"body":"x"},"context":[]})"),
       "messages[0].context"},
      {Envelope(R"({"statuses":[{"id":"w","timestamp":"1"}]})"), "statuses[0].status"},
      {Envelope(R"({"statuses":{}})"), "value.statuses"},
      {Envelope(R"({"metadata":{"phone_number_id":5}})"), "metadata.phone_number_id"},
  };
  for (const Case& c : cases) {
    auto batch = adapter_->ParseWebhook(Body(c.body));
    ASSERT_FALSE(batch.ok()) << c.body;
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(batch.status().message().find(c.field), std::string::npos)
        << c.body << " -> " << batch.status().message();
  }
}

TEST_F(WhatsAppAdapterTest, RejectsOversizedAndDeeplyNestedInput) {
  std::string long_id(300, 'w');
  auto batch = adapter_->ParseWebhook(
      Body(OneMessage(R"({"id":")" + long_id +
                      R"(","from":"1","timestamp":"1","type":"text","text":{"body":"x"}})")));
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("messages[0].id"), std::string::npos);

  std::string deep(5000, '[');
  EXPECT_EQ(adapter_->ParseWebhook(Body(deep)).status().code(), StatusCode::kInvalidArgument);
  std::string huge =
      OneMessage(R"({"id":"w","from":"1","timestamp":"1","type":"text","text":{"body":")" +
                 std::string(2 * 1024 * 1024, 'a') + "\"}}");
  EXPECT_EQ(adapter_->ParseWebhook(Body(huge)).status().code(), StatusCode::kInvalidArgument);
  // Error messages never quote the input.
  auto secret = adapter_->ParseWebhook(Body(OneMessage(
      R"({"id":"w","from":"1","timestamp":"SECRET-VALUE","type":"text","text":{"body":"x"}})")));
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message().find("SECRET-VALUE"), std::string::npos);
}

TEST_F(WhatsAppAdapterTest, ParsedContentIsValidCommonFormat) {
  std::vector<Content> contents;
  for (const char* name :
       {"whatsapp_text.json", "whatsapp_location.json", "whatsapp_interactive_button_reply.json",
        "whatsapp_signed_text.raw.json"}) {
    for (const InboundMessage& m : Parse(Fixture(name)).messages) contents.push_back(m.content);
  }
  contents.push_back(
      ParseOne(R"({"from":"1","id":"w","type":"contacts","contacts":[)"
               R"({"name":{"first_name":"A"},"phones":[{"phone":"1","type":"X Y"}]}]})")
          .content);
  contents.push_back(
      ParseOne(R"({"from":"1","id":"w","type":"reaction","reaction":{"message_id":"m"}})").content);
  contents.push_back(ParseOne(R"({"from":"1","id":"w","type":"order","order":{}})").content);
  // A media message once the server has stored its file (the attachment then has an id).
  InboundMessage image = Parse(Fixture("whatsapp_image.json")).messages.at(0);
  FakeClock c(FromUnixMillis(5));
  std::get<MediaContent>(image.content).attachments[0].id = AttachmentId::New(c);
  contents.push_back(image.content);
  for (const Content& content : contents) {
    Status s = ValidateContent(content);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// ---- Signature and handshake ----------------------------------------------------------------

TEST_F(WhatsAppAdapterTest, VerifiesThePublishedSignatureVector) {
  json::object v = SignatureVector(0);
  std::string body = Fixture("whatsapp_signed_text.raw.json");
  ASSERT_EQ(body.size(), static_cast<size_t>(v.at("body_len").as_int64()));
  http::Request request = Body(body);
  request.headers.emplace_back("x-hub-signature-256", std::string(v.at("expected").as_string()));
  connection_.credentials["app_secret"] = v.at("secret");
  EXPECT_TRUE(adapter_->VerifyWebhook(request, connection_, clock_.Now()).ok());

  http::Request tampered = request;
  tampered.body[100] ^= 1;
  EXPECT_EQ(adapter_->VerifyWebhook(tampered, connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  ConnectionContext other = connection_;
  std::string secret(v.at("secret").as_string());
  secret.back() = secret.back() == '6' ? '7' : '6';
  other.credentials["app_secret"] = secret;
  EXPECT_EQ(adapter_->VerifyWebhook(request, other, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  http::Request unsigned_request = Body(body);
  EXPECT_EQ(adapter_->VerifyWebhook(unsigned_request, connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
}

TEST_F(WhatsAppAdapterTest, VerifiesTheSecondMetaVector) {
  json::object v = SignatureVector(1);
  http::Request request = Body(std::string(v.at("body").as_string()));
  request.headers.emplace_back("x-hub-signature-256",
                               std::string(v.at("expected_header").as_string()));
  connection_.credentials["app_secret"] = v.at("secret");
  EXPECT_TRUE(adapter_->VerifyWebhook(request, connection_, clock_.Now()).ok());
  request.body += "!";
  EXPECT_FALSE(adapter_->VerifyWebhook(request, connection_, clock_.Now()).ok());
}

TEST_F(WhatsAppAdapterTest, SignedBodiesFromTheHelperVerify) {
  http::Request r = SignedBody("{}", "1222e786b144d0e85b9f365372d93676");
  EXPECT_TRUE(adapter_->VerifyWebhook(r, connection_, clock_.Now()).ok());
}

TEST_F(WhatsAppAdapterTest, AnswersTheSubscriptionHandshake) {
  http::Request r;
  r.method = "GET";
  r.query = {{"hub.mode", "subscribe"},
             {"hub.challenge", "1158201444"},
             {"hub.verify_token", "meatyhamhock"}};
  http::Response ok = adapter_->AnswerHandshake(r, connection_);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "1158201444");
  r.query["hub.verify_token"] = "wrong";
  EXPECT_EQ(adapter_->AnswerHandshake(r, connection_).status, 403);
}

// ---- Connection -----------------------------------------------------------------------------

TEST_F(WhatsAppAdapterTest, PrepareConnectionFillsDefaults) {
  json::object settings{{"phone_number_id", "106540352242922"}};
  json::object credentials{{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "EAAG"}};
  auto shown = adapter_->PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_TRUE(shown->empty());
  EXPECT_EQ(settings.at("api_base_url"), "https://graph.facebook.com");
  EXPECT_EQ(settings.at("api_version"), "v21.0");
  ConnectionContext c;
  c.settings = settings;
  EXPECT_EQ(adapter_->ClientIdentity(c), "106540352242922");
}

TEST_F(WhatsAppAdapterTest, PrepareConnectionRejectsBadInputNamingTheField) {
  json::object good_creds{{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "t"}};
  struct Case {
    json::object settings;
    json::object credentials;
    const char* field;
  } cases[] = {
      {{}, good_creds, "settings.phone_number_id"},
      {{{"phone_number_id", "12ab"}}, good_creds, "settings.phone_number_id"},
      {{{"phone_number_id", "1"}, {"page_id", "2"}}, good_creds, "settings.page_id"},
      {{{"phone_number_id", "1"}, {"api_base_url", "ftp://x"}},
       good_creds,
       "settings.api_base_url"},
      {{{"phone_number_id", "1"}, {"api_version", "21"}}, good_creds, "settings.api_version"},
      {{{"phone_number_id", "1"}},
       {{"app_secret", "s"}, {"verify_token", "v"}},
       "credentials.access_token"},
      {{{"phone_number_id", "1"}},
       {{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "t"}, {"x", "y"}},
       "credentials.x"},
  };
  for (Case& c : cases) {
    auto r = adapter_->PrepareConnection(c.settings, c.credentials);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().message();
  }
}

// ---- Media helpers --------------------------------------------------------------------------

TEST_F(WhatsAppAdapterTest, ParsesTheMediaUrlFixture) {
  auto info = ParseMediaInfo(Fixture("whatsapp_media_url_response.json"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->url, "<URL>");
  EXPECT_EQ(info->mime_type, "image/jpeg");
  EXPECT_EQ(info->sha256, "<HASH>");
  ASSERT_TRUE(info->file_size.has_value());
  EXPECT_EQ(*info->file_size, 303833u);
  EXPECT_FALSE(ParseMediaInfo(R"({"mime_type":"image/jpeg"})").ok());
  EXPECT_FALSE(ParseMediaInfo(R"({"url":"https://x","file_size":"12a"})").ok());
}

TEST_F(WhatsAppAdapterTest, ChecksDigestsInHexAndBase64) {
  std::string digest = crypto::Sha256("bytes");
  EXPECT_TRUE(CheckDigest("bytes", crypto::HexEncode(digest)).ok());
  EXPECT_TRUE(CheckDigest("bytes", crypto::Base64Encode(digest)).ok());
  EXPECT_EQ(CheckDigest("bytez", crypto::HexEncode(digest)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDigest("bytez", crypto::Base64Encode(digest)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckDigest("anything", "").ok());
  EXPECT_TRUE(CheckDigest("anything", "<HASH>").ok());
}

TEST_F(WhatsAppAdapterTest, AcceptsOnlyPathSafeMediaIds) {
  EXPECT_TRUE(ValidMediaId("1003383421387256"));
  EXPECT_TRUE(ValidMediaId("media-12"));
  EXPECT_FALSE(ValidMediaId(""));
  EXPECT_FALSE(ValidMediaId(".."));
  EXPECT_FALSE(ValidMediaId("1/../me"));
  EXPECT_FALSE(ValidMediaId("1?access_token=x"));
  EXPECT_FALSE(ValidMediaId(std::string(129, '1')));
}

}  // namespace
}  // namespace parley::channels::whatsapp

#include "channels/twilio/twilio_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "channels/twilio/twilio_wire.h"

namespace parley::channels::twilio {
namespace {

namespace json = boost::json;

constexpr char kSid[] = "AC1a03647d811fab342c0ad608e382fab2";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

http::Request FormRequest(std::string body, std::string target = "/v1/webhooks/con_1") {
  http::Request r;
  r.method = "POST";
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  r.body = std::move(body);
  return r;
}

class TwilioAdapterTest : public ::testing::Test {
 protected:
  TwilioAdapterTest() {
    deps_.public_url = "https://parley.example.com";
    adapter_ = std::make_unique<TwilioAdapter>(deps_);
    connection_.kind = "twilio";
    connection_.settings = {{"account_sid", kSid}, {"from", "whatsapp:+14123456789"}};
    connection_.credentials = {{"auth_token", "12345"}};
  }

  InboundBatch ParseFixture(const std::string& name) {
    auto batch = adapter_->ParseWebhook(FormRequest(ReadFixture(name)));
    EXPECT_TRUE(batch.ok()) << name << ": " << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  AdapterDeps deps_;
  std::unique_ptr<TwilioAdapter> adapter_;
  ConnectionContext connection_;
};

TEST_F(TwilioAdapterTest, ParsesAnSms) {
  InboundBatch batch = ParseFixture("twilio_sms.form");
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "SMc56324aa4a31735561b7205472192d68");
  EXPECT_EQ(m.contact_id, "+541138050810");
  EXPECT_EQ(m.client_identity, "+16693421974");
  EXPECT_EQ(m.contact_name, "");
  EXPECT_FALSE(m.sent_at.has_value());
  ASSERT_TRUE(std::holds_alternative<TextContent>(m.content));
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hello");
  EXPECT_TRUE(m.media.empty());
  EXPECT_TRUE(batch.statuses.empty());
}

TEST_F(TwilioAdapterTest, ParsesAWhatsAppText) {
  InboundBatch batch = ParseFixture("twilio_whatsapp_text.form");
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "SM892512e202b34d4109b10a3893fa9640");
  EXPECT_EQ(m.contact_id, "whatsapp:+31612345678");
  EXPECT_EQ(m.client_identity, "whatsapp:+14123456789");
  EXPECT_EQ(std::get<TextContent>(m.content).text, "test");
  EXPECT_EQ(m.client_identity, adapter_->ClientIdentity(connection_));
}

TEST_F(TwilioAdapterTest, ParsesAWhatsAppImageWithAMediaReference) {
  InboundBatch batch = ParseFixture("twilio_whatsapp_image.form");
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "MM21151abfaadc1fb79b782f8460862a52");
  EXPECT_EQ(m.contact_id, "whatsapp:+31612345678");
  ASSERT_TRUE(std::holds_alternative<MediaContent>(m.content));
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kImage);
  EXPECT_EQ(media.caption, "");
  ASSERT_EQ(media.attachments.size(), 1u);
  EXPECT_EQ(media.attachments[0].mime_type, "image/jpeg");
  EXPECT_FALSE(media.attachments[0].id.has_value());
  EXPECT_EQ(media.attachments[0].url, "");
  ASSERT_EQ(m.media.size(), 1u);
  EXPECT_EQ(m.media[0].ref,
            "https://api.twilio.com/2010-04-01/Accounts/AC1a03647d811fab342c0ad608e382fab2/"
            "Messages/MM21151abfaadc1fb79b782f8460862a52/Media/"
            "ME5f0afa2336bd0f73ca553fb5a2e3150bc");
  EXPECT_EQ(m.media[0].mime_type, "image/jpeg");
}

TEST_F(TwilioAdapterTest, ParsesStatusCallbacks) {
  InboundBatch sent = ParseFixture("twilio_status_sms_sent.form");
  ASSERT_EQ(sent.statuses.size(), 1u);
  EXPECT_TRUE(sent.messages.empty());
  EXPECT_EQ(sent.statuses[0].provider_message_id, "SM1342fe1b2c904d1ab04f0fc7a58abca9");
  EXPECT_EQ(sent.statuses[0].status, DeliveryStatus::kSent);
  EXPECT_EQ(sent.statuses[0].client_identity, "+15017250604");
  EXPECT_FALSE(sent.statuses[0].error.has_value());

  InboundBatch delivered = ParseFixture("twilio_whatsapp_status_delivered.form");
  ASSERT_EQ(delivered.statuses.size(), 1u);
  EXPECT_EQ(delivered.statuses[0].provider_message_id, "SMdf55df64a2ff4920bb0748193cfbb640");
  EXPECT_EQ(delivered.statuses[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(delivered.statuses[0].client_identity, "whatsapp:+14123456789");

  InboundBatch failed = ParseFixture("twilio_status_failed.form");
  ASSERT_EQ(failed.statuses.size(), 1u);
  EXPECT_EQ(failed.statuses[0].provider_message_id, "SMe287d7109a5a925f182f0e07fe5b223b");
  EXPECT_EQ(failed.statuses[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ(failed.statuses[0].client_identity, "");  // the fixture has no From
  ASSERT_TRUE(failed.statuses[0].error.has_value());
  EXPECT_EQ(failed.statuses[0].error->code, "twilio_21610");
  EXPECT_FALSE(failed.statuses[0].error->message.empty());
}

TEST_F(TwilioAdapterTest, IgnoresIntermediateStatusesAndMapsRead) {
  for (const char* status : {"queued", "sending", "accepted", "scheduled", "receiving"}) {
    auto batch = adapter_->ParseWebhook(
        FormRequest(std::string("MessageSid=SM1&MessageStatus=") + status + "&From=%2B15550001"));
    ASSERT_TRUE(batch.ok()) << status;
    EXPECT_EQ(batch->ignored, 1) << status;
    EXPECT_TRUE(batch->statuses.empty()) << status;
  }
  auto read = adapter_->ParseWebhook(FormRequest("MessageSid=SM1&MessageStatus=read"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->statuses.at(0).status, DeliveryStatus::kRead);
  auto undelivered = adapter_->ParseWebhook(FormRequest(
      "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003&ErrorMessage=Unreachable+handset"));
  ASSERT_TRUE(undelivered.ok());
  EXPECT_EQ(undelivered->statuses.at(0).status, DeliveryStatus::kFailed);
  EXPECT_EQ(undelivered->statuses.at(0).error->code, "twilio_30003");
  EXPECT_EQ(undelivered->statuses.at(0).error->message, "Unreachable handset");
}

TEST_F(TwilioAdapterTest, ParsesMmsWithSeveralMediaAndAnUnencodedColon) {
  std::string body =
      "MessageSid=MM1&From=whatsapp:%2B31612345678&To=whatsapp:%2B14123456789&Body=two+files"
      "&ProfileName=Ana%20Lima&NumMedia=2&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm%2F0"
      "&MediaContentType0=video%2Fmp4&MediaUrl1=https://api.twilio.com/m/1"
      "&MediaContentType1=application%2Fpdf&OriginalRepliedMessageSid=SM9";
  auto batch = adapter_->ParseWebhook(FormRequest(body));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundMessage& m = batch->messages.at(0);
  EXPECT_EQ(m.contact_id, "whatsapp:+31612345678");
  EXPECT_EQ(m.client_identity, "whatsapp:+14123456789");
  EXPECT_EQ(m.contact_name, "Ana Lima");
  EXPECT_EQ(m.reply_to_provider_id, "SM9");
  const auto& media = std::get<MediaContent>(m.content);
  EXPECT_EQ(media.kind, MediaKind::kVideo);
  EXPECT_EQ(media.caption, "two files");
  ASSERT_EQ(media.attachments.size(), 2u);
  EXPECT_EQ(media.attachments[1].mime_type, "application/pdf");
  ASSERT_EQ(m.media.size(), 2u);
  EXPECT_EQ(m.media[0].ref, "https://api.twilio.com/m/0");
  EXPECT_EQ(m.media[1].ref, "https://api.twilio.com/m/1");
}

TEST_F(TwilioAdapterTest, ParsesLocationButtonAndListReplies) {
  auto location = adapter_->ParseWebhook(
      FormRequest("MessageSid=SM1&From=whatsapp%3A%2B1555&Latitude=52.3676&Longitude=4.9041"
                  "&Address=Dam+1&Label=Office&NumMedia=0&Body="));
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  const auto& l = std::get<LocationContent>(location->messages.at(0).content);
  EXPECT_DOUBLE_EQ(l.latitude, 52.3676);
  EXPECT_DOUBLE_EQ(l.longitude, 4.9041);
  EXPECT_EQ(l.name, "Office");
  EXPECT_EQ(l.address, "Dam 1");

  auto button = adapter_->ParseWebhook(FormRequest(
      "MessageSid=SM2&From=whatsapp%3A%2B1555&Body=Yes&ButtonText=Yes&ButtonPayload=confirm"));
  ASSERT_TRUE(button.ok());
  const auto& b = std::get<ReplyContent>(button->messages.at(0).content);
  EXPECT_EQ(b.source, ReplySource::kButton);
  EXPECT_EQ(b.title, "Yes");
  EXPECT_EQ(b.payload, "confirm");

  auto list = adapter_->ParseWebhook(FormRequest(
      "MessageSid=SM3&From=whatsapp%3A%2B1555&Body=Large&ListId=size_l&ListTitle=Large"));
  ASSERT_TRUE(list.ok());
  const auto& r = std::get<ReplyContent>(list->messages.at(0).content);
  EXPECT_EQ(r.source, ReplySource::kList);
  EXPECT_EQ(r.title, "Large");
  EXPECT_EQ(r.payload, "size_l");

  auto empty = adapter_->ParseWebhook(
      FormRequest("MessageSid=SM4&From=whatsapp%3A%2B1555&Body=&MessageType=reaction"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(std::get<UnsupportedContent>(empty->messages.at(0).content).provider_type, "reaction");
}

TEST_F(TwilioAdapterTest, RejectsMalformedFormsNamingTheField) {
  struct Case {
    std::string body;
    const char* field;
  } cases[] = {
      {"From=%2B1555&Body=hi", "MessageSid"},
      {"MessageSid=SM1&Body=hi", "From"},
      {"MessageSid=SM%2F1&From=%2B1&Body=hi", "MessageSid"},
      {"MessageSid=SM1&From=%2B1&NumMedia=11", "NumMedia"},
      {"MessageSid=SM1&From=%2B1&NumMedia=x", "NumMedia"},
      {"MessageSid=SM1&From=%2B1&NumMedia=1", "MediaUrl0"},
      {"MessageSid=SM1&From=%2B1&NumMedia=1&MediaUrl0=file%3A%2F%2F%2Fetc%2Fpasswd", "MediaUrl0"},
      {"MessageSid=SM1&From=%2B1&Latitude=91&Longitude=0", "Latitude"},
      {"MessageSid=SM1&From=%2B1&Latitude=1&Longitude=nan", "Longitude"},
      {"MessageSid=SM1&From=%2B1&Body=%FF%FE", "Body"},
      {"MessageSid=SM1&From=" + std::string(kMaxAddressBytes + 1, '1') + "&Body=x", "From"},
      {"MessageStatus=delivered", "MessageSid"},
      {"MessageSid=SM1&MessageStatus=failed&ErrorCode=1%202", "ErrorCode"},
      {std::string(kMaxFormBytes + 1, 'a'), "body"},
  };
  for (const Case& c : cases) {
    auto batch = adapter_->ParseWebhook(FormRequest(c.body));
    ASSERT_FALSE(batch.ok()) << c.body.substr(0, 80);
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(batch.status().message().find(c.field), std::string::npos)
        << batch.status().message();
  }
  std::string many;
  for (size_t i = 0; i <= kMaxFormParams; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(adapter_->ParseWebhook(FormRequest(many)).ok());
}

TEST_F(TwilioAdapterTest, SurvivesTruncatedAndMutatedFixtures) {
  for (const char* name : {"twilio_sms.form", "twilio_whatsapp_image.form",
                           "twilio_status_failed.form", "twilio_whatsapp_status_delivered.form"}) {
    std::string body = ReadFixture(name);
    for (size_t i = 0; i < body.size(); ++i) {
      auto truncated = adapter_->ParseWebhook(FormRequest(body.substr(0, i)));
      if (!truncated.ok()) {
        EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
      }
      for (char c : {'%', '&', '=', '\xff', '\0'}) {
        std::string mutated = body;
        mutated[i] = c;
        auto parsed = adapter_->ParseWebhook(FormRequest(mutated));
        if (!parsed.ok()) {
          EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
        }
        http::Request signed_request = FormRequest(mutated);
        signed_request.headers.emplace_back("x-twilio-signature", "AAAA");
        EXPECT_FALSE(adapter_->VerifyWebhook(signed_request, connection_, {}).ok());
      }
    }
  }
}

TEST_F(TwilioAdapterTest, ParsesGetWebhooksFromTheQuery) {
  http::Request r = FormRequest("", "/v1/webhooks/con_1?MessageSid=SM1&From=%2B1555&Body=hi");
  r.method = "GET";
  auto batch = adapter_->ParseWebhook(r);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(std::get<TextContent>(batch->messages.at(0).content).text, "hi");
}

// The published vector (twilio-python / twilio-node tests).
struct Vector {
  std::string secret, url, expected;
  FormParams params;
};

Vector TwilioVector() {
  json::value v = json::parse(ReadFixture("signature_vectors.json"));
  for (const auto& item : v.at("vectors").as_array()) {
    if (item.at("provider") != "twilio") continue;
    Vector out;
    out.secret = std::string(item.at("secret").as_string());
    out.url = std::string(item.at("url").as_string());
    out.expected = std::string(item.at("expected").as_string());
    for (const auto& [k, value] : item.at("params").as_object()) {
      out.params.emplace_back(std::string(k), std::string(value.as_string()));
    }
    return out;
  }
  ADD_FAILURE() << "no twilio vector";
  return {};
}

TEST(TwilioSignatureTest, ComputesThePublishedVector) {
  Vector v = TwilioVector();
  EXPECT_EQ(ComputeSignature(v.secret, v.url, v.params), v.expected);
  // Order of the parameters in the body does not matter; the signature sorts them.
  FormParams reversed(v.params.rbegin(), v.params.rend());
  EXPECT_EQ(ComputeSignature(v.secret, v.url, reversed), v.expected);
}

TEST(TwilioSignatureTest, UrlVariantsAddAndRemoveTheDefaultPort) {
  EXPECT_EQ(SignatureUrlVariants("https://a.example/x?y=1"),
            (std::vector<std::string>{"https://a.example/x?y=1", "https://a.example:443/x?y=1"}));
  EXPECT_EQ(SignatureUrlVariants("https://a.example:443/x"),
            (std::vector<std::string>{"https://a.example:443/x", "https://a.example/x"}));
  EXPECT_EQ(SignatureUrlVariants("http://a.example:8080/x"),
            (std::vector<std::string>{"http://a.example:8080/x"}));
  EXPECT_EQ(SignatureUrlVariants("http://[::1]/x"),
            (std::vector<std::string>{"http://[::1]/x", "http://[::1]:80/x"}));
}

TEST(TwilioFormTest, DecodesLenientlyAndEncodesStrictly) {
  auto params = ParseForm("a=1+2&b=%41%zz&c&&d=x:y%2");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*params, (FormParams{{"a", "1 2"}, {"b", "A%zz"}, {"c", ""}, {"d", "x:y%2"}}));
  EXPECT_EQ(EncodeForm({{"To", "whatsapp:+1 555"}, {"Body", "é&="}}),
            "To=whatsapp%3A%2B1%20555&Body=%C3%A9%26%3D");
  auto round = ParseForm(EncodeForm({{"k", "a+b c/é"}}));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->at(0).second, "a+b c/é");
}

class TwilioVerifyTest : public TwilioAdapterTest {
 protected:
  TwilioVerifyTest() {
    vector_ = TwilioVector();
    deps_.public_url = "https://mycompany.com";
    adapter_ = std::make_unique<TwilioAdapter>(deps_);
    connection_.credentials["auth_token"] = vector_.secret;
  }

  http::Request VectorRequest() {
    http::Request r = FormRequest(EncodeForm(vector_.params), "/myapp.php?foo=1&bar=2");
    r.headers.emplace_back("x-twilio-signature", vector_.expected);
    return r;
  }

  Vector vector_;
};

TEST_F(TwilioVerifyTest, AcceptsThePublishedVector) {
  EXPECT_TRUE(adapter_->VerifyWebhook(VectorRequest(), connection_, {}).ok());
}

TEST_F(TwilioVerifyTest, RejectsOneByteChanges) {
  http::Request body = VectorRequest();
  body.body.replace(body.body.find("1234"), 4, "1235");
  EXPECT_EQ(adapter_->VerifyWebhook(body, connection_, {}).code(), StatusCode::kUnauthenticated);

  http::Request url = VectorRequest();
  url.target = "/myapp.php?foo=2&bar=2";
  EXPECT_EQ(adapter_->VerifyWebhook(url, connection_, {}).code(), StatusCode::kUnauthenticated);

  ConnectionContext other = connection_;
  other.credentials["auth_token"] = "12346";
  EXPECT_EQ(adapter_->VerifyWebhook(VectorRequest(), other, {}).code(),
            StatusCode::kUnauthenticated);

  http::Request signature = VectorRequest();
  signature.headers.back().second[0] = 'S';
  EXPECT_EQ(adapter_->VerifyWebhook(signature, connection_, {}).code(),
            StatusCode::kUnauthenticated);

  http::Request unsigned_request = VectorRequest();
  unsigned_request.headers.pop_back();
  EXPECT_EQ(adapter_->VerifyWebhook(unsigned_request, connection_, {}).code(),
            StatusCode::kUnauthenticated);
}

TEST_F(TwilioVerifyTest, UsesTheConfiguredWebhookUrlWithOrWithoutThePort) {
  deps_.public_url = "";
  adapter_ = std::make_unique<TwilioAdapter>(deps_);
  connection_.settings["webhook_url"] = "https://mycompany.com:443/myapp.php";
  EXPECT_TRUE(adapter_->VerifyWebhook(VectorRequest(), connection_, {}).ok());
  connection_.settings["webhook_url"] = "https://mycompany.com/myapp.php";
  EXPECT_TRUE(adapter_->VerifyWebhook(VectorRequest(), connection_, {}).ok());
  connection_.settings["webhook_url"] = "https://mycompany.com/other.php";
  EXPECT_FALSE(adapter_->VerifyWebhook(VectorRequest(), connection_, {}).ok());
}

TEST_F(TwilioVerifyTest, NeedsAPublicUrl) {
  deps_.public_url = "";
  adapter_ = std::make_unique<TwilioAdapter>(deps_);
  Status s = adapter_->VerifyWebhook(VectorRequest(), connection_, {});
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("server.public_url"), std::string::npos);
  EXPECT_NE(s.message().find("settings.webhook_url"), std::string::npos);
}

TEST_F(TwilioAdapterTest, AcknowledgesWithEmptyTwiml) {
  auto ack = adapter_->Acknowledgement(InboundBatch{});
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->status, 200);
  EXPECT_EQ(ack->content_type, "text/xml");
  EXPECT_EQ(ack->body, R"(<?xml version="1.0" encoding="UTF-8"?><Response></Response>)");
}

TEST_F(TwilioAdapterTest, PrepareConnectionValidatesAndFillsDefaults) {
  json::object settings{{"account_sid", kSid}, {"from", "+14155550100"}};
  json::object credentials{{"auth_token", "0123456789abcdef0123456789abcdef"}};
  auto shown = adapter_->PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_TRUE(shown->empty());
  EXPECT_EQ(settings.at("api_base_url"), "https://api.twilio.com");

  json::object service_only{{"account_sid", kSid},
                            {"messaging_service_sid", "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}};
  EXPECT_TRUE(adapter_->PrepareConnection(service_only, credentials).ok());

  struct Case {
    json::object settings;
    json::object credentials;
    const char* field;
  } cases[] = {
      {{{"from", "+14155550100"}}, credentials, "settings.account_sid"},
      {{{"account_sid", "AC123"}, {"from", "+14155550100"}}, credentials, "settings.account_sid"},
      {{{"account_sid", kSid}}, credentials, "settings.from"},
      {{{"account_sid", kSid}, {"from", "14155550100"}}, credentials, "settings.from"},
      {{{"account_sid", kSid}, {"from", "whatsapp:+1415x"}}, credentials, "settings.from"},
      {{{"account_sid", kSid}, {"from", 14155550100}}, credentials, "settings.from"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}, {"messaging_service_sid", "MG1"}},
       credentials,
       "settings.messaging_service_sid"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}, {"api_base_url", "ftp://x"}},
       credentials,
       "settings.api_base_url"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}, {"webhook_url", "/relative"}},
       credentials,
       "settings.webhook_url"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}, {"colour", "red"}},
       credentials,
       "settings.colour"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}}, {}, "credentials.auth_token"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}},
       {{"auth_token", "has space"}},
       "credentials.auth_token"},
      {{{"account_sid", kSid}, {"from", "+14155550100"}},
       {{"auth_token", "x"}, {"api_key", "y"}},
       "credentials.api_key"},
  };
  for (Case& c : cases) {
    auto result = adapter_->PrepareConnection(c.settings, c.credentials);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.field), std::string::npos)
        << result.status().message();
  }
}

}  // namespace
}  // namespace parley::channels::twilio

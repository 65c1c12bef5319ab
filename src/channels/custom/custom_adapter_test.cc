#include "channels/custom/custom_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "crypto/signing.h"

namespace parley::channels::custom {
namespace {

namespace json = boost::json;

class CustomAdapterTest : public ::testing::Test {
 protected:
  CustomAdapterTest() : clock_(FromUnixMillis(1'763'708'000'000)) {
    deps_.clock = &clock_;
    adapter_ = std::make_unique<CustomAdapter>(deps_);
    connection_.kind = "custom";
    connection_.credentials["secret"] = "s3cret-s3cret-s3cret";
  }

  http::Request Signed(std::string body, int64_t skew_seconds = 0) {
    http::Request r;
    r.method = "POST";
    r.body = std::move(body);
    r.headers.emplace_back(
        "parley-signature",
        crypto::SignatureHeader({"s3cret-s3cret-s3cret"},
                                ToUnixSeconds(clock_.Now()) + skew_seconds, r.body));
    return r;
  }

  FakeClock clock_;
  AdapterDeps deps_;
  std::unique_ptr<CustomAdapter> adapter_;
  ConnectionContext connection_;
};

TEST_F(CustomAdapterTest, ParsesATextMessage) {
  auto batch = adapter_->ParseWebhook(Signed(
      R"({"id":"ext-1","from":{"id":"user-42","name":"Ana"},"timestamp":"2026-11-21T09:30:00Z",)"
      R"("reply_to":"ext-0","content":{"type":"text","text":"Hello"}})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->messages.size(), 1u);
  const InboundMessage& m = batch->messages[0];
  EXPECT_EQ(m.provider_message_id, "ext-1");
  EXPECT_EQ(m.contact_id, "user-42");
  EXPECT_EQ(m.contact_name, "Ana");
  EXPECT_EQ(m.reply_to_provider_id, "ext-0");
  ASSERT_TRUE(m.sent_at.has_value());
  EXPECT_EQ(FormatRfc3339(*m.sent_at), "2026-11-21T09:30:00.000Z");
  ASSERT_TRUE(std::holds_alternative<TextContent>(m.content));
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hello");
}

TEST_F(CustomAdapterTest, ParsesAStatus) {
  FakeClock c(FromUnixMillis(5));
  std::string id = MessageId::New(c).str();
  auto batch = adapter_->ParseWebhook(
      Signed(R"({"type":"status","message":")" + id + R"(","status":"read"})"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->statuses.size(), 1u);
  EXPECT_EQ(batch->statuses[0].message->str(), id);
  EXPECT_EQ(batch->statuses[0].status, DeliveryStatus::kRead);
}

TEST_F(CustomAdapterTest, RejectsMalformedBodiesByField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"from":{"id":"u"},"content":{"type":"text","text":"x"}})", "id"},
      {R"({"id":"e","content":{"type":"text","text":"x"}})", "from"},
      {R"({"id":"e","from":{},"content":{"type":"text","text":"x"}})", "from.id"},
      {R"({"id":"e","from":{"id":"u"}})", "content"},
      {R"({"id":"e","from":{"id":"u"},"content":{"type":"template","name":"x","language":"en"}})",
       "content.type"},
      {R"({"id":"e","from":{"id":"u"},"timestamp":"yesterday","content":{"type":"text","text":"x"}})",
       "timestamp"},
      {R"({"type":"nope"})", "type"},
      {R"([1,2])", "body"},
      {R"({"id":)", ""},
  };
  for (const Case& c : cases) {
    auto batch = adapter_->ParseWebhook(Signed(c.body));
    ASSERT_FALSE(batch.ok()) << c.body;
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(batch.status().message().find(c.field), std::string::npos)
        << c.body << " -> " << batch.status().message();
  }
}

TEST_F(CustomAdapterTest, RejectsOverlongIds) {
  std::string id(kMaxExternalIdBytes + 1, 'x');
  auto batch = adapter_->ParseWebhook(
      Signed(R"({"id":")" + id + R"(","from":{"id":"u"},"content":{"type":"text","text":"x"}})"));
  ASSERT_FALSE(batch.ok());
}

TEST_F(CustomAdapterTest, VerifiesSignatureAndReplayWindow) {
  std::string body = R"({"id":"e","from":{"id":"u"},"content":{"type":"text","text":"x"}})";
  EXPECT_TRUE(adapter_->VerifyWebhook(Signed(body), connection_, clock_.Now()).ok());
  auto stale = Signed(body, -301);
  EXPECT_EQ(adapter_->VerifyWebhook(stale, connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  auto tampered = Signed(body);
  tampered.body += " ";
  EXPECT_EQ(adapter_->VerifyWebhook(tampered, connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  http::Request unsigned_request;
  unsigned_request.body = body;
  EXPECT_EQ(adapter_->VerifyWebhook(unsigned_request, connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  // A copy made after the first request (whose key is made and kept with the context) and
  // given another secret verifies with its own.
  ConnectionContext other = connection_;
  other.credentials["secret"] = "another-secret-entirely";
  EXPECT_EQ(adapter_->VerifyWebhook(Signed(body), other, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(adapter_->VerifyWebhook(Signed(body), connection_, clock_.Now()).ok());
  ConnectionContext none = connection_;
  none.credentials.erase("secret");
  EXPECT_EQ(adapter_->VerifyWebhook(Signed(body), none, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
  // The same context, its secret changed after its key was made: checked with the new one.
  connection_.credentials["secret"] = "another-secret-entirely";
  EXPECT_EQ(adapter_->VerifyWebhook(Signed(body), connection_, clock_.Now()).code(),
            StatusCode::kUnauthenticated);
}

TEST(DerivedCredentialsTest, MakesOnceAndCopiesAndMovesStartOver) {
  DerivedCredentials derived;
  int made = 0;
  auto make = [&made] { return std::make_shared<const int>(++made); };
  EXPECT_EQ(*derived.Get<int>(make), 1);
  EXPECT_EQ(*derived.Get<int>(make), 1);
  DerivedCredentials copy = derived;
  EXPECT_EQ(*copy.Get<int>(make), 2);
  DerivedCredentials moved = std::move(copy);
  EXPECT_EQ(*moved.Get<int>(make), 3);
  moved = derived;
  EXPECT_EQ(*moved.Get<int>(make), 4);
  EXPECT_EQ(*derived.Get<int>(make), 1);
  // A null value is made once too.
  DerivedCredentials none;
  int calls = 0;
  auto make_none = [&calls] {
    ++calls;
    return std::shared_ptr<const int>();
  };
  EXPECT_EQ(none.Get<int>(make_none), nullptr);
  EXPECT_EQ(none.Get<int>(make_none), nullptr);
  EXPECT_EQ(calls, 1);
}

TEST_F(CustomAdapterTest, PrepareConnectionGeneratesASecretOnce) {
  json::object settings{{"outbound_url", "https://example.com/out"}};
  json::object credentials;
  auto shown = adapter_->PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  ASSERT_TRUE(credentials.contains("secret"));
  EXPECT_EQ(shown->at("secret"), credentials.at("secret"));
  EXPECT_GE(credentials.at("secret").as_string().size(), kMinSecretBytes);
}

TEST_F(CustomAdapterTest, PrepareConnectionRejectsBadSettings) {
  json::object creds;
  json::object no_url;
  EXPECT_FALSE(adapter_->PrepareConnection(no_url, creds).ok());
  json::object ftp{{"outbound_url", "ftp://example.com/"}};
  EXPECT_FALSE(adapter_->PrepareConnection(ftp, creds).ok());
  json::object extra{{"outbound_url", "https://example.com/"}, {"colour", "red"}};
  EXPECT_FALSE(adapter_->PrepareConnection(extra, creds).ok());
  json::object ok{{"outbound_url", "https://example.com/"}};
  json::object short_secret{{"secret", "short"}};
  EXPECT_FALSE(adapter_->PrepareConnection(ok, short_secret).ok());
}

TEST_F(CustomAdapterTest, RendersOutboundInTheDocumentedShape) {
  OutboundRequest req;
  FakeClock c(FromUnixMillis(5));
  req.message.id = MessageId::New(c);
  req.message.conversation = ConversationId::New(c);
  req.message.author.role = AuthorRole::kAgent;
  req.message.author.name = "Bob";
  req.message.content = TextContent{"Hi"};
  req.contact_id = "user-42";
  req.reply_to_provider_id = "ext-1";
  json::value v = json::parse(CustomAdapter::RenderOutbound(req));
  EXPECT_EQ(v.at("type"), "message");
  EXPECT_EQ(v.at("id").as_string(), req.message.id.str());
  EXPECT_EQ(v.at("conversation").as_string(), req.message.conversation.str());
  EXPECT_EQ(v.at("to").at("id"), "user-42");
  EXPECT_EQ(v.at("author").at("role"), "agent");
  EXPECT_EQ(v.at("reply_to"), "ext-1");
  EXPECT_EQ(v.at("content").at("text"), "Hi");
}

}  // namespace
}  // namespace parley::channels::custom

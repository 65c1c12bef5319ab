// The adapter's glue: connection preparation, signature and handshake, and Send /
// SendSignal / FetchMedia against the simulator on loopback.
#include "channels/messenger/messenger_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "channels/messenger/messenger_test_support.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::messenger {
namespace {

namespace json = boost::json;
using testing::HeaderOf;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

http::Request Signed(std::string body, std::string header) {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  r.headers.emplace_back("x-hub-signature-256", std::move(header));
  return r;
}

ConnectionContext WithSecret(std::string secret) {
  ConnectionContext c;
  c.credentials["app_secret"] = std::move(secret);
  return c;
}

TEST(MessengerAdapterTest, VerifiesPublishedSignatureVectors) {
  AdapterDeps deps;
  MessengerAdapter adapter(deps);
  TimePoint now = FromUnixMillis(0);
  struct Vector {
    std::string body, secret, header;
  } vectors[] = {
      {ReadFixture("whatsapp_signed_text.raw.json"), "1222e786b144d0e85b9f365372d93676",
       "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"},
      {"hello world", "sesame",
       "sha256=f39034b29165ec6a5104d9aef27266484ab26c8caa7bca8bcb2dd02e8be61b17"},
  };
  ASSERT_EQ(vectors[0].body.size(), 511u);
  for (const Vector& v : vectors) {
    EXPECT_TRUE(adapter.VerifyWebhook(Signed(v.body, v.header), WithSecret(v.secret), now).ok());
    std::string body = v.body;
    body[body.size() / 2] ^= 0x01;
    EXPECT_EQ(adapter.VerifyWebhook(Signed(body, v.header), WithSecret(v.secret), now).code(),
              StatusCode::kUnauthenticated);
    std::string secret = v.secret;
    secret.back() ^= 0x01;
    EXPECT_EQ(adapter.VerifyWebhook(Signed(v.body, v.header), WithSecret(secret), now).code(),
              StatusCode::kUnauthenticated);
  }
  http::Request unsigned_request;
  unsigned_request.body = "hello world";
  EXPECT_EQ(adapter.VerifyWebhook(unsigned_request, WithSecret("sesame"), now).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(
      adapter.VerifyWebhook(Signed("hello world", vectors[1].header), ConnectionContext{}, now)
          .code(),
      StatusCode::kUnauthenticated);
}

TEST(MessengerAdapterTest, AnswersTheSubscriptionHandshake) {
  AdapterDeps deps;
  MessengerAdapter adapter(deps);
  ConnectionContext c;
  c.credentials["verify_token"] = "meatyhamhock";
  http::Request r;
  r.method = "GET";
  r.query = {{"hub.mode", "subscribe"},
             {"hub.challenge", "1158201444"},
             {"hub.verify_token", "meatyhamhock"}};
  http::Response ok = adapter.AnswerHandshake(r, c);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "1158201444");
  r.query["hub.verify_token"] = "meatyhamhocK";
  EXPECT_EQ(adapter.AnswerHandshake(r, c).status, 403);
}

TEST(MessengerAdapterTest, PrepareConnectionValidatesAndFillsDefaults) {
  AdapterDeps deps;
  MessengerAdapter adapter(deps);
  json::object settings{{"page_id", "1234567890"}};
  json::object credentials{{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "EAAB"}};
  auto shown = adapter.PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_TRUE(shown->empty());
  EXPECT_EQ(settings["api_base_url"], "https://graph.facebook.com");
  EXPECT_EQ(settings["api_version"], "v21.0");

  struct Case {
    json::object settings, credentials;
    const char* field;
  } cases[] = {
      {{}, credentials, "settings.page_id"},
      {{{"page_id", "12ab"}}, credentials, "settings.page_id"},
      {{{"page_id", "1"}, {"instagram_id", "2"}}, credentials, "settings.instagram_id"},
      {{{"page_id", "1"}, {"api_base_url", "ftp://x"}}, credentials, "settings.api_base_url"},
      {{{"page_id", "1"}, {"api_version", "21"}}, credentials, "settings.api_version"},
      {{{"page_id", "1"}},
       {{"verify_token", "v"}, {"access_token", "a"}},
       "credentials.app_secret"},
      {{{"page_id", "1"}},
       {{"app_secret", "s"}, {"access_token", "a"}},
       "credentials.verify_token"},
      {{{"page_id", "1"}},
       {{"app_secret", "s"}, {"verify_token", "v"}},
       "credentials.access_token"},
      {{{"page_id", "1"}},
       {{"app_secret", "s"}, {"verify_token", "v"}, {"access_token", "a"}, {"x", "y"}},
       "credentials.x"},
  };
  for (Case& c : cases) {
    auto result = adapter.PrepareConnection(c.settings, c.credentials);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.field), std::string::npos)
        << result.status().message();
  }
}

TEST(MessengerAdapterTest, ClientIdentityIsThePageId) {
  AdapterDeps deps;
  MessengerAdapter adapter(deps);
  ConnectionContext c;
  c.settings["page_id"] = "1234567890";
  EXPECT_EQ(adapter.ClientIdentity(c), "1234567890");
}

class MessengerLiveTest : public ::testing::Test {
 protected:
  MessengerLiveTest() : h_("page_id", "111") {}
  testing::LiveHarness<MessengerAdapter, MessengerSimulator> h_;
};

TEST_F(MessengerLiveTest, SendsTextWithTheBearerToken) {
  SendOutcome o = h_.Send(TextContent{.text = "Hello"});
  ASSERT_EQ(o.kind, SendOutcome::Kind::kSent) << o.error.code << " " << o.error.message;
  EXPECT_EQ(o.provider_message_id.rfind("m_sim.messenger.", 0), 0u);
  auto sent = h_.simulator_.Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, "/v21.0/111/messages");
  EXPECT_EQ(HeaderOf(sent[0], "authorization"), "Bearer page-token");
  EXPECT_EQ(sent[0].body,
            R"({"recipient":{"id":"222"},"messaging_type":"RESPONSE","message":{"text":"Hello"}})");
}

TEST_F(MessengerLiveTest, RateLimitIsRetriedAndAnsweredOnce) {
  h_.simulator_.FailNext(MessagingSimulator::RateLimitFault());
  SendOutcome limited = h_.Send(TextContent{.text = "Hello"});
  EXPECT_EQ(limited.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(limited.error.code, "meta_613");
  EXPECT_EQ(h_.Send(TextContent{.text = "Hello"}).kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(h_.simulator_.Sent().size(), 2u);
}

TEST_F(MessengerLiveTest, ServerErrorAndTimeoutAreRetried) {
  h_.simulator_.FailNext(MessagingSimulator::ServerErrorFault());
  EXPECT_EQ(h_.Send(TextContent{.text = "x"}).kind, SendOutcome::Kind::kRetry);
  h_.deps_.send_timeout = Millis(200);
  h_.adapter_ = std::make_unique<MessengerAdapter>(h_.deps_);
  h_.simulator_.FailNext(MessagingSimulator::DelayFault(Millis(1500)));
  SendOutcome timeout = h_.Send(TextContent{.text = "x"});
  EXPECT_EQ(timeout.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(timeout.error.code, "timeout");
}

TEST_F(MessengerLiveTest, PermanentErrorsCarryMetaCodes) {
  h_.simulator_.FailNext(MessagingSimulator::PermanentFault(551, "This person isn't available"));
  SendOutcome o = h_.Send(TextContent{.text = "x"});
  EXPECT_EQ(o.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(o.error.code, "meta_551");
  EXPECT_EQ(o.error.message, "This person isn't available");

  h_.connection_.credentials["access_token"] = "wrong";
  SendOutcome token = h_.Send(TextContent{.text = "x"});
  EXPECT_EQ(token.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(token.error.code, "meta_190");
}

TEST_F(MessengerLiveTest, UnrenderableContentNeverReachesTheProvider) {
  TemplateContent t;
  t.name = "hello_world";
  t.language = "en_US";
  SendOutcome o = h_.Send(t);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(o.error.code, "unsupported_content");
  EXPECT_TRUE(h_.simulator_.Sent().empty());

  h_.connection_.credentials.erase("access_token");
  EXPECT_EQ(h_.Send(TextContent{.text = "x"}).error.code, "connection_misconfigured");
}

TEST_F(MessengerLiveTest, UnreachableProviderIsRetried) {
  h_.connection_.settings["api_base_url"] = "http://127.0.0.1:1";
  SendOutcome o = h_.Send(TextContent{.text = "x"});
  EXPECT_EQ(o.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(o.error.code, "unreachable");
}

TEST_F(MessengerLiveTest, SendsSenderActions) {
  SignalRequest typing;
  typing.kind = SignalRequest::Kind::kTypingOn;
  typing.contact_id = "222";
  Status s = h_.Run(h_.adapter_->SendSignal(typing, h_.connection_));
  EXPECT_TRUE(s.ok()) << s.ToString();
  SignalRequest read = typing;
  read.kind = SignalRequest::Kind::kRead;
  EXPECT_TRUE(h_.Run(h_.adapter_->SendSignal(read, h_.connection_)).ok());
  auto sent = h_.simulator_.Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, R"({"recipient":{"id":"222"},"sender_action":"typing_on"})");
  EXPECT_EQ(sent[1].body, R"({"recipient":{"id":"222"},"sender_action":"mark_seen"})");

  h_.simulator_.FailNext(MessagingSimulator::RateLimitFault());
  EXPECT_EQ(h_.Run(h_.adapter_->SendSignal(typing, h_.connection_)).code(),
            StatusCode::kUnavailable);
}

TEST_F(MessengerLiveTest, FetchesMediaFromTheCdn) {
  std::string url = h_.simulator_.AddMedia({"PNGDATA", "image/png", "cat.png"});
  MediaRef ref;
  ref.ref = url;
  auto fetched = h_.Run(h_.adapter_->FetchMedia(ref, h_.connection_, 1024));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->bytes, "PNGDATA");
  EXPECT_EQ(fetched->mime_type, "image/png");

  EXPECT_EQ(h_.Run(h_.adapter_->FetchMedia(ref, h_.connection_, 3)).status().code(),
            StatusCode::kResourceExhausted);
  ref.ref = h_.root_ + "/cdn/media-999";
  EXPECT_EQ(h_.Run(h_.adapter_->FetchMedia(ref, h_.connection_, 1024)).status().code(),
            StatusCode::kNotFound);
  ref.ref = "file:///etc/passwd";
  EXPECT_EQ(h_.Run(h_.adapter_->FetchMedia(ref, h_.connection_, 1024)).status().code(),
            StatusCode::kInvalidArgument);
  ref.ref = "http://127.0.0.1:1/x.png";
  EXPECT_EQ(h_.Run(h_.adapter_->FetchMedia(ref, h_.connection_, 1024)).status().code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace parley::channels::messenger

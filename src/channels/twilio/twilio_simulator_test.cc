#include "channels/twilio/twilio_simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "channels/twilio/twilio_adapter.h"
#include "http/client.h"
#include "http/io_runtime.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/test_support.h"

namespace parley::channels::twilio {
namespace {

using http::testing::RunSync;

constexpr char kSid[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "simulated-auth-token";
constexpr char kWebhookUrl[] = "https://parley.example.com/v1/webhooks/con_1?tenant=t1";

// The request Parley's server would hand the adapter for `r`.
http::Request AsReceived(const http::ClientRequest& r) {
  http::Request out;
  out.method = r.method;
  size_t path_start = r.url.find('/', r.url.find("://") + 3);
  out.target = r.url.substr(path_start);
  out.path = out.target.substr(0, out.target.find('?'));
  for (const auto& [k, v] : r.headers) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    out.headers.emplace_back(lower, v);
  }
  out.body = r.body;
  return out;
}

class TwilioSimulatorTest : public ::testing::Test {
 protected:
  TwilioSimulatorTest() : simulator_(kSid, kToken) {
    simulator_.Register(router_);
    runtime_.Start(2);
    http::ServerOptions options;
    options.access_log = [](const http::AccessLogEntry&) {};
    server_ = std::make_unique<http::Server>(runtime_.context(), options, router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok());
    base_url_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 0);
    client_ = std::make_unique<http::Client>(runtime_.context(), http::ClientOptions{});
    deps_.client = client_.get();
    deps_.send_timeout = Millis(5000);
    adapter_ = std::make_unique<TwilioAdapter>(deps_);
    connection_.kind = "twilio";
    connection_.settings = {{"account_sid", kSid},
                            {"from", "+15550000001"},
                            {"api_base_url", base_url_},
                            {"webhook_url", "https://parley.example.com/v1/webhooks/con_1"}};
    connection_.credentials = {{"auth_token", kToken}};
  }

  ~TwilioSimulatorTest() override {
    server_->Stop();
    runtime_.Stop();
  }

  SendOutcome Send(std::string text) {
    OutboundRequest request;
    request.message.content = TextContent{std::move(text)};
    request.contact_id = "+15550000002";
    auto outcome = RunSync(runtime_.context(), adapter_->Send(request, connection_));
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(SendOutcome{});
  }

  http::IoRuntime runtime_;
  http::Router router_;
  http::Metrics metrics_;
  TwilioSimulator simulator_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  std::string base_url_;
  AdapterDeps deps_;
  std::unique_ptr<TwilioAdapter> adapter_;
  ConnectionContext connection_;
};

TEST_F(TwilioSimulatorTest, SendRecordsTheRequestAndAnswersWithASid) {
  SendOutcome outcome = Send("Hello from Parley");
  ASSERT_EQ(outcome.kind, SendOutcome::Kind::kSent) << outcome.error.code;
  EXPECT_EQ(outcome.provider_message_id.substr(0, 2), "SM");
  EXPECT_EQ(outcome.provider_message_id.size(), 34u);
  auto received = simulator_.state().ReceivedUnder("/2010-04-01/Accounts/");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  auto params = ParseForm(received[0].body);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*FindParam(*params, "To"), "+15550000002");
  EXPECT_EQ(*FindParam(*params, "From"), "+15550000001");
  EXPECT_EQ(*FindParam(*params, "Body"), "Hello from Parley");
}

TEST_F(TwilioSimulatorTest, SendWithWrongCredentialsFailsPermanently) {
  connection_.credentials["auth_token"] = "wrong";
  SendOutcome outcome = Send("Hi");
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(outcome.error.code, "twilio_20003");
}

TEST_F(TwilioSimulatorTest, AFaultIsAnsweredOnce) {
  simulator_.state().FailNext(TwilioSimulator::RateLimited(3));
  SendOutcome limited = Send("Hi");
  EXPECT_EQ(limited.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(limited.error.code, "twilio_20429");
  EXPECT_EQ(limited.retry_after, Millis(3000));
  EXPECT_EQ(Send("Hi").kind, SendOutcome::Kind::kSent);

  simulator_.state().FailNext(TwilioSimulator::ServerError());
  EXPECT_EQ(Send("Hi").kind, SendOutcome::Kind::kRetry);
  simulator_.state().FailNext(TwilioSimulator::Rejected(21211, "Invalid 'To' Phone Number"));
  SendOutcome rejected = Send("Hi");
  EXPECT_EQ(rejected.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(rejected.error.code, "twilio_21211");
  EXPECT_EQ(rejected.error.message, "Invalid 'To' Phone Number");
}

TEST_F(TwilioSimulatorTest, ADelayBeyondTheTimeoutIsRetried) {
  deps_.send_timeout = Millis(100);
  adapter_ = std::make_unique<TwilioAdapter>(deps_);
  simulator_.state().FailNext(TwilioSimulator::Timeout(Millis(1000)));
  SendOutcome outcome = Send("Hi");
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "timeout");
}

TEST_F(TwilioSimulatorTest, SignedSmsVerifiesAndParses) {
  http::Request request =
      AsReceived(simulator_.InboundSms(kWebhookUrl, "+15550000002", "+15550000001", "Hi there"));
  ASSERT_TRUE(adapter_->VerifyWebhook(request, connection_, {}).ok());
  auto batch = adapter_->ParseWebhook(request);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundMessage& m = batch->messages.at(0);
  EXPECT_EQ(m.contact_id, "+15550000002");
  EXPECT_EQ(m.client_identity, adapter_->ClientIdentity(connection_));
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hi there");

  // Through server.public_url instead of the webhook_url setting.
  connection_.settings.erase("webhook_url");
  deps_.public_url = "https://parley.example.com";
  TwilioAdapter via_public(deps_);
  EXPECT_TRUE(via_public.VerifyWebhook(request, connection_, {}).ok());

  request.body += "&Extra=1";
  EXPECT_FALSE(adapter_->VerifyWebhook(request, connection_, {}).ok());
}

TEST_F(TwilioSimulatorTest, MmsMediaIsFetchedThroughTheRedirect) {
  http::Request request = AsReceived(simulator_.InboundMms(
      kWebhookUrl, base_url_, "+15550000002", "+15550000001", "a cat",
      sim::MediaFile{
          .bytes = std::string("\x89PNG fake", 9), .mime_type = "image/png", .filename = ""}));
  ASSERT_TRUE(adapter_->VerifyWebhook(request, connection_, {}).ok());
  auto batch = adapter_->ParseWebhook(request);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundMessage& m = batch->messages.at(0);
  EXPECT_EQ(std::get<MediaContent>(m.content).caption, "a cat");
  ASSERT_EQ(m.media.size(), 1u);
  auto fetched = RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 1024));
  ASSERT_TRUE(fetched.has_value());
  ASSERT_TRUE(fetched->ok()) << fetched->status().ToString();
  EXPECT_EQ((*fetched)->bytes, std::string("\x89PNG fake", 9));
  EXPECT_EQ((*fetched)->mime_type, "image/png");
  EXPECT_EQ(simulator_.state().ReceivedUnder("/cdn/").size(), 1u);

  auto too_big = RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 4));
  ASSERT_TRUE(too_big.has_value());
  EXPECT_EQ(too_big->status().code(), StatusCode::kResourceExhausted);

  MediaRef missing = m.media[0];
  missing.ref = missing.ref.substr(0, missing.ref.rfind('/')) + "/media-999";
  auto not_found = RunSync(runtime_.context(), adapter_->FetchMedia(missing, connection_, 1024));
  EXPECT_EQ(not_found->status().code(), StatusCode::kNotFound);

  connection_.credentials["auth_token"] = "wrong";
  auto denied = RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 1024));
  EXPECT_EQ(denied->status().code(), StatusCode::kPermissionDenied);

  simulator_.state().FailNext(TwilioSimulator::ServerError());
  connection_.credentials["auth_token"] = kToken;
  auto unavailable =
      RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 1024));
  EXPECT_EQ(unavailable->status().code(), StatusCode::kUnavailable);
}

TEST_F(TwilioSimulatorTest, StatusCallbackForASentMessage) {
  SendOutcome sent = Send("Hi");
  ASSERT_EQ(sent.kind, SendOutcome::Kind::kSent);
  http::Request request =
      AsReceived(simulator_.StatusCallback(kWebhookUrl, sent.provider_message_id, "undelivered",
                                           "+15550000001", "+15550000002", "30003"));
  ASSERT_TRUE(adapter_->VerifyWebhook(request, connection_, {}).ok());
  auto batch = adapter_->ParseWebhook(request);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const InboundStatus& s = batch->statuses.at(0);
  EXPECT_EQ(s.provider_message_id, sent.provider_message_id);
  EXPECT_EQ(s.status, DeliveryStatus::kFailed);
  EXPECT_EQ(s.error->code, "twilio_30003");
  EXPECT_EQ(s.client_identity, "+15550000001");
}

}  // namespace
}  // namespace parley::channels::twilio

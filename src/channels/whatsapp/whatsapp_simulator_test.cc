#include "channels/whatsapp/whatsapp_simulator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <future>

#include "channels/whatsapp/whatsapp_adapter.h"
#include "http/io_runtime.h"
#include "http/server.h"

namespace parley::channels::whatsapp {
namespace {

namespace json = boost::json;

constexpr std::string_view kPhone = "106540352242922";
constexpr std::string_view kToken = "EAAG-token";
constexpr std::string_view kAppSecret = "app-secret-for-tests";

template <class T>
boost::asio::awaitable<std::optional<T>> Wrap(boost::asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

// The request as Parley's server would hand it to the adapter.
http::Request Received(const http::ClientRequest& sent) {
  http::Request r;
  r.method = sent.method;
  r.body = sent.body;
  for (const auto& [name, value] : sent.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(lower, value);
  }
  return r;
}

std::string HeaderOf(const sim::RecordedRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class WhatsAppSimulatorTest : public ::testing::Test {
 protected:
  WhatsAppSimulatorTest()
      : clock_(FromUnixMillis(1'763'708'000'000)),
        simulator_({.access_token = std::string(kToken), .clock = &clock_}) {
    simulator_.Register(router_);
    runtime_.Start(2);
    http::ServerOptions options;
    options.access_log = [](const http::AccessLogEntry&) {};
    server_ = std::make_unique<http::Server>(runtime_.context(), options, router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok());
    client_ = std::make_unique<http::Client>(runtime_.context(), http::ClientOptions{});
    deps_.client = client_.get();
    deps_.clock = &clock_;
    deps_.send_timeout = Millis(5000);
    adapter_ = std::make_unique<WhatsAppAdapter>(deps_);
    connection_.kind = "whatsapp";
    connection_.settings = {{"phone_number_id", kPhone},
                            {"api_base_url", fmt::format("http://127.0.0.1:{}", *port)},
                            {"api_version", "v21.0"}};
    connection_.credentials = {
        {"app_secret", kAppSecret}, {"verify_token", "verify"}, {"access_token", kToken}};
    target_ = {.url = "http://127.0.0.1:1/v1/webhooks/conn_1",
               .app_secret = std::string(kAppSecret),
               .phone_number_id = std::string(kPhone)};
  }
  ~WhatsAppSimulatorTest() override {
    server_->Stop();
    runtime_.Stop();
  }

  template <class T>
  T Run(boost::asio::awaitable<T> task) {
    auto future =
        boost::asio::co_spawn(runtime_.context(), Wrap(std::move(task)), boost::asio::use_future);
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return *future.get();
  }

  SendOutcome SendText(WhatsAppAdapter& adapter, std::string text) {
    OutboundRequest request;
    request.message.direction = Direction::kOutbound;
    request.message.content = TextContent{std::move(text)};
    request.contact_id = "16505551234";
    return Run(adapter.Send(request, connection_));
  }

  InboundBatch VerifyAndParse(const http::ClientRequest& hook) {
    http::Request request = Received(hook);
    EXPECT_TRUE(adapter_->VerifyWebhook(request, connection_, clock_.Now()).ok());
    auto batch = adapter_->ParseWebhook(request);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  FakeClock clock_;
  WhatsAppSimulator simulator_;
  http::Router router_;
  http::Metrics metrics_;
  http::IoRuntime runtime_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  AdapterDeps deps_;
  std::unique_ptr<WhatsAppAdapter> adapter_;
  ConnectionContext connection_;
  WebhookTarget target_;
};

TEST_F(WhatsAppSimulatorTest, SignedTextWebhookVerifiesAndParses) {
  http::ClientRequest hook =
      simulator_.CustomerText(target_, "Ol\xC3\xA1 \xF0\x9F\x91\x8B",
                              {.wa_id = "4915112345678", .name = "J\xC3\xBCrgen"}, "wamid.T1");
  EXPECT_EQ(hook.url, target_.url);
  // Meta escapes non-ASCII: the signed bytes are plain ASCII.
  EXPECT_NE(hook.body.find("\\u00e1"), std::string::npos);
  EXPECT_NE(hook.body.find("\\ud83d\\udc4b"), std::string::npos);
  InboundBatch batch = VerifyAndParse(hook);
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(m.provider_message_id, "wamid.T1");
  EXPECT_EQ(m.contact_id, "4915112345678");
  EXPECT_EQ(m.contact_name, "J\xC3\xBCrgen");
  EXPECT_EQ(m.client_identity, kPhone);
  EXPECT_EQ(ToUnixSeconds(*m.sent_at), ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Ol\xC3\xA1 \xF0\x9F\x91\x8B");

  ConnectionContext other = connection_;
  other.credentials["app_secret"] = "another-secret";
  EXPECT_FALSE(adapter_->VerifyWebhook(Received(hook), other, clock_.Now()).ok());
}

TEST_F(WhatsAppSimulatorTest, StatusWebhooksParse) {
  InboundBatch delivered =
      VerifyAndParse(simulator_.StatusUpdate(target_, "wamid.OUT", "delivered", "16505551234"));
  ASSERT_EQ(delivered.statuses.size(), 1u);
  EXPECT_EQ(delivered.statuses[0].provider_message_id, "wamid.OUT");
  EXPECT_EQ(delivered.statuses[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(delivered.statuses[0].client_identity, kPhone);
  InboundBatch failed = VerifyAndParse(simulator_.StatusUpdate(target_, "wamid.OUT", "failed"));
  ASSERT_EQ(failed.statuses.size(), 1u);
  EXPECT_EQ(failed.statuses[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ(failed.statuses[0].error->code, "meta_131026");
}

TEST_F(WhatsAppSimulatorTest, SendIsRecordedAndAnsweredWithAWamid) {
  SendOutcome outcome = SendText(*adapter_, "Hello");
  ASSERT_EQ(outcome.kind, SendOutcome::Kind::kSent) << outcome.error.message;
  EXPECT_EQ(outcome.provider_message_id.rfind("wamid.SIM", 0), 0u);
  auto received = simulator_.state().ReceivedUnder("/v21.0/106540352242922/messages");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(HeaderOf(received[0], "authorization"), "Bearer EAAG-token");
  EXPECT_EQ(
      json::parse(received[0].body),
      json::parse(
          R"({"messaging_product":"whatsapp","recipient_type":"individual",)"
          R"("to":"16505551234","type":"text","text":{"preview_url":false,"body":"Hello"}})"));
  SendOutcome second = SendText(*adapter_, "Again");
  EXPECT_NE(second.provider_message_id, outcome.provider_message_id);
}

TEST_F(WhatsAppSimulatorTest, FaultsAreAnsweredOnce) {
  simulator_.state().FailNext(WhatsAppSimulator::RateLimited());
  SendOutcome limited = SendText(*adapter_, "1");
  EXPECT_EQ(limited.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(limited.error.code, "meta_130429");
  EXPECT_EQ(SendText(*adapter_, "2").kind, SendOutcome::Kind::kSent);

  simulator_.state().FailNext(WhatsAppSimulator::ServerError());
  EXPECT_EQ(SendText(*adapter_, "3").kind, SendOutcome::Kind::kRetry);
  simulator_.state().FailNext(WhatsAppSimulator::Rejected(131047, "Re-engagement message"));
  SendOutcome rejected = SendText(*adapter_, "4");
  EXPECT_EQ(rejected.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(rejected.error.code, "meta_131047");
  EXPECT_EQ(rejected.error.message, "Re-engagement message");
  EXPECT_EQ(SendText(*adapter_, "5").kind, SendOutcome::Kind::kSent);
}

TEST_F(WhatsAppSimulatorTest, ASlowAnswerIsATimeout) {
  AdapterDeps impatient = deps_;
  impatient.send_timeout = Millis(100);
  WhatsAppAdapter adapter(impatient);
  simulator_.state().FailNext(WhatsAppSimulator::Slow(Millis(1000)));
  SendOutcome outcome = SendText(adapter, "slow");
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "timeout");
}

TEST_F(WhatsAppSimulatorTest, AWrongTokenFailsPermanently) {
  connection_.credentials["access_token"] = "EAAG-wrong";
  SendOutcome outcome = SendText(*adapter_, "hi");
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(outcome.error.code, "meta_190");
}

TEST_F(WhatsAppSimulatorTest, CustomerImageIsFetchedInTwoStepsWithTheToken) {
  std::string bytes = "\x89PNG\r\n\x1a\n-not-really-a-png";
  InboundBatch batch =
      VerifyAndParse(simulator_.CustomerImage(target_, {bytes, "image/png", ""}, "A caption"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(std::get<MediaContent>(m.content).caption, "A caption");
  ASSERT_EQ(m.media.size(), 1u);
  Result<FetchedMedia> fetched = Run(adapter_->FetchMedia(m.media[0], connection_, 1 << 20));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->bytes, bytes);
  EXPECT_EQ(fetched->mime_type, "image/png");
  auto lookups = simulator_.state().ReceivedUnder("/v21.0/" + m.media[0].ref);
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(HeaderOf(lookups[0], "authorization"), "Bearer EAAG-token");
  auto downloads = simulator_.state().ReceivedUnder("/whatsapp_business/attachments");
  ASSERT_EQ(downloads.size(), 1u);
  EXPECT_EQ(HeaderOf(downloads[0], "authorization"), "Bearer EAAG-token");

  // Too large: refused from the declared size, before the download.
  Result<FetchedMedia> big = Run(adapter_->FetchMedia(m.media[0], connection_, 4));
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(simulator_.state().ReceivedUnder("/whatsapp_business/attachments").size(), 1u);

  // A digest that does not match the bytes.
  MediaRef tampered = m.media[0];
  tampered.sha256 = std::string(64, 'a');
  EXPECT_EQ(Run(adapter_->FetchMedia(tampered, connection_, 1 << 20)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WhatsAppSimulatorTest, MediaFailuresMapToStatusCodes) {
  MediaRef unknown{"media-999", "image/png", "", ""};
  EXPECT_EQ(Run(adapter_->FetchMedia(unknown, connection_, 1 << 20)).status().code(),
            StatusCode::kInvalidArgument);
  MediaRef hostile{"../me", "", "", ""};
  EXPECT_EQ(Run(adapter_->FetchMedia(hostile, connection_, 1 << 20)).status().code(),
            StatusCode::kInvalidArgument);
  std::string id = simulator_.state().AddMedia({"bytes", "image/png", ""});
  simulator_.state().FailNext(WhatsAppSimulator::ServerError());
  EXPECT_EQ(Run(adapter_->FetchMedia({id, "", "", ""}, connection_, 1 << 20)).status().code(),
            StatusCode::kUnavailable);
  simulator_.state().FailNext({.status = 429, .body = "{}"});
  EXPECT_EQ(Run(adapter_->FetchMedia({id, "", "", ""}, connection_, 1 << 20)).status().code(),
            StatusCode::kUnavailable);
  ConnectionContext wrong = connection_;
  wrong.credentials["access_token"] = "EAAG-wrong";
  EXPECT_EQ(Run(adapter_->FetchMedia({id, "", "", ""}, wrong, 1 << 20)).status().code(),
            StatusCode::kPermissionDenied);
  // The download route itself insists on the token.
  http::ClientRequest bare;
  bare.url = fmt::format("{}/whatsapp_business/attachments?mid={}",
                         connection_.settings.at("api_base_url").as_string().c_str(), id);
  Result<http::ClientResponse> response = Run(client_->Send(bare));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
}

TEST_F(WhatsAppSimulatorTest, ReadMarksAndTypingRideOnTheMessagesRoute) {
  Status read = Run(
      adapter_->SendSignal({SignalRequest::Kind::kRead, "16505551234", "wamid.IN"}, connection_));
  EXPECT_TRUE(read.ok()) << read.ToString();
  Status typing = Run(adapter_->SendSignal(
      {SignalRequest::Kind::kTypingOn, "16505551234", "wamid.IN"}, connection_));
  EXPECT_TRUE(typing.ok()) << typing.ToString();
  Status off =
      Run(adapter_->SendSignal({SignalRequest::Kind::kTypingOff, "1", "wamid.IN"}, connection_));
  EXPECT_TRUE(off.ok());
  auto received = simulator_.state().ReceivedUnder("/v21.0/106540352242922/messages");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(
      json::parse(received[0].body),
      json::parse(R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN"})"));
  EXPECT_EQ(json::parse(received[1].body).at("typing_indicator").at("type"), "text");
  simulator_.state().FailNext(WhatsAppSimulator::ServerError());
  EXPECT_EQ(
      Run(adapter_->SendSignal({SignalRequest::Kind::kRead, "1", "wamid.IN"}, connection_)).code(),
      StatusCode::kUnavailable);
}

TEST(WhatsAppEscapeTest, EscapesLikeMeta) {
  EXPECT_EQ(EscapeNonAscii("{\"a\":\"\xC3\xA4\xC3\xB6\xC3\xA5\"}"),
            "{\"a\":\"\\u00e4\\u00f6\\u00e5\"}");
  EXPECT_EQ(EscapeNonAscii("\xF0\x9F\x91\x8D"), "\\ud83d\\udc4d");
  EXPECT_EQ(EscapeNonAscii("plain"), "plain");
}

}  // namespace
}  // namespace parley::channels::whatsapp

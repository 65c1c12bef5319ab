#include "channels/telegram/telegram_simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "channels/telegram/telegram_adapter.h"
#include "http/client.h"
#include "http/io_runtime.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/test_support.h"

namespace parley::channels::telegram {
namespace {

namespace json = boost::json;

Attachment Linked(std::string url, std::string mime_type) {
  Attachment a;
  a.url = std::move(url);
  a.mime_type = std::move(mime_type);
  return a;
}
using http::testing::RunSync;

constexpr char kToken[] = "987654321:SimulatedTokenSimulatedToken_abc-123";
constexpr char kSecret[] = "simulated-secret_token";
constexpr char kWebhookUrl[] = "https://parley.example.com/v1/webhooks/con_1";

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

class TelegramSimulatorTest : public ::testing::Test {
 protected:
  TelegramSimulatorTest() : simulator_(kToken, kSecret) {
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
    adapter_ = std::make_unique<TelegramAdapter>(deps_);
    connection_.kind = "telegram";
    connection_.settings = {{"api_base_url", base_url_}};
    connection_.credentials = {{"bot_token", kToken}, {"secret_token", kSecret}};
  }

  ~TelegramSimulatorTest() override {
    server_->Stop();
    runtime_.Stop();
  }

  SendOutcome Send(Content content, std::string contact = "4242") {
    OutboundRequest request;
    request.message.content = std::move(content);
    request.contact_id = std::move(contact);
    auto outcome = RunSync(runtime_.context(), adapter_->Send(request, connection_));
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(SendOutcome{});
  }

  InboundBatch Receive(const http::ClientRequest& hook) {
    http::Request request = AsReceived(hook);
    EXPECT_TRUE(adapter_->VerifyWebhook(request, connection_, {}).ok());
    auto batch = adapter_->ParseWebhook(request);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  http::IoRuntime runtime_;
  http::Router router_;
  http::Metrics metrics_;
  TelegramSimulator simulator_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  std::string base_url_;
  AdapterDeps deps_;
  std::unique_ptr<TelegramAdapter> adapter_;
  ConnectionContext connection_;
};

TEST_F(TelegramSimulatorTest, SendRecordsTheCallAndReturnsChatAndMessageId) {
  SendOutcome outcome = Send(TextContent{"Hello"});
  ASSERT_EQ(outcome.kind, SendOutcome::Kind::kSent) << outcome.error.message;
  EXPECT_EQ(outcome.provider_message_id.substr(0, 5), "4242:");
  auto received = simulator_.state().ReceivedUnder("/bot");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, std::string("/bot") + kToken + "/sendMessage");
  EXPECT_EQ(json::parse(received[0].body), json::parse(R"({"chat_id":4242,"text":"Hello"})"));
}

TEST_F(TelegramSimulatorTest, AWrongTokenFailsPermanently) {
  connection_.credentials["bot_token"] = "987654321:WrongTokenWrongTokenWrongToken_x";
  SendOutcome outcome = Send(TextContent{"Hello"});
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(outcome.error.code, "telegram_401");
}

TEST_F(TelegramSimulatorTest, AFaultIsAnsweredOnce) {
  simulator_.state().FailNext(TelegramSimulator::RateLimited(5));
  SendOutcome limited = Send(TextContent{"Hi"});
  EXPECT_EQ(limited.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(limited.retry_after, Millis(5000));
  EXPECT_EQ(Send(TextContent{"Hi"}).kind, SendOutcome::Kind::kSent);
  simulator_.state().FailNext(TelegramSimulator::ServerError());
  EXPECT_EQ(Send(TextContent{"Hi"}).kind, SendOutcome::Kind::kRetry);
  simulator_.state().FailNext(
      TelegramSimulator::Rejected(403, "Forbidden: bot was blocked by the user"));
  SendOutcome blocked = Send(TextContent{"Hi"});
  EXPECT_EQ(blocked.kind, SendOutcome::Kind::kPermanentFailure);
  EXPECT_EQ(blocked.error.code, "telegram_403");
}

TEST_F(TelegramSimulatorTest, ADelayBeyondTheTimeoutIsRetried) {
  deps_.send_timeout = Millis(100);
  adapter_ = std::make_unique<TelegramAdapter>(deps_);
  simulator_.state().FailNext(TelegramSimulator::Timeout(Millis(1000)));
  SendOutcome outcome = Send(TextContent{"Hi"});
  EXPECT_EQ(outcome.kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(outcome.error.code, "timeout");
}

TEST_F(TelegramSimulatorTest, ButtonsAndAlbumsAreAccepted) {
  InteractiveContent buttons;
  buttons.kind = InteractiveKind::kButtons;
  buttons.body = "Size?";
  buttons.choices = {{"s", "Small"}, {"l", "Large"}};
  EXPECT_EQ(Send(buttons).kind, SendOutcome::Kind::kSent);
  MediaContent album;
  album.kind = MediaKind::kImage;
  album.attachments = {Linked("https://p.example/1", "image/png"),
                       Linked("https://p.example/2", "image/png")};
  SendOutcome sent = Send(album);
  EXPECT_EQ(sent.kind, SendOutcome::Kind::kSent);
  EXPECT_EQ(sent.provider_message_id.substr(0, 5), "4242:");
}

TEST_F(TelegramSimulatorTest, TextUpdateVerifiesAndParses) {
  InboundBatch batch = Receive(simulator_.TextUpdate(kWebhookUrl, 4242, "Ana", "hello"));
  const InboundMessage& m = batch.messages.at(0);
  EXPECT_EQ(m.contact_id, "4242");
  EXPECT_EQ(m.contact_name, "Ana");
  EXPECT_EQ(std::get<TextContent>(m.content).text, "hello");

  http::Request forged = AsReceived(simulator_.TextUpdate(kWebhookUrl, 4242, "Ana", "x"));
  forged.headers.back().second = "another-secret";
  EXPECT_FALSE(adapter_->VerifyWebhook(forged, connection_, {}).ok());
}

TEST_F(TelegramSimulatorTest, PhotoIsFetchedThroughGetFile) {
  std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, 'j');
  InboundBatch batch = Receive(simulator_.PhotoUpdate(
      kWebhookUrl, 4242, "Ana", "my cat",
      sim::MediaFile{.bytes = jpeg, .mime_type = "image/jpeg", .filename = ""}));
  const InboundMessage& m = batch.messages.at(0);
  EXPECT_EQ(std::get<MediaContent>(m.content).caption, "my cat");
  ASSERT_EQ(m.media.size(), 1u);
  auto fetched = RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 4096));
  ASSERT_TRUE(fetched.has_value());
  ASSERT_TRUE(fetched->ok()) << fetched->status().ToString();
  EXPECT_EQ((*fetched)->bytes, jpeg);  // the largest size, not the thumbnail
  EXPECT_EQ((*fetched)->mime_type, "image/jpeg");
  EXPECT_EQ(simulator_.state().ReceivedUnder("/file/bot").size(), 1u);

  // getFile's file_size already says it is too big: no download.
  auto too_big = RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 10));
  EXPECT_EQ(too_big->status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(simulator_.state().ReceivedUnder("/file/bot").size(), 1u);

  MediaRef unknown = m.media[0];
  unknown.ref = "nope";
  auto invalid = RunSync(runtime_.context(), adapter_->FetchMedia(unknown, connection_, 4096));
  EXPECT_FALSE(invalid->ok());

  simulator_.state().FailNext(TelegramSimulator::ServerError());
  auto unavailable =
      RunSync(runtime_.context(), adapter_->FetchMedia(m.media[0], connection_, 4096));
  EXPECT_EQ(unavailable->status().code(), StatusCode::kUnavailable);
}

TEST_F(TelegramSimulatorTest, CallbackQueryIsAcknowledgedWithAnswerCallbackQuery) {
  InboundBatch batch =
      Receive(simulator_.CallbackQueryUpdate(kWebhookUrl, 4242, 15, "Large", "size_l"));
  const InboundMessage& m = batch.messages.at(0);
  const auto& reply = std::get<ReplyContent>(m.content);
  EXPECT_EQ(reply.title, "Large");
  EXPECT_EQ(reply.payload, "size_l");
  EXPECT_EQ(m.reply_to_provider_id, "4242:15");
  auto ack = adapter_->Acknowledgement(batch);
  ASSERT_TRUE(ack.has_value());
  json::value body = json::parse(ack->body);
  EXPECT_EQ(body.at("method"), "answerCallbackQuery");
  EXPECT_EQ(body.at("callback_query_id").as_string(), batch.ack_data);
  EXPECT_EQ(m.provider_message_id, "cbq:" + batch.ack_data);
}

TEST_F(TelegramSimulatorTest, TypingSignalCallsSendChatAction) {
  SignalRequest typing;
  typing.kind = SignalRequest::Kind::kTypingOn;
  typing.contact_id = "4242";
  auto status = RunSync(runtime_.context(), adapter_->SendSignal(typing, connection_));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << status->ToString();
  auto received =
      simulator_.state().ReceivedUnder(std::string("/bot") + kToken + "/sendChatAction");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(json::parse(received[0].body), json::parse(R"({"chat_id":4242,"action":"typing"})"));

  SignalRequest read;
  read.kind = SignalRequest::Kind::kRead;
  read.contact_id = "4242";
  auto noop = RunSync(runtime_.context(), adapter_->SendSignal(read, connection_));
  EXPECT_TRUE(noop->ok());
  EXPECT_EQ(simulator_.state().Received().size(), 1u);
}

}  // namespace
}  // namespace parley::channels::telegram

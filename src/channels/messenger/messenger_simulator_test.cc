// The fake Messenger Platform: its webhooks verify and parse with the adapter, its Send API
// records and answers like Meta's, faults are answered once, and it serves media.
#include "channels/messenger/messenger_simulator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "channels/messenger/messenger_adapter.h"
#include "channels/messenger/messenger_test_support.h"

namespace parley::channels::messenger {
namespace {

namespace json = boost::json;
using testing::AsServerRequest;

class MessengerSimulatorTest : public ::testing::Test {
 protected:
  MessengerSimulatorTest() : h_("page_id", "111") {}

  // Verifies and parses a simulator webhook as Parley's server would.
  InboundBatch Deliver(const http::ClientRequest& hook) {
    EXPECT_EQ(hook.method, "POST");
    EXPECT_EQ(hook.url, h_.Target().url);
    http::Request request = AsServerRequest(hook);
    Status verified = h_.adapter_->VerifyWebhook(request, h_.connection_, h_.clock_.Now());
    EXPECT_TRUE(verified.ok()) << verified.ToString();
    auto batch = h_.adapter_->ParseWebhook(request);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  testing::LiveHarness<MessengerAdapter, MessengerSimulator> h_;
};

TEST_F(MessengerSimulatorTest, CustomerTextVerifiesAndParses) {
  InboundBatch batch = Deliver(h_.simulator_.CustomerText(h_.Target(), "222", "Hi there"));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(std::get<TextContent>(m.content).text, "Hi there");
  EXPECT_EQ(m.contact_id, "222");
  EXPECT_EQ(m.client_identity, h_.adapter_->ClientIdentity(h_.connection_));
  EXPECT_EQ(ToUnixMillis(*m.sent_at), 1'700'000'000'000);
  EXPECT_EQ(m.provider_message_id.rfind("m_sim.messenger.", 0), 0u);
  // The envelope is Messenger's.
  EXPECT_EQ(json::parse(h_.simulator_.CustomerText(h_.Target(), "222", "x").body).at("object"),
            "page");
}

TEST_F(MessengerSimulatorTest, WrongSecretDoesNotVerify) {
  WebhookTarget target = h_.Target();
  target.app_secret = "another";
  http::Request request = AsServerRequest(h_.simulator_.CustomerText(target, "222", "Hi"));
  EXPECT_EQ(h_.adapter_->VerifyWebhook(request, h_.connection_, h_.clock_.Now()).code(),
            StatusCode::kUnauthenticated);
}

TEST_F(MessengerSimulatorTest, CustomerImageRefersToServedMedia) {
  std::string url = h_.simulator_.AddMedia({"JPEGBYTES", "image/jpeg", ""});
  InboundBatch batch = Deliver(h_.simulator_.CustomerImage(h_.Target(), "222", url));
  ASSERT_EQ(batch.messages.size(), 1u);
  const InboundMessage& m = batch.messages[0];
  EXPECT_EQ(std::get<MediaContent>(m.content).kind, MediaKind::kImage);
  ASSERT_EQ(m.media.size(), 1u);
  EXPECT_EQ(m.media[0].ref, url);
  auto fetched = h_.Run(h_.adapter_->FetchMedia(m.media[0], h_.connection_, 1 << 20));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->bytes, "JPEGBYTES");
  EXPECT_EQ(fetched->mime_type, "image/jpeg");
}

TEST_F(MessengerSimulatorTest, PostbackAndQuickReply) {
  InboundBatch postback =
      Deliver(h_.simulator_.CustomerPostback(h_.Target(), "222", "Yes", "CONFIRM_YES"));
  ASSERT_EQ(postback.messages.size(), 1u);
  const auto& p = std::get<ReplyContent>(postback.messages[0].content);
  EXPECT_EQ(p.source, ReplySource::kPostback);
  EXPECT_EQ(p.title, "Yes");
  EXPECT_EQ(p.payload, "CONFIRM_YES");
  EXPECT_EQ(postback.messages[0].provider_message_id.rfind("m_sim.", 0), 0u);

  InboundBatch quick = Deliver(h_.simulator_.CustomerQuickReply(h_.Target(), "222", "Red", "RED"));
  ASSERT_EQ(quick.messages.size(), 1u);
  const auto& q = std::get<ReplyContent>(quick.messages[0].content);
  EXPECT_EQ(q.source, ReplySource::kQuickReply);
  EXPECT_EQ(q.title, "Red");
  EXPECT_EQ(q.payload, "RED");
}

TEST_F(MessengerSimulatorTest, DeliveryAndReadStatuses) {
  SendOutcome sent = h_.Send(TextContent{.text = "Hello"});
  ASSERT_EQ(sent.kind, SendOutcome::Kind::kSent);
  InboundBatch delivered =
      Deliver(h_.simulator_.Delivery(h_.Target(), "222", sent.provider_message_id));
  ASSERT_EQ(delivered.statuses.size(), 1u);
  EXPECT_EQ(delivered.statuses[0].provider_message_id, sent.provider_message_id);
  EXPECT_EQ(delivered.statuses[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(delivered.statuses[0].client_identity, "111");

  InboundBatch read =
      Deliver(h_.simulator_.ReadWatermark(h_.Target(), "222", FromUnixMillis(1'699'999'999'000)));
  ASSERT_EQ(read.statuses.size(), 1u);
  EXPECT_EQ(read.statuses[0].status, DeliveryStatus::kRead);
  EXPECT_EQ(ToUnixMillis(*read.statuses[0].watermark), 1'699'999'999'000);
  EXPECT_EQ(read.statuses[0].contact_id, "222");
}

// The Send API route directly, as any HTTP client sees it.
TEST_F(MessengerSimulatorTest, SendRouteRecordsChecksTheTokenAndFailsOnce) {
  auto post = [&](std::string token, std::string body) {
    http::ClientRequest r;
    r.method = "POST";
    r.url = h_.root_ + "/v21.0/111/messages";
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
    r.body = std::move(body);
    auto response = h_.Run(h_.client_->Send(std::move(r)));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : http::ClientResponse{};
  };
  const std::string text = R"({"recipient":{"id":"222"},"message":{"text":"a"}})";
  http::ClientResponse ok = post("page-token", text);
  EXPECT_EQ(ok.status, 200);
  json::value answer = json::parse(ok.body);
  EXPECT_EQ(answer.at("recipient_id"), "222");
  EXPECT_TRUE(answer.at("message_id").as_string().starts_with("m_sim.messenger."));

  http::ClientResponse bad_token = post("nope", text);
  EXPECT_EQ(bad_token.status, 400);
  EXPECT_EQ(json::parse(bad_token.body).at("error").at("code"), 190);

  EXPECT_EQ(post("page-token", R"({"message":{"text":"a"}})").status, 400);

  h_.simulator_.FailNext(MessagingSimulator::RateLimitFault());
  http::ClientResponse limited = post("page-token", text);
  EXPECT_EQ(limited.status, 400);
  EXPECT_EQ(json::parse(limited.body).at("error").at("code"), 613);
  EXPECT_EQ(post("page-token", text).status, 200);

  auto sent = h_.simulator_.Sent();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].body, text);
}

}  // namespace
}  // namespace parley::channels::messenger

// The fake Instagram Messaging API with the instagram adapter, over loopback.
#include "channels/instagram/instagram_simulator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "channels/instagram/instagram_adapter.h"
#include "channels/messenger/messenger_test_support.h"

namespace parley::channels::instagram {
namespace {

namespace json = boost::json;
using messenger::MessagingSimulator;
using messenger::testing::AsServerRequest;
using messenger::testing::HeaderOf;

class InstagramSimulatorTest : public ::testing::Test {
 protected:
  InstagramSimulatorTest() : h_("instagram_id", "17841400000000001") {}

  InboundBatch Deliver(const http::ClientRequest& hook) {
    http::Request request = AsServerRequest(hook);
    Status verified = h_.adapter_->VerifyWebhook(request, h_.connection_, h_.clock_.Now());
    EXPECT_TRUE(verified.ok()) << verified.ToString();
    auto batch = h_.adapter_->ParseWebhook(request);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? *batch : InboundBatch{};
  }

  messenger::testing::LiveHarness<InstagramAdapter, InstagramSimulator> h_;
};

TEST_F(InstagramSimulatorTest, WebhooksUseTheInstagramEnvelope) {
  http::ClientRequest hook = h_.simulator_.CustomerText(h_.Target(), "9001", "Hey");
  EXPECT_EQ(json::parse(hook.body).at("object"), "instagram");
  InboundBatch batch = Deliver(hook);
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_EQ(std::get<TextContent>(batch.messages[0].content).text, "Hey");
  EXPECT_EQ(batch.messages[0].client_identity, "17841400000000001");
  EXPECT_EQ(batch.messages[0].provider_message_id.rfind("m_sim.instagram.", 0), 0u);

  std::string url = h_.simulator_.AddMedia({"GIF89a", "image/gif", ""});
  InboundBatch image = Deliver(h_.simulator_.CustomerImage(h_.Target(), "9001", url));
  ASSERT_EQ(image.messages.size(), 1u);
  ASSERT_EQ(image.messages[0].media.size(), 1u);
  auto fetched = h_.Run(h_.adapter_->FetchMedia(image.messages[0].media[0], h_.connection_, 100));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->bytes, "GIF89a");

  InboundBatch read = Deliver(h_.simulator_.ReadWatermark(h_.Target(), "9001", FromUnixMillis(5)));
  ASSERT_EQ(read.statuses.size(), 1u);
  EXPECT_EQ(read.statuses[0].status, DeliveryStatus::kRead);
}

TEST_F(InstagramSimulatorTest, SendsToTheInstagramAccount) {
  InteractiveContent buttons;
  buttons.kind = InteractiveKind::kButtons;
  buttons.body = "Pick";
  buttons.choices = {{"a", "A"}};
  SendOutcome o = h_.Send(buttons, "9001");
  ASSERT_EQ(o.kind, SendOutcome::Kind::kSent) << o.error.code << " " << o.error.message;
  EXPECT_EQ(o.provider_message_id.rfind("m_sim.instagram.", 0), 0u);
  auto sent = h_.simulator_.Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, "/v21.0/17841400000000001/messages");
  EXPECT_EQ(HeaderOf(sent[0], "authorization"), "Bearer page-token");
  EXPECT_TRUE(json::parse(sent[0].body).at("message").as_object().contains("quick_replies"));
}

TEST_F(InstagramSimulatorTest, HeartReactionIsSentAsASenderAction) {
  ReactionContent heart;
  heart.emoji = "\u2764";
  heart.target_provider_message_id = "aWdf0";
  SendOutcome o = h_.Send(heart, "9001");
  ASSERT_EQ(o.kind, SendOutcome::Kind::kSent) << o.error.code;
  EXPECT_EQ(o.provider_message_id, "");
  auto sent = h_.simulator_.Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json::parse(sent[0].body).at("sender_action"), "react");
}

TEST_F(InstagramSimulatorTest, FaultIsAnsweredOnce) {
  h_.simulator_.FailNext(MessagingSimulator::ServerErrorFault());
  EXPECT_EQ(h_.Send(TextContent{.text = "x"}, "9001").kind, SendOutcome::Kind::kRetry);
  EXPECT_EQ(h_.Send(TextContent{.text = "x"}, "9001").kind, SendOutcome::Kind::kSent);
}

}  // namespace
}  // namespace parley::channels::instagram

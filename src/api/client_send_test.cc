#include "api/client_send.h"

#include <gtest/gtest.h>

#include "core/message_json.h"
#include "delivery/tenant_keys.h"

namespace parley::api {
namespace {

Message Reply(const FakeClock& clock) {
  Message m;
  m.id = MessageId::New(clock.Now());
  m.tenant = TenantId::New(clock.Now());
  m.conversation = ConversationId::New(clock.Now());
  m.channel = ChannelRef{"web", ConnectionId::New(clock.Now())};
  m.direction = Direction::kOutbound;
  m.author.role = AuthorRole::kAgent;
  m.author.name = "Bo";
  m.received_at = clock.Now();
  m.content = TextContent{"on its way"};
  return m;
}

// What the write stores is sealed at its own place and opens to the message's JSON.
TEST(SealSendTest, SealsTheBodyTheEventAndTheIdempotencyAnswerAtTheirPlaces) {
  FakeClock clock(FromUnixMillis(1'763'708'000'000));
  const crypto::DataKey key = crypto::DataKey::Generate();
  const Message m = Reply(clock);
  const TenantId tenant = m.tenant;

  SealedSend sent = SealSend(key, clock, m, "f00d");
  EXPECT_EQ(*sent.message, m);
  EXPECT_EQ(sent.json, Serialize(m));
  auto body = key.Open(sent.body_sealed, delivery::place::MessageBody(tenant, m.id.str()));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, sent.json);
  auto answer =
      key.Open(sent.idempotency_sealed, delivery::place::IdempotencyResponse(tenant, "f00d"));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(*answer, sent.json);
  EXPECT_FALSE(
      key.Open(sent.idempotency_sealed, delivery::place::MessageBody(tenant, m.id.str())).ok());

  EXPECT_EQ(sent.event.header.id, delivery::MessageCreatedEventId(m.id));
  EXPECT_EQ(sent.event.message, sent.message);  // published with the event
  auto event = key.Open(sent.event.sealed,
                        delivery::place::EventPayload(tenant, sent.event.header.id.str()));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(*event, sent.event.json);
  auto parsed = ParseEvent(sent.event.json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(std::get<Message>(parsed->data), m);

  EXPECT_EQ(SealSend(key, clock, m, "").idempotency_sealed, "");  // no key, nothing kept
}

TEST(ConversationChannelsTest, RemembersEachConversationsChannelAndIsBounded) {
  FakeClock clock(FromUnixMillis(1'763'708'000'000));
  ConversationChannels channels;
  const TenantId tenant = TenantId::New(clock.Now()), other = TenantId::New(clock.Now());
  const ConversationId first = ConversationId::New(clock.Now());
  EXPECT_FALSE(channels.Find(tenant, first));
  const ChannelRef web{"web", ConnectionId::New(clock.Now())};
  channels.Remember(tenant, first, web);
  ASSERT_TRUE(channels.Find(tenant, first));
  EXPECT_EQ(*channels.Find(tenant, first), web);
  EXPECT_FALSE(channels.Find(other, first));  // another tenant's id is not this conversation

  // Full: the next new conversation clears the others, and is kept itself.
  for (int i = 1; i < 20000; ++i) {
    channels.Remember(tenant, ConversationId::New(clock.Now()), web);
  }
  EXPECT_TRUE(channels.Find(tenant, first));
  const ConversationId last = ConversationId::New(clock.Now());
  channels.Remember(tenant, last, web);
  EXPECT_FALSE(channels.Find(tenant, first));
  EXPECT_TRUE(channels.Find(tenant, last));
}

}  // namespace
}  // namespace parley::api

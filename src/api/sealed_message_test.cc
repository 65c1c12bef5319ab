#include "api/sealed_message.h"

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
TEST(SealMessageTest, SealsTheBodyTheEventAndTheIdempotencyAnswerAtTheirPlaces) {
  FakeClock clock(FromUnixMillis(1'763'708'000'000));
  const crypto::DataKey key = crypto::DataKey::Generate();
  const Message m = Reply(clock);
  const TenantId tenant = m.tenant;

  SealedMessage sent = SealMessage(key, clock, m, "f00d");
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

  EXPECT_EQ(SealMessage(key, clock, m, "").idempotency_sealed, "");  // no key, nothing kept
}

}  // namespace
}  // namespace parley::api

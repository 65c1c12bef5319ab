#include "api/client_send.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace parley::api {
namespace {

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

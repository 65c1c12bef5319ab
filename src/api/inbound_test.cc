#include "api/inbound.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "core/message_json.h"
#include "core/test_temp_dir.h"
#include "delivery/message_status.h"
#include "delivery/tenant_keys.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::api {
namespace {

namespace json = boost::json;

class InboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    auto store = store::sqlite::SqliteStore::Open({.path = dir_ + "/parley.db", .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    connection_.context.tenant = TenantId::New(clock_);
    connection_.context.id = ConnectionId::New(clock_);
    connection_.context.kind = "custom";
    connection_.key = std::make_shared<const crypto::DataKey>(crypto::DataKey::Generate());
  }
  void TearDown() override { store_.reset(); }

  static channels::InboundMessage Text(std::string provider_id, std::string text) {
    channels::InboundMessage in;
    in.provider_message_id = std::move(provider_id);
    in.contact_id = "+15550001111";
    in.content = TextContent{std::move(text)};
    return in;
  }

  // Prepares `in` as the webhook path does, stores it, and remembers its conversation.
  InboundOutcome Store(const channels::InboundMessage& in,
                       PreparedInbound* prepared_out = nullptr) {
    PreparedInbound prepared = PrepareInbound(connection_, in, clock_);
    if (prepared_out) *prepared_out = prepared;
    delivery::EventRecorder recorder(connection_.key, clock_);
    InboundOutcome out;
    Status s = store_->WriteSync([&](store::Writer& w) -> Status {
      PARLEY_ASSIGN_OR_RETURN(
          out, StoreInbound(w, connection_, recorder, in, clock_, nullptr, &prepared));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    RememberConversation(connection_, prepared, out);
    return out;
  }

  // The stored message body and its message.created payload, opened.
  std::pair<std::string, std::string> Stored(const MessageId& id) {
    const TenantId& t = connection_.context.tenant;
    auto row = store_->ReadSync<store::MessageRecord>(
        [&](store::Reader& r) { return r.GetMessage(t, id); });
    EXPECT_TRUE(row.ok());
    auto event = store_->ReadSync<store::EventRecord>(
        [&](store::Reader& r) { return r.GetEvent(t, delivery::MessageCreatedEventId(id)); });
    EXPECT_TRUE(event.ok());
    if (!row.ok() || !event.ok()) return {};
    auto body = connection_.key->Open(row->body_sealed, delivery::place::MessageBody(t, id.str()));
    auto payload = connection_.key->Open(event->payload_sealed,
                                         delivery::place::EventPayload(t, event->id.str()));
    EXPECT_TRUE(body.ok() && payload.ok());
    return {body.ok() ? *body : "", payload.ok() ? *payload : ""};
  }

  FakeClock clock_{FromUnixMillis(1'763'708'000'000)};
  TestTempDir tmp_{"parley_in"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<store::Store> store_;
  OpenConnection connection_;
};

TEST_F(InboundTest, AMessageBuiltBeforeTheWriteIsStoredAsTheWriterWouldHaveBuiltIt) {
  PreparedInbound first_prep;
  InboundOutcome first = Store(Text("p1", "hello"), &first_prep);
  EXPECT_TRUE(first.conversation_started);
  ASSERT_NE(first.stored, nullptr);
  EXPECT_EQ(first.stored->id, first.message);
  EXPECT_FALSE(first_prep.guess.has_value());  // nothing known of this contact yet

  clock_.Advance(std::chrono::milliseconds(5));
  PreparedInbound second_prep;
  InboundOutcome second = Store(Text("p2", "again"), &second_prep);
  ASSERT_TRUE(second_prep.guess.has_value());
  EXPECT_FALSE(second.conversation_started);
  EXPECT_EQ(second.conversation, first.conversation);
  EXPECT_EQ(second.customer, first.customer);
  ASSERT_NE(second.stored, nullptr);
  EXPECT_EQ(second.stored, second_prep.sealed.message);  // the message built before the write
  EXPECT_EQ(Serialize(*second.stored), second_prep.sealed.json);

  auto [body, payload] = Stored(second.message);
  EXPECT_EQ(body, second_prep.sealed.json);
  auto message = ParseMessage(body);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->id, second.message);
  EXPECT_EQ(message->conversation, first.conversation);
  EXPECT_EQ(message->author.customer, first.customer);
  EXPECT_EQ(std::get<TextContent>(message->content).text, "again");
  json::object event = json::parse(payload).as_object();
  EXPECT_EQ(event.at("type").as_string(), "message.created");
  EXPECT_EQ(event.at("id").as_string(), delivery::MessageCreatedEventId(second.message).str());
  EXPECT_EQ(json::serialize(event.at("data")), body);

  // A duplicate is found by the prepared dedupe index.
  InboundOutcome again = Store(Text("p2", "again"));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.message, second.message);
  EXPECT_EQ(again.stored, nullptr);
}

TEST_F(InboundTest, AStaleGuessIsCheckedAndTheWriterBuildsTheMessageForTheNewConversation) {
  InboundOutcome first = Store(Text("p1", "hello"));
  ASSERT_TRUE(store_
                  ->WriteSync([&](store::Writer& w) {
                    return w.EndConversation(connection_.context.tenant, first.conversation,
                                             clock_.Now(), "agent");
                  })
                  .ok());
  PreparedInbound prepared;
  InboundOutcome next = Store(Text("p2", "back again"), &prepared);
  ASSERT_TRUE(prepared.guess.has_value());
  EXPECT_EQ(prepared.guess->conversation, first.conversation);  // the guess was the old one
  EXPECT_TRUE(next.conversation_started);
  EXPECT_NE(next.conversation, first.conversation);
  EXPECT_EQ(next.customer, first.customer);
  auto [body, payload] = Stored(next.message);
  auto message = ParseMessage(body);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->conversation, next.conversation);
  ASSERT_NE(next.stored, nullptr);  // built by the writer this time
  EXPECT_EQ(Serialize(*next.stored), body);
  EXPECT_NE(payload.find(next.conversation.str()), std::string::npos);

  // The guess follows the new conversation.
  PreparedInbound after;
  Store(Text("p3", "more"), &after);
  ASSERT_TRUE(after.guess.has_value());
  EXPECT_EQ(after.guess->conversation, next.conversation);
}

TEST_F(InboundTest, AStatusForAProviderIdNotRecordedYetIsKeptForTheSend) {
  channels::InboundStatus st;
  st.provider_message_id = "wamid.early";
  st.status = DeliveryStatus::kDelivered;
  st.at = clock_.Now();
  delivery::EventRecorder recorder(connection_.key, clock_);
  const TenantId& t = connection_.context.tenant;
  std::string index = connection_.key->BlindIndex(
      delivery::SentProviderIdDomain(connection_.context.id), "wamid.early");
  std::vector<store::PendingStatusRecord> kept;
  Status s = store_->WriteSync([&](store::Writer& w) -> Status {
    PARLEY_ASSIGN_OR_RETURN(bool applied, ApplyStatus(w, connection_, recorder, st, clock_));
    EXPECT_FALSE(applied);
    PARLEY_ASSIGN_OR_RETURN(kept, w.TakePendingStatuses(t, connection_.context.id, index));
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(kept.size(), 1u);
  auto opened = delivery::OpenPendingStatus(*connection_.key, t, index, kept[0].status_sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->status, DeliveryStatus::kDelivered);
  EXPECT_EQ(opened->provider_message_id, "wamid.early");
}

}  // namespace
}  // namespace parley::api

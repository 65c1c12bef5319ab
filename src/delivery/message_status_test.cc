#include "delivery/message_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "core/test_temp_dir.h"
#include "delivery/tenant_keys.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::delivery {
namespace {

namespace json = boost::json;

TEST(StatusRankTest, StatesOnlyMoveForwardAndFailedOnlyBeforeDelivery) {
  EXPECT_TRUE(StatusAdvances("queued", DeliveryStatus::kSent));
  EXPECT_TRUE(StatusAdvances("sent", DeliveryStatus::kRead));
  EXPECT_FALSE(StatusAdvances("read", DeliveryStatus::kDelivered));
  EXPECT_FALSE(StatusAdvances("delivered", DeliveryStatus::kDelivered));
  EXPECT_TRUE(StatusAdvances("sent", DeliveryStatus::kFailed));
  EXPECT_FALSE(StatusAdvances("delivered", DeliveryStatus::kFailed));
}

TEST(PendingStatusTest, SealsAndOpensOnlyAtItsPlace) {
  crypto::DataKey key = crypto::DataKey::Generate();
  TenantId tenant = TenantId::New(FromUnixMillis(1'763'708'000'000));
  MessageStatusData data;
  data.status = DeliveryStatus::kFailed;
  data.error = ProviderError{"131047", "Re-engagement message"};
  data.provider_message_id = "wamid.A";
  data.at = FromUnixMillis(1'763'708'000'123);
  std::string sealed = SealPendingStatus(key, tenant, "index-a", data);
  EXPECT_EQ(sealed.find("131047"), std::string::npos);
  auto opened = OpenPendingStatus(key, tenant, "index-a", sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, data);
  EXPECT_FALSE(OpenPendingStatus(key, tenant, "index-b", sealed).ok()) << "moved to another id";
  EXPECT_FALSE(OpenPendingStatus(crypto::DataKey::Generate(), tenant, "index-a", sealed).ok());
}

class PendingStatusStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    auto store = store::sqlite::SqliteStore::Open({.path = dir_ + "/parley.db", .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override { store_.reset(); }

  void KeepPending(const std::string& index, DeliveryStatus status, int at_ms,
                   const std::string& sealed_at_index = "") {
    MessageStatusData data;
    data.status = status;
    data.provider_message_id = "wamid.A";
    data.at = FromUnixMillis(1'763'708'000'000 + at_ms);
    std::string sealed =
        SealPendingStatus(*key_, tenant_, sealed_at_index.empty() ? index : sealed_at_index, data);
    Status s = store_->WriteSync([&](store::Writer& w) {
      return w
          .InsertPendingStatus({tenant_, connection_, index, sealed, clock_.Now()},
                               kMaxPendingStatusesPerId)
          .status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  FakeClock clock_{FromUnixMillis(1'763'708'000'000)};
  TestTempDir tmp_{"parley_ps"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const crypto::DataKey> key_ =
      std::make_shared<const crypto::DataKey>(crypto::DataKey::Generate());
  TenantId tenant_ = TenantId::New(clock_);
  ConnectionId connection_ = ConnectionId::New(clock_);
  ConversationId conversation_ = ConversationId::New(clock_);
};

TEST_F(PendingStatusStoreTest, StatusesThatOutranTheSendApplyWhenTheSendIsRecorded) {
  std::string index = key_->BlindIndex(SentProviderIdDomain(connection_), "wamid.A");
  KeepPending(index, DeliveryStatus::kDelivered, 10);
  KeepPending(index, DeliveryStatus::kFailed, 20);  // after delivered: no effect
  KeepPending(index, DeliveryStatus::kRead, 30);
  KeepPending(index, DeliveryStatus::kRead, 40, "another index");  // does not open: skipped

  store::MessageRecord message;
  message.id = MessageId::New(clock_);
  message.tenant = tenant_;
  message.conversation = conversation_;
  message.connection = connection_;
  message.direction = store::Direction::kOutbound;
  message.status = "queued";
  message.created_at = message.updated_at = clock_.Now();
  EventRecorder recorder(key_, clock_);
  Status s = store_->WriteSync([&](store::Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.InsertMessage(message));
    PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant_, message.id, "sent", clock_.Now()));
    return ApplyPendingStatuses(w, recorder, *key_, tenant_, connection_, index, message.id,
                                conversation_, clock_.Now());
  });
  ASSERT_TRUE(s.ok()) << s.ToString();

  auto stored = store_->ReadSync<store::MessageRecord>(
      [&](store::Reader& r) { return r.GetMessage(tenant_, message.id); });
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, "read");
  auto events = store_->ReadSync<std::vector<store::EventRecord>>(
      [&](store::Reader& r) { return r.ListEventsAfter(tenant_, 0, 10); });
  ASSERT_TRUE(events.ok());
  std::vector<std::string> statuses;
  for (const store::EventRecord& e : *events) {
    auto payload = key_->Open(e.payload_sealed, place::EventPayload(tenant_, e.id.str()));
    ASSERT_TRUE(payload.ok());
    json::object data = json::parse(*payload).as_object().at("data").as_object();
    EXPECT_EQ(data.at("message").as_string(), message.id.str());
    EXPECT_EQ(data.at("provider_message_id").as_string(), "wamid.A");
    statuses.emplace_back(data.at("status").as_string());
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"delivered", "read"}));

  // Taken: nothing is left for the same id.
  Status again = store_->WriteSync([&](store::Writer& w) -> Status {
    PARLEY_ASSIGN_OR_RETURN(auto rest, w.TakePendingStatuses(tenant_, connection_, index));
    EXPECT_TRUE(rest.empty());
    return OkStatus();
  });
  EXPECT_TRUE(again.ok());
}

}  // namespace
}  // namespace parley::delivery

// SqliteStore::RecentEventsAfter: whenever it answers, it answers what ListEventsAfter reads
// from the database (with the clear payload the recorder gave), through commits, failed
// writes, deletions and a reopening of the store.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "core/test_temp_dir.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::store::sqlite {
namespace {

TimePoint At(int64_t ms) { return FromUnixMillis(1'700'000'000'000 + ms); }

class RecentEventsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    Open();
    ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.InsertTenant(tenant_); }).ok());
  }
  void TearDown() override { store_.reset(); }
  void Open() {
    store_.reset();
    auto store = SqliteStore::Open({.path = dir_ + "/parley.db"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  EventRecord Event(int n, const std::optional<ConversationId>& conversation = std::nullopt,
                    const TenantId* tenant = nullptr) {
    EventRecord r;
    r.id = EventId::New(At(n));
    r.tenant = tenant ? *tenant : tenant_.id;
    r.conversation = conversation;
    r.type = n % 2 ? "message.created" : "message.status";
    r.payload_sealed = "sealed-" + std::to_string(n);
    r.payload_json = "{\"n\":" + std::to_string(n) + "}";
    r.created_at = At(n) + std::chrono::nanoseconds(123456);  // finer than what is stored
    return r;
  }
  // Every field of an event but the payload, times to the clock's tick.
  static std::string Fields(const EventRecord& e) {
    return std::to_string(e.seq) + " " + e.id.str() + " " + e.tenant.str() + " " +
           (e.conversation ? e.conversation->str() : "-") + " " + e.type + " " +
           std::to_string(e.created_at.time_since_epoch().count());
  }
  Status Insert(const std::vector<EventRecord>& events, Status then = OkStatus()) {
    return store_->WriteSync([&](Writer& w) -> Status {
      for (const EventRecord& e : events) PARLEY_RETURN_IF_ERROR(w.InsertEvent(e).status());
      return then;
    });
  }

  // "seq:payload,…" from memory ("none" when it does not answer) and from the database.
  std::string FromMemory(int64_t after, const TenantId* tenant = nullptr) {
    auto events = store_->RecentEventsAfter(tenant ? *tenant : tenant_.id, after, 50);
    if (!events) return "none";
    std::string out;
    for (const EventRecord& e : *events) {
      EXPECT_TRUE(e.payload_sealed.empty());
      fields_ += Fields(e) + "\n";
      out += std::to_string(e.seq) + ":" + e.payload_json + ",";
    }
    return out;
  }
  std::string FromDatabase(int64_t after, const TenantId* tenant = nullptr) {
    auto events = store_->ReadSync<std::vector<EventRecord>>(
        [&](Reader& r) { return r.ListEventsAfter(tenant ? *tenant : tenant_.id, after, 50); });
    EXPECT_TRUE(events.ok());
    std::string out;
    for (const EventRecord& e : *events) {
      db_fields_ += Fields(e) + "\n";
      // The database holds the sealed payload; the test's sealed and clear forms share `n`.
      std::string n = e.payload_sealed.substr(e.payload_sealed.find('-') + 1);
      out += std::to_string(e.seq) + ":{\"n\":" + n + "},";
    }
    return out;
  }
  // For every cursor position up to `last`: memory answers as the database does, or not at
  // all. Returns how many positions memory answered.
  int ExpectAgreement(int64_t last) {
    int answered = 0;
    for (int64_t after = 0; after <= last; ++after) {
      std::string memory = FromMemory(after);
      if (memory == "none") continue;
      ++answered;
      fields_.clear();
      db_fields_.clear();
      FromMemory(after);
      EXPECT_EQ(memory, FromDatabase(after)) << "after " << after;
      EXPECT_EQ(fields_, db_fields_) << "after " << after;
    }
    return answered;
  }
  std::string fields_, db_fields_;  // Fields of what FromMemory and FromDatabase saw

  TestTempDir tmp_{"parley_recent"};  // first: removed after the store closes
  std::string dir_ = tmp_.path();
  std::unique_ptr<SqliteStore> store_;
  TenantRecord tenant_{TenantId::New(At(0)), "t", "wrapped", "{}", At(0)};
};

TEST_F(RecentEventsStoreTest, CommittedEventsComeFromMemoryAndFailedWritesLeaveNone) {
  ASSERT_TRUE(Insert({Event(1), Event(2)}).ok());
  EXPECT_FALSE(Insert({Event(3)}, Internal("fails on purpose")).ok());
  ASSERT_TRUE(Insert({Event(4)}).ok());
  // A rerunnable write that fails is rolled back with its whole batch and run again; its
  // second run records another event in the same seq.
  std::promise<Status> done;
  int runs = 0;
  store_->SubmitRerunnableWrite(
      [&](Writer& w) -> Status {
        PARLEY_RETURN_IF_ERROR(w.InsertEvent(Event(runs == 0 ? 5 : 6)).status());
        return ++runs == 1 ? Internal("fails the first time") : OkStatus();
      },
      [&](Status s) { done.set_value(std::move(s)); });
  ASSERT_TRUE(done.get_future().get().ok());

  std::string all = FromDatabase(0);
  EXPECT_EQ(FromMemory(0), all);
  EXPECT_EQ(all.find("\"n\":3}"), std::string::npos);
  EXPECT_EQ(all.find("\"n\":5}"), std::string::npos);
  EXPECT_EQ(std::count(all.begin(), all.end(), ','), 4);  // 1, 2, 4 and 6
  EXPECT_EQ(ExpectAgreement(10), 11);
}

TEST_F(RecentEventsStoreTest, DeletedEventsAreNotServed) {
  ConversationId conversation = ConversationId::New(At(1));
  ASSERT_TRUE(Insert({Event(1), Event(2, conversation), Event(3)}).ok());
  CustomerRecord customer;
  customer.id = CustomerId::New(At(1));
  customer.tenant = tenant_.id;
  customer.channel_kind = "custom";
  customer.contact_sealed = "sealed";
  customer.contact_index = "idx";
  customer.first_seen = customer.last_seen = At(1);
  ConversationRecord conv;
  conv.id = conversation;
  conv.tenant = tenant_.id;
  conv.connection = ConnectionId::New(At(1));
  conv.customer = customer.id;
  conv.started_at = conv.last_activity_at = At(1);
  ASSERT_TRUE(store_
                  ->WriteSync([&](Writer& w) -> Status {
                    PARLEY_RETURN_IF_ERROR(w.InsertCustomer(customer));
                    PARLEY_RETURN_IF_ERROR(w.InsertConversation(conv));
                    return w.EraseCustomer(tenant_.id, customer.id).status();
                  })
                  .ok());
  EXPECT_EQ(FromDatabase(0).find("\"n\":2}"), std::string::npos);  // erased
  EXPECT_GE(ExpectAgreement(5), 2);
  EXPECT_EQ(FromMemory(0), "none");

  ASSERT_TRUE(Insert({Event(4)}).ok());
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.SweepEvents(At(4), 10).status(); }).ok());
  EXPECT_GE(ExpectAgreement(6), 1);
}

TEST_F(RecentEventsStoreTest, ADeletedTenantsEventsAreGoneAndOthersStay) {
  TenantRecord other{TenantId::New(At(50)), "o", "wrapped", "{}", At(50)};
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.InsertTenant(other); }).ok());
  ASSERT_TRUE(Insert({Event(1), Event(2, std::nullopt, &other.id), Event(3)}).ok());
  EXPECT_EQ(FromMemory(0, &other.id), FromDatabase(0, &other.id));
  EXPECT_NE(FromMemory(0, &other.id), "");
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.DeleteTenantData(tenant_.id); }).ok());
  EXPECT_EQ(FromDatabase(0), "");
  std::string memory = FromMemory(0);
  EXPECT_TRUE(memory == "none" || memory == "") << memory;
  EXPECT_EQ(FromMemory(0, &other.id), FromDatabase(0, &other.id));
  EXPECT_NE(FromMemory(0, &other.id), "");
}

TEST_F(RecentEventsStoreTest, AReopenedStoreAnswersOnlyForNewEvents) {
  ASSERT_TRUE(Insert({Event(1), Event(2)}).ok());
  Open();
  EXPECT_EQ(FromMemory(0), "none");
  EXPECT_EQ(FromMemory(2), "");
  ASSERT_TRUE(Insert({Event(3)}).ok());
  EXPECT_EQ(FromMemory(2), FromDatabase(2));
  EXPECT_NE(FromMemory(2), "");
  EXPECT_EQ(FromMemory(1), "none");
}

}  // namespace
}  // namespace parley::store::sqlite

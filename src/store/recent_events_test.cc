#include "store/recent_events.h"

#include <gtest/gtest.h>

namespace parley::store {
namespace {

const TenantId kA = TenantId::FromTrusted("ten_a");
const TenantId kB = TenantId::FromTrusted("ten_b");

EventRecord Event(const TenantId& tenant, std::string json) {
  EventRecord r;
  r.id = EventId::New(FromUnixMillis(1'700'000'000'000));
  r.tenant = tenant;
  r.type = "message.created";
  r.payload_sealed = "sealed";
  r.payload_json = std::move(json);
  r.created_at = FromUnixMillis(1'700'000'000'000);
  return r;
}

// The seqs of an answer, or "none" when RecentEvents does not answer.
std::string Seqs(const std::optional<std::vector<EventRecord>>& events) {
  if (!events) return "none";
  std::string out;
  for (const EventRecord& e : *events) out += (out.empty() ? "" : ",") + std::to_string(e.seq);
  return out;
}

TEST(RecentEventsTest, CommittedEventsAreServedInOrderPerTenant) {
  RecentEvents recent(1 << 20, 10);
  recent.Stage(Event(kA, R"({"n":11})"), 11);
  recent.Stage(Event(kB, R"({"n":12})"), 12);
  recent.Stage(Event(kA, R"({"n":13})"), 13);
  EXPECT_EQ(Seqs(recent.After(kA, 10, 50)), "");  // staged only
  recent.Commit();
  auto a = recent.After(kA, 10, 50);
  EXPECT_EQ(Seqs(a), "11,13");
  EXPECT_EQ((*a)[1].payload_json, R"({"n":13})");
  EXPECT_EQ((*a)[1].payload_sealed, "");
  EXPECT_EQ((*a)[1].tenant, kA);
  EXPECT_EQ(Seqs(recent.After(kA, 11, 50)), "13");
  EXPECT_EQ(Seqs(recent.After(kA, 10, 1)), "11");
  EXPECT_EQ(Seqs(recent.After(kB, 10, 50)), "12");
  EXPECT_EQ(Seqs(recent.After(TenantId::FromTrusted("ten_c"), 10, 50)), "");
  // Below the floor it opened with, the store holds what memory does not.
  EXPECT_EQ(Seqs(recent.After(kA, 9, 50)), "none");
}

TEST(RecentEventsTest, RolledBackEventsAreNeverServed) {
  RecentEvents recent(1 << 20, 0);
  recent.Stage(Event(kA, "{}"), 1);
  size_t mark = recent.staged();
  recent.Stage(Event(kA, "{}"), 2);
  recent.Unstage(mark);  // ROLLBACK TO the savepoint of the write that staged 2
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "1");
  recent.Stage(Event(kA, "{}"), 2);
  recent.DropStaged();  // ROLLBACK
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "1");
}

TEST(RecentEventsTest, EventsOfUnknownFateAreNeverServed) {
  RecentEvents recent(1 << 20, 0);
  recent.Stage(Event(kA, "{}"), 1);
  size_t mark = recent.staged();
  recent.Stage(Event(kA, "{}"), 2);
  recent.Unsure(mark);  // a ROLLBACK TO that failed: 2 may commit or not
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 2, 50)), "");
}

TEST(RecentEventsTest, EventsLeftStagedRaiseTheFloorAtOnce) {
  RecentEvents recent(1 << 20, 0);
  recent.Stage(Event(kA, "{}"), 1);  // neither committed nor rolled back when BEGIN comes
  recent.SettleUnknown();
  recent.DropStaged();  // the next transaction rolls back: the floor stays raised
  recent.Stage(Event(kA, "{}"), 2);
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 1, 50)), "2");
}

TEST(RecentEventsTest, AnEventNotHeldRaisesItsTenantsFloor) {
  RecentEvents recent(1 << 20, 0);
  recent.Stage(Event(kA, "{}"), 1);
  recent.Stage(Event(kA, ""), 2);  // recorded without its clear payload
  recent.Stage(Event(kA, "{}"), 3);
  recent.Stage(Event(kB, "{}"), 4);
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 1, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 2, 50)), "3");
  EXPECT_EQ(Seqs(recent.After(kB, 0, 50)), "4");  // another tenant's floor stays

  recent.Removed(3);  // deleted (a sweep, an erasure), committed or not
  EXPECT_EQ(Seqs(recent.After(kA, 2, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 3, 50)), "");

  recent.Stage(Event(kA, "{}"), 5);
  recent.Stage(Event(kA, "{}"), 6);
  recent.Removed(5);  // a staged event deleted in the same transaction
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(kA, 3, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 5, 50)), "6");
}

TEST(RecentEventsTest, TheOldestGoFirstWhenFull) {
  std::string payload(1000, 'x');
  RecentEvents recent(4 * 1400, 0);
  for (int seq = 1; seq <= 10; ++seq) recent.Stage(Event(seq % 2 ? kA : kB, payload), seq);
  recent.Commit();
  EXPECT_LE(recent.bytes(), 4u * 1400);
  EXPECT_GT(recent.bytes(), 0u);
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kB, 0, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(kA, 7, 50)), "9");
  EXPECT_EQ(Seqs(recent.After(kB, 8, 50)), "10");
}

TEST(RecentEventsTest, TenantsLeftWithoutEventsDoNotPileUp) {
  RecentEvents recent(1 << 20, 0);
  recent.Stage(Event(kA, "{}"), 1);
  recent.Commit();
  // Twenty thousand tenants come and go, each leaving only a floor (an event not held).
  // The entries are swept when the 16 385th is made: kA and the tenants of seqs 2..16385.
  auto tenant = [](int n) { return TenantId::FromTrusted("ten_t" + std::to_string(n)); };
  for (int seq = 2; seq <= 20001; ++seq) {
    recent.Stage(Event(tenant(seq), ""), seq);
    recent.Commit();
    ASSERT_LE(recent.tenant_entries(), 16384u) << "at seq " << seq;
  }
  EXPECT_EQ(recent.tenant_entries(), 1u + (20001 - 16385));
  EXPECT_EQ(Seqs(recent.After(kA, 0, 50)), "1");  // a tenant with events keeps its entry
  // The tenants let go answer as conservatively as the highest floor let go (16385).
  EXPECT_EQ(Seqs(recent.After(tenant(2), 1, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(tenant(2), 16384, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(tenant(2), 16385, 50)), "");
  EXPECT_EQ(Seqs(recent.After(tenant(16385), 16384, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(tenant(16385), 16385, 50)), "");
  EXPECT_EQ(Seqs(recent.After(TenantId::FromTrusted("ten_new"), 16384, 50)), "none");
  // Entries made after the sweep keep their own floors.
  EXPECT_EQ(Seqs(recent.After(tenant(20001), 20000, 50)), "none");
  EXPECT_EQ(Seqs(recent.After(tenant(20001), 20001, 50)), "");
  // A tenant let go is served again above the floor it was given back.
  recent.Stage(Event(tenant(2), "{}"), 20002);
  recent.Commit();
  EXPECT_EQ(Seqs(recent.After(tenant(2), 16385, 50)), "20002");
  EXPECT_EQ(Seqs(recent.After(tenant(2), 16384, 50)), "none");
}

}  // namespace
}  // namespace parley::store

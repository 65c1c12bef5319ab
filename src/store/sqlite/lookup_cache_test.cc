// The writer's LookupCache, through the store: every answer a write gets from
// FindCustomerByContact, FindOpenConversation, GetConversation and GetConnection must equal what a
// reader (which has no cache) reads from the database, after each kind of change to the rows behind
// them.
#include "store/sqlite/lookup_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <future>
#include <tuple>

#include "core/test_temp_dir.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_util.h"

namespace parley::store::sqlite {
namespace {

TimePoint At(int64_t ms) { return FromUnixMillis(1'700'000'000'000 + ms); }

std::string Ticks(TimePoint t) { return std::to_string(t.time_since_epoch().count()); }

// What the tests compare of a lookup's answer: its status, or the record's fields that
// changes move (times to the clock's tick, not the stored millisecond).
std::string Describe(const Result<CustomerRecord>& r) {
  if (!r.ok()) return std::string(StatusCodeName(r.status().code()));
  return r->id.str() + " last_seen=" + Ticks(r->last_seen);
}

std::string Describe(const Result<ConversationRecord>& r) {
  if (!r.ok()) return std::string(StatusCodeName(r.status().code()));
  return r->id.str() + " state=" + std::string(ConversationStateName(r->state)) +
         " last_activity=" + Ticks(r->last_activity_at) + " context=" + r->context_sealed +
         " tenant=" + r->tenant.str() + " connection=" + r->connection.str() +
         " customer=" + r->customer.str() + " started=" + Ticks(r->started_at) +
         " ended=" + (r->ended_at ? Ticks(*r->ended_at) : "-") + " reason=" + r->end_reason +
         " cookies=" + r->cookies_sealed + " private=" + r->private_sealed;
}

std::string Describe(const Result<ConnectionRecord>& r) {
  if (!r.ok()) return std::string(StatusCodeName(r.status().code()));
  return r->id.str() + " tenant=" + r->tenant.str() + " kind=" + r->kind + " name=" + r->name +
         " identity=" + r->identity_sealed + "/" + r->identity_index +
         " credentials=" + r->credentials_sealed + " settings=" + r->settings_json +
         " created=" + Ticks(r->created_at);
}

class LookupCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    auto store = SqliteStore::Open({.path = dir_ + "/parley.db"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();

    tenant_ = {TenantId::New(At(0)), "t", "wrapped", "{}", At(0)};
    customer_.id = CustomerId::New(At(1));
    customer_.tenant = tenant_.id;
    customer_.channel_kind = "custom";
    customer_.contact_sealed = "sealed";
    customer_.contact_index = "idx-1";
    customer_.first_seen = customer_.last_seen = At(1);
    conversation_ = NewConversation(At(2));
    ASSERT_TRUE(store_
                    ->WriteSync([&](Writer& w) -> Status {
                      PARLEY_RETURN_IF_ERROR(w.InsertTenant(tenant_));
                      PARLEY_RETURN_IF_ERROR(w.InsertCustomer(customer_));
                      return w.InsertConversation(conversation_);
                    })
                    .ok());
  }
  void TearDown() override { store_.reset(); }

  ConversationRecord NewConversation(TimePoint at) {
    ConversationRecord c;
    c.id = ConversationId::New(at);
    c.tenant = tenant_.id;
    c.connection = connection_;
    c.customer = customer_.id;
    c.started_at = c.last_activity_at = at;
    return c;
  }

  // `lookup` as a write sees it (through the writer's cache), and as a reader sees it.
  std::string AsWriter(const std::function<std::string(Reader&)>& lookup) {
    std::string out;
    EXPECT_TRUE(store_
                    ->WriteSync([&](Writer& w) {
                      out = lookup(w);
                      return OkStatus();
                    })
                    .ok());
    return out;
  }
  std::string AsReader(const std::function<std::string(Reader&)>& lookup) {
    auto out =
        store_->ReadSync<std::string>([&](Reader& r) -> Result<std::string> { return lookup(r); });
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : "";
  }
  std::pair<std::string, std::string> Both(const std::function<std::string(Reader&)>& lookup) {
    return {AsWriter(lookup), AsReader(lookup)};
  }
  // The lookups as a write sees them, then as a reader sees them.
  std::string FromWriter() {
    return AsWriter([&](Reader& r) { return Lookups(r); });
  }
  std::string FromReader() {
    return AsReader([&](Reader& r) { return Lookups(r); });
  }
  std::string Lookups(Reader& r) {
    return Describe(r.FindCustomerByContact(tenant_.id, "custom", "idx-1")) + " | " +
           Describe(r.FindOpenConversation(tenant_.id, connection_, customer_.id)) + " | " +
           Describe(r.GetConversation(tenant_.id, conversation_.id));
  }
  // One conversation by id, as a write sees it and as a reader sees it.
  std::pair<std::string, std::string> ById(const ConversationId& id,
                                           std::optional<TenantId> tenant = std::nullopt) {
    const TenantId& of = tenant ? *tenant : tenant_.id;
    return Both([&](Reader& r) { return Describe(r.GetConversation(of, id)); });
  }
  std::pair<std::string, std::string> Connection(const TenantId& tenant, const ConnectionId& id) {
    return Both([&](Reader& r) { return Describe(r.GetConnection(tenant, id)); });
  }
  ConnectionRecord NewConnection(TimePoint at) {
    ConnectionRecord c;
    c.id = ConnectionId::New(at);
    c.tenant = tenant_.id;
    c.kind = "web";
    c.name = "site";
    c.identity_sealed = "identity";
    c.identity_index = "ix-" + c.id.str();
    c.credentials_sealed = "credentials";
    c.settings_json = R"({"allowed_origins":["https://a.example"]})";
    c.created_at = at;
    return c;
  }
  // After `change`, the writer's (possibly cached) answer equals the database's; `change` may
  // fail on purpose.
  void ExpectAgreementAfter(const std::function<Status(Writer&)>& change) {
    FromWriter();  // the lookups are cached now
    store_->WriteSync(change).IgnoreError();
    std::string want = FromReader();
    EXPECT_EQ(FromWriter(), want);
    EXPECT_EQ(FromWriter(), want);  // and from the cache again
  }
  uint64_t Hits() { return store_->Stats().lookup_cache_hits; }

  TestTempDir tmp_{"parley_lookup"};  // first: removed after the store closes
  std::string dir_ = tmp_.path();
  std::unique_ptr<SqliteStore> store_;
  TenantRecord tenant_;
  ConnectionId connection_ = ConnectionId::New(At(0));
  CustomerRecord customer_;
  ConversationRecord conversation_;
};

TEST_F(LookupCacheTest, RepeatedLookupsOfAWriteAreAnsweredFromMemory) {
  std::string first = FromWriter();
  uint64_t before = Hits();
  EXPECT_EQ(FromWriter(), first);
  EXPECT_EQ(Hits(), before + 3);  // the conversation by id, too
  EXPECT_EQ(first, FromReader());
  EXPECT_NE(first.find(conversation_.id.str()), std::string::npos);
}

TEST_F(LookupCacheTest, TouchesMoveTheCachedTimes) {
  // A clock's time has more digits than the stored millisecond.
  const auto fraction = std::chrono::nanoseconds(123456);
  ExpectAgreementAfter([&](Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.TouchCustomer(tenant_.id, customer_.id, At(500) + fraction));
    return w.TouchConversation(tenant_.id, conversation_.id, At(600) + fraction);
  });
  EXPECT_NE(FromWriter().find("last_activity=" + Ticks(At(600))), std::string::npos);
  // A touch moves the row in place: the next lookups are still hits.
  uint64_t before = Hits();
  FromWriter();
  EXPECT_EQ(Hits(), before + 3);
}

TEST_F(LookupCacheTest, EphemeralEndAndNewConversationsAreSeen) {
  ExpectAgreementAfter([&](Writer& w) {
    return w.SetConversationEphemeral(tenant_.id, conversation_.id, {.context_sealed = "ctx"});
  });
  EXPECT_NE(FromWriter().find("context=ctx"), std::string::npos);
  ExpectAgreementAfter(
      [&](Writer& w) { return w.EndConversation(tenant_.id, conversation_.id, At(700), "agent"); });
  EXPECT_NE(FromWriter().find("NOT_FOUND"), std::string::npos);

  ConversationRecord second = NewConversation(At(800));
  ExpectAgreementAfter([&](Writer& w) { return w.InsertConversation(second); });
  EXPECT_NE(FromWriter().find(second.id.str()), std::string::npos);
  // A newer open conversation of the same customer takes over the cached one.
  ConversationRecord third = NewConversation(At(900));
  ExpectAgreementAfter([&](Writer& w) { return w.InsertConversation(third); });
  EXPECT_NE(FromWriter().find(third.id.str()), std::string::npos);
  // The second, cached before under the key the third now holds, is read from the database;
  // the third, found by the lookups, is answered from memory.
  auto [writer, reader] = ById(second.id);
  EXPECT_EQ(writer, reader);
  EXPECT_NE(writer.find(second.id.str()), std::string::npos);
  uint64_t before = Hits();
  std::tie(writer, reader) = ById(third.id);
  EXPECT_EQ(writer, reader);
  EXPECT_EQ(Hits(), before + 1);
  EXPECT_EQ(ById(ConversationId::New(At(950))).first, "NOT_FOUND");
  // The cached conversation's id asked for by another tenant is not found.
  EXPECT_EQ(ById(third.id, TenantId::New(At(960))).first, "NOT_FOUND");
}

TEST_F(LookupCacheTest, ErasureAndTenantDeletionAreSeen) {
  ExpectAgreementAfter(
      [&](Writer& w) { return w.EraseCustomer(tenant_.id, customer_.id).status(); });
  EXPECT_EQ(FromWriter(), "NOT_FOUND | NOT_FOUND | NOT_FOUND");

  ConversationRecord again = NewConversation(At(1000));
  ASSERT_TRUE(store_
                  ->WriteSync([&](Writer& w) -> Status {
                    PARLEY_RETURN_IF_ERROR(w.InsertCustomer(customer_));
                    return w.InsertConversation(again);
                  })
                  .ok());
  EXPECT_NE(FromWriter(), "NOT_FOUND | NOT_FOUND | NOT_FOUND");  // cached again
  uint64_t before = Hits();
  auto [writer, reader] = ById(again.id);
  EXPECT_EQ(writer, reader);
  EXPECT_EQ(Hits(), before + 1);  // by id, from memory
  ExpectAgreementAfter([&](Writer& w) { return w.DeleteTenantData(tenant_.id); });
  EXPECT_EQ(FromWriter(), "NOT_FOUND | NOT_FOUND | NOT_FOUND");
  EXPECT_EQ(ById(again.id).first, "NOT_FOUND");
}

TEST_F(LookupCacheTest, ConnectionsByIdAreAnsweredFromMemoryUntilDeleted) {
  ConnectionRecord c = NewConnection(At(100));
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.InsertConnection(c); }).ok());
  auto [writer, reader] = Connection(tenant_.id, c.id);
  EXPECT_EQ(writer, reader);
  EXPECT_NE(writer.find("credentials=credentials"), std::string::npos);
  uint64_t before = Hits();
  std::tie(writer, reader) = Connection(tenant_.id, c.id);
  EXPECT_EQ(writer, reader);
  EXPECT_EQ(Hits(), before + 1);
  // Another tenant asking for the cached id: not found, and not from memory.
  before = Hits();
  EXPECT_EQ(Connection(TenantId::New(At(110)), c.id).first, "NOT_FOUND");
  EXPECT_EQ(Hits(), before);

  // A deletion that is rolled back leaves it; one that commits takes it away.
  EXPECT_FALSE(store_
                   ->WriteSync([&](Writer& w) -> Status {
                     PARLEY_RETURN_IF_ERROR(w.DeleteConnection(tenant_.id, c.id));
                     return Internal("fails on purpose");
                   })
                   .ok());
  std::tie(writer, reader) = Connection(tenant_.id, c.id);
  EXPECT_EQ(writer, reader);
  EXPECT_NE(writer, "NOT_FOUND");
  ASSERT_TRUE(
      store_->WriteSync([&](Writer& w) { return w.DeleteConnection(tenant_.id, c.id); }).ok());
  EXPECT_EQ(Connection(tenant_.id, c.id).first, "NOT_FOUND");

  // One inserted and read (so cached) by a write that then fails is gone with the write.
  ConnectionRecord e = NewConnection(At(300));
  EXPECT_FALSE(store_
                   ->WriteSync([&](Writer& w) -> Status {
                     PARLEY_RETURN_IF_ERROR(w.InsertConnection(e));
                     PARLEY_RETURN_IF_ERROR(w.GetConnection(tenant_.id, e.id).status());
                     return Internal("fails on purpose");
                   })
                   .ok());
  EXPECT_EQ(Connection(tenant_.id, e.id),
            std::make_pair(std::string("NOT_FOUND"), std::string("NOT_FOUND")));

  ConnectionRecord d = NewConnection(At(200));
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.InsertConnection(d); }).ok());
  EXPECT_NE(Connection(tenant_.id, d.id).first, "NOT_FOUND");  // cached now
  ASSERT_TRUE(store_->WriteSync([&](Writer& w) { return w.DeleteTenantData(tenant_.id); }).ok());
  EXPECT_EQ(Connection(tenant_.id, d.id).first, "NOT_FOUND");
}

TEST_F(LookupCacheTest, WhatARolledBackWriteDidIsForgotten) {
  // A plain write runs under a savepoint: its failure rolls back to it.
  ExpectAgreementAfter([&](Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.TouchConversation(tenant_.id, conversation_.id, At(5000)));
    PARLEY_RETURN_IF_ERROR(w.EndConversation(tenant_.id, conversation_.id, At(5000), "agent"));
    Lookups(w);  // caches what the rollback will undo
    PARLEY_RETURN_IF_ERROR(w.InsertConversation(NewConversation(At(5001))));
    Lookups(w);
    return Internal("fails on purpose");
  });
  EXPECT_NE(FromWriter().find(conversation_.id.str() + " state=open"), std::string::npos);

  // A rerunnable write runs bare: its failure rolls back the whole transaction. This one
  // fails only the first time, so its second run (under a savepoint) rolls nothing back.
  FromWriter();
  std::promise<Status> done;
  int runs = 0;
  store_->SubmitRerunnableWrite(
      [&](Writer& w) -> Status {
        if (++runs > 1) return OkStatus();
        PARLEY_RETURN_IF_ERROR(w.TouchCustomer(tenant_.id, customer_.id, At(6000)));
        Lookups(w);
        return Internal("fails on purpose");
      },
      [&](Status s) { done.set_value(std::move(s)); });
  EXPECT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(runs, 2);
  std::string want = FromReader();
  EXPECT_EQ(want.find("last_seen=" + std::to_string(ToUnixMillis(At(6000)))), std::string::npos);
  EXPECT_EQ(FromWriter(), want);
}

// The hooks see every change to a cached row only in rowid tables (lookup_cache.h), and
// RecentEvents takes the events table's rowid for the seq.
TEST_F(LookupCacheTest, TheHookedTablesHaveRowids) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/parley.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  for (const char* table : {"customers", "conversations", "connections", "events"}) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE name = ?", -1, &stmt, nullptr),
        SQLITE_OK);
    sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW) << table;
    std::string create = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    EXPECT_EQ(create.find("WITHOUT ROWID"), std::string::npos) << create;
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
}

}  // namespace
}  // namespace parley::store::sqlite

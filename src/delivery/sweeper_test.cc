#include "delivery/sweeper.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <thread>

#include "blob/local_blob_store.h"
#include "bus/in_process_bus.h"
#include "core/message_json.h"
#include "core/test_temp_dir.h"
#include "crypto/keys.h"
#include "delivery/attachments.h"
#include "delivery/event_recorder.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::delivery {
namespace {

using namespace std::chrono_literals;

// Reads the database file directly, outside the store: a rule must delete rows, not hide them.
int64_t RawCount(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return n;
}

class SweeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    path_ = dir_ + "/parley.db";
    auto store = store::sqlite::SqliteStore::Open({.path = path_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    keys_ = std::make_unique<TenantKeys>(ring_, *store_);

    tenant_.id = TenantId::New(clock_);
    tenant_.name = "acme";
    tenant_.wrapped_key =
        ring_.master_key().WrapDataKey(tenant_.id.str(), crypto::DataKey::Generate());
    tenant_.settings_json = "{}";
    tenant_.created_at = clock_.Now();
    connection_.id = ConnectionId::New(clock_);
    connection_.tenant = tenant_.id;
    connection_.kind = "custom";
    connection_.name = "site";
    connection_.settings_json = "{}";
    connection_.created_at = clock_.Now();
    customer_.id = CustomerId::New(clock_);
    customer_.tenant = tenant_.id;
    customer_.channel_kind = "custom";
    customer_.contact_sealed = "sealed";
    customer_.contact_index = "idx";
    customer_.first_seen = customer_.last_seen = clock_.Now();
    ASSERT_TRUE(Write([&](store::Writer& w) -> Status {
                  PARLEY_RETURN_IF_ERROR(w.InsertTenant(tenant_));
                  PARLEY_RETURN_IF_ERROR(w.InsertConnection(connection_));
                  return w.InsertCustomer(customer_);
                }).ok());
  }
  void TearDown() override { store_.reset(); }

  Status Write(store::Store::WriteFn fn) { return store_->WriteSync(std::move(fn)); }

  store::ConversationRecord NewConversation(std::optional<ConnectionId> connection = std::nullopt) {
    store::ConversationRecord c;
    c.id = ConversationId::New(clock_);
    c.tenant = tenant_.id;
    c.connection = connection.value_or(connection_.id);
    c.customer = customer_.id;
    c.started_at = c.last_activity_at = clock_.Now();
    EXPECT_TRUE(Write([&](store::Writer& w) { return w.InsertConversation(c); }).ok());
    return c;
  }

  // A message with its message.created event ("ev_" + the message id's body), as the ingest
  // and send paths store them.
  MessageId NewMessage(const ConversationId& conversation, std::string_view status,
                       std::optional<ConnectionId> connection = std::nullopt) {
    store::MessageRecord m;
    m.id = MessageId::New(clock_);
    m.tenant = tenant_.id;
    m.conversation = conversation;
    m.connection = connection.value_or(connection_.id);
    m.body_sealed = "MARKER-BODY";
    m.status = std::string(status);
    m.created_at = m.updated_at = clock_.Now();
    store::EventRecord e;
    e.id = MessageCreatedEventId(m.id);
    e.tenant = tenant_.id;
    e.conversation = conversation;
    e.type = "message.created";
    e.payload_sealed = "MARKER-EVENT";
    e.created_at = clock_.Now();
    EXPECT_TRUE(Write([&](store::Writer& w) -> Status {
                  PARLEY_RETURN_IF_ERROR(w.InsertMessage(m));
                  return w.InsertEvent(e).status();
                }).ok());
    return m.id;
  }

  void Outbox(store::OutboxKind kind, const std::string& ref, const ConversationId& cv) {
    store::OutboxRecord o;
    o.kind = kind;
    o.tenant = tenant_.id;
    o.target_id = "ep_target";
    o.ref_id = ref;
    o.conversation_id = cv.str();
    o.created_at = o.next_attempt_at = clock_.Now();
    EXPECT_TRUE(Write([&](store::Writer& w) { return w.InsertOutbox(o).status(); }).ok());
  }

  void DeadLetter(const std::string& ref, const ConversationId& cv) {
    store::DeadLetterRecord d;
    d.id = DeadLetterId::New(clock_);
    d.tenant = tenant_.id;
    d.kind = store::OutboxKind::kWebhook;
    d.target_id = "ep_target";
    d.ref_id = ref;
    d.conversation_id = cv.str();
    d.last_error = "http_500";
    d.created_at = d.failed_at = clock_.Now();
    EXPECT_TRUE(Write([&](store::Writer& w) { return w.InsertDeadLetter(d); }).ok());
  }

  int64_t Count(const std::string& sql) { return RawCount(path_, sql); }
  bool MessageExists(const MessageId& id) {
    return Count("SELECT count(*) FROM messages WHERE id = '" + id.str() + "'") == 1;
  }
  bool EventExists(const MessageId& id) {
    return Count("SELECT count(*) FROM events WHERE id = '" + MessageCreatedEventId(id).str() +
                 "'") == 1;
  }

  Sweeper MakeSweeper(SweeperOptions options = {}) {
    return Sweeper(*store_, *keys_, bus_, clock_, options);
  }

  FakeClock clock_{FromUnixMillis(1'763'708'000'000)};
  TestTempDir tmp_{"parley_sweep"};
  const std::string dir_ = tmp_.path();
  std::string path_;
  crypto::KeyRing ring_{crypto::MasterKey::Generate()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TenantKeys> keys_;
  bus::InProcessBus bus_;
  store::TenantRecord tenant_;
  store::ConnectionRecord connection_;
  store::CustomerRecord customer_;
};

TEST_F(SweeperTest, DeliveredMessagesAndEventsGoAfterTheGraceUndeliveredOnesStay) {
  auto cv = NewConversation();
  MessageId delivered = NewMessage(cv.id, "received");
  MessageId awaiting_webhook = NewMessage(cv.id, "received");
  Outbox(store::OutboxKind::kWebhook, MessageCreatedEventId(awaiting_webhook).str(), cv.id);
  MessageId awaiting_send = NewMessage(cv.id, "queued");
  Outbox(store::OutboxKind::kChannelSend, awaiting_send.str(), cv.id);
  MessageId dead = NewMessage(cv.id, "received");
  DeadLetter(MessageCreatedEventId(dead).str(), cv.id);

  SweeperOptions options;
  options.delivered_grace = 1h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(59min);
  auto early = sweeper.RunOnce();
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_EQ(early->messages, 0);
  EXPECT_TRUE(MessageExists(delivered));

  clock_.Advance(2min);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->messages, 1);
  EXPECT_EQ(report->events, 2);  // the delivered message's, and the queued send's
  EXPECT_FALSE(MessageExists(delivered));
  EXPECT_FALSE(EventExists(delivered));
  EXPECT_TRUE(MessageExists(awaiting_webhook));
  EXPECT_TRUE(EventExists(awaiting_webhook));
  EXPECT_TRUE(MessageExists(awaiting_send));
  EXPECT_TRUE(MessageExists(dead));
  EXPECT_TRUE(EventExists(dead));
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE CAST(body_sealed AS TEXT) LIKE "
                  "'%MARKER-BODY%'"),
            3);
}

TEST_F(SweeperTest, MessagesAndEventsStayUntilEveryWebhookCursorHasPassedThem) {
  auto cv = NewConversation();
  MessageId before = NewMessage(cv.id, "received");  // recorded before the endpoint existed
  store::EndpointRecord endpoint;
  endpoint.id = EndpointId::New(clock_);
  endpoint.tenant = tenant_.id;
  endpoint.url = "http://127.0.0.1:9/hook";
  endpoint.secret_sealed = "sealed";
  endpoint.created_at = endpoint.updated_at = clock_.Now();
  ASSERT_TRUE(Write([&](store::Writer& w) { return w.InsertEndpoint(endpoint); }).ok());
  MessageId waiting = NewMessage(cv.id, "received");

  SweeperOptions options;
  options.delivered_grace = 1h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(2h);
  auto first = sweeper.RunOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(MessageExists(before));
  EXPECT_TRUE(MessageExists(waiting));
  EXPECT_TRUE(EventExists(waiting));

  // The endpoint's cursor passes the event: now it goes too.
  auto cursor = store_->ReadSync<store::WebhookCursorRecord>(
      [&](store::Reader& r) { return r.GetWebhookCursor(tenant_.id, endpoint.id); });
  ASSERT_TRUE(cursor.ok());
  int64_t last = Count("SELECT max(seq) FROM events");
  ASSERT_TRUE(Write([&](store::Writer& w) {
                return w.AdvanceWebhookCursor(tenant_.id, endpoint.id, cursor->after_seq, last);
              }).ok());
  auto second = sweeper.RunOnce();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(MessageExists(waiting));
  EXPECT_FALSE(EventExists(waiting));
}

TEST_F(SweeperTest, WebChatMessagesStayWhileTheConversationIsOpenAndGoWhenItEnds) {
  store::ConnectionRecord web = connection_;
  web.id = ConnectionId::New(clock_);
  web.kind = "web";
  ASSERT_TRUE(Write([&](store::Writer& w) { return w.InsertConnection(web); }).ok());
  auto cv = NewConversation(web.id);
  MessageId chat = NewMessage(cv.id, "received", web.id);
  SweeperOptions options;
  options.delivered_grace = 0s;
  options.inactivity_timeout = 24h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(2h);
  ASSERT_TRUE(sweeper.RunOnce().ok());
  EXPECT_TRUE(MessageExists(chat)) << "delivered, but the web conversation is open";
  ASSERT_TRUE(Write([&](store::Writer& w) {
                return w.EndConversation(tenant_.id, cv.id, clock_.Now(), "agent");
              }).ok());
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->messages, 1);
  EXPECT_FALSE(MessageExists(chat)) << "gone with the end, not 30 days later with the row";
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE id = '" + cv.id.str() + "'"), 1);
}

TEST_F(SweeperTest, DeadLettersExpireAndThenTheirMessageGoes) {
  auto cv = NewConversation();
  MessageId dead = NewMessage(cv.id, "received");
  DeadLetter(MessageCreatedEventId(dead).str(), cv.id);
  SweeperOptions options;
  options.dead_letter_ttl = 72h;
  options.delivered_grace = 1h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(71h);
  ASSERT_TRUE(sweeper.RunOnce().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM dead_letters"), 1);
  EXPECT_TRUE(MessageExists(dead));
  clock_.Advance(2h);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->dead_letters, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM dead_letters"), 0);
  EXPECT_EQ(report->messages, 1);
  EXPECT_FALSE(MessageExists(dead));
  EXPECT_FALSE(EventExists(dead));
}

TEST_F(SweeperTest, IdleConversationsEndWithAnEventAndAreDeletedAfterTheirTtl) {
  auto idle = NewConversation();
  clock_.Advance(30min);
  auto active = NewConversation();
  std::vector<std::string> published;
  auto sub =
      bus_.Subscribe(tenant_.id, [&](const bus::BusEvent& e) { published.push_back(e.json); });

  SweeperOptions options;
  options.inactivity_timeout = 1h;
  options.ended_conversation_ttl = 24h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(31min);  // idle: 61 min without activity; active: 31 min
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->conversations_ended, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE state = 'ended' AND id = '" +
                  idle.id.str() + "' AND end_reason = 'inactivity'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE state = 'open' AND id = '" +
                  active.id.str() + "'"),
            1);
  ASSERT_EQ(published.size(), 1u);
  auto event = ParseEvent(published.front());
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  auto* ended = std::get_if<ConversationEndedData>(&event->data);
  ASSERT_NE(ended, nullptr);
  EXPECT_EQ(ended->conversation, idle.id);
  EXPECT_EQ(ended->reason, EndReason::kInactivity);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE type = 'conversation.ended'"), 1);

  clock_.Advance(25h);  // past the TTL; `active` is now idle too and ends
  report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->conversations_ended, 1);
  EXPECT_EQ(report->conversations_deleted, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE id = '" + idle.id.str() + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customers"), 1);  // identity stays (returning customers)
}

TEST_F(SweeperTest, ChatContextCookiesAndPrivateDataGoWhenTheConversationTimesOut) {
  auto cv = NewConversation();
  ASSERT_TRUE(Write([&](store::Writer& w) {
                return w.SetConversationEphemeral(tenant_.id, cv.id,
                                                  {.context_sealed = std::string("MARKER-CTX"),
                                                   .cookies_sealed = std::string("MARKER-CK"),
                                                   .private_sealed = std::string("MARKER-PD")});
              }).ok());
  const std::string held =
      "SELECT count(*) FROM conversations WHERE length(context_sealed) > 0 "
      "AND length(cookies_sealed) > 0 AND length(private_sealed) > 0";
  SweeperOptions options;
  options.inactivity_timeout = 1h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(59min);
  ASSERT_TRUE(sweeper.RunOnce().ok());
  EXPECT_EQ(Count(held), 1) << "kept while the conversation is open";
  clock_.Advance(2min);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->conversations_ended, 1);
  EXPECT_EQ(Count(held), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE length(context_sealed) + "
                  "length(cookies_sealed) + length(private_sealed) > 0"),
            0)
      << "all three are gone from the row, which stays until its own TTL";
  EXPECT_EQ(Count("SELECT count(*) FROM conversations"), 1);
}

TEST_F(SweeperTest, ATenantSettingOverridesTheInactivityTimeout) {
  tenant_.settings_json = R"({"inactivity_timeout_s": 600})";
  ASSERT_TRUE(Write([&](store::Writer& w) {
                return w.UpdateTenantSettings(tenant_.id, tenant_.settings_json);
              }).ok());
  auto cv = NewConversation();
  Sweeper sweeper = MakeSweeper();  // default 24 h
  clock_.Advance(11min);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->conversations_ended, 1);
}

TEST_F(SweeperTest, DedupeRecordsAndIdempotencyKeysExpireAfterTheirWindows) {
  auto cv = NewConversation();
  ASSERT_TRUE(Write([&](store::Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.RecordInboundOnce(tenant_.id, connection_.id, "key-1",
                                                           MessageId::New(clock_), clock_.Now())
                                           .status());
                store::IdempotencyRecord r;
                r.tenant = tenant_.id;
                r.key_hash = "kh";
                r.request_hash = "rh";
                r.response_status = 202;
                r.response_sealed = "sealed";
                r.created_at = clock_.Now();
                return w.InsertIdempotency(r);
              }).ok());
  SweeperOptions options;
  options.dedupe_window = 7 * 24h;
  options.idempotency_window = 24h;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(25h);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->idempotency_keys, 1);
  EXPECT_EQ(report->inbound_dedupe, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM idempotency_keys"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM inbound_dedupe"), 1);
  clock_.Advance(6 * 24h);
  report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->inbound_dedupe, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM inbound_dedupe"), 0);
}

TEST_F(SweeperTest, LargeBacklogsAreDeletedInBoundedWrites) {
  auto cv = NewConversation();
  for (int i = 0; i < 25; ++i) NewMessage(cv.id, "received");
  SweeperOptions options;
  options.batch = 10;
  options.delivered_grace = 0s;
  Sweeper sweeper = MakeSweeper(options);
  clock_.Advance(1s);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->messages, 25);
  EXPECT_EQ(report->events, 25);
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 0);
}

// The attachment rule runs through the real Attachments on local sealed storage: the sweeper
// deletes the file and its row once the attachment's TTL has passed, not a moment before.
class AttachmentSweepTest : public SweeperTest {
 protected:
  void SetUp() override {
    SweeperTest::SetUp();
    blob::LocalBlobOptions options;
    options.root = dir_ + "/blobs";
    options.keys = [this](const TenantId& t) { return keys_->Get(t); };
    auto blobs = blob::LocalBlobStore::Open(std::move(options));
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    blobs_ = std::move(blobs).value();
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    attachments_.reset();
    work_.reset();
    if (io_thread_.joinable()) io_thread_.join();
    blobs_.reset();
    SweeperTest::TearDown();
  }

  void MakeAttachments(std::chrono::seconds ttl) {
    AttachmentOptions options;
    options.ttl = ttl;
    attachments_ = std::make_unique<Attachments>(*store_, *keys_, *blobs_, clock_, options);
  }

  // Runs a coroutine on the I/O thread and waits for it (Result is not default-constructible:
  // use_future needs an optional around it).
  template <typename T>
  T Await(std::function<boost::asio::awaitable<T>()> fn) {
    auto future = boost::asio::co_spawn(
        io_, [fn]() -> boost::asio::awaitable<std::optional<T>> { co_return co_await fn(); },
        boost::asio::use_future);
    return std::move(future.get().value());
  }

  StoredAttachment Upload(std::string bytes) {
    auto sent = std::make_shared<bool>(false);
    UploadRequest up;
    up.tenant = tenant_.id;
    up.declared_type = "text/plain";
    up.next = [bytes, sent]() -> boost::asio::awaitable<Result<std::string>> {
      co_return std::exchange(*sent, true) ? std::string() : bytes;
    };
    std::function<boost::asio::awaitable<Result<StoredAttachment>>()> upload = [&] {
      return attachments_->Upload(std::move(up));
    };
    auto stored = Await(upload);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return std::move(stored).value();
  }

  void ArmAttachmentSweep(Sweeper& sweeper) {
    sweeper.SetAttachmentSweep([this](int limit) -> Result<int> {
      std::function<boost::asio::awaitable<Result<int>>()> sweep = [this, limit] {
        return attachments_->SweepExpired(limit);
      };
      return Await(sweep);
    });
  }

  size_t BlobFiles() {
    std::error_code ec;
    auto it = std::filesystem::directory_iterator(dir_ + "/blobs/" + tenant_.id.str(), ec);
    return ec ? 0 : static_cast<size_t>(std::distance(it, std::filesystem::directory_iterator()));
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::thread io_thread_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<Attachments> attachments_;
};

TEST_F(AttachmentSweepTest, AttachmentsAndTheirFilesGoAfter24Hours) {
  MakeAttachments(24h);
  StoredAttachment a = Upload("first file\n");
  ASSERT_EQ(BlobFiles(), 1u);
  clock_.Advance(1h);
  Upload("second file, stored an hour later\n");
  ASSERT_EQ(BlobFiles(), 2u);
  Sweeper sweeper = MakeSweeper();
  ArmAttachmentSweep(sweeper);

  clock_.Advance(23h - 1s);  // the first is 1 s short of its 24 h
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->attachments, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 2);

  clock_.Advance(2s);
  report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->attachments, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments WHERE id = '" + a.record.id.str() + "'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 1);
  EXPECT_EQ(BlobFiles(), 1u) << "the file goes with its row";
  EXPECT_FALSE(
      std::filesystem::exists(dir_ + "/blobs/" + tenant_.id.str() + "/" + a.record.blob_name));

  clock_.Advance(1h);
  report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->attachments, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 0);
  EXPECT_EQ(BlobFiles(), 0u);
}

TEST_F(AttachmentSweepTest, AShorterConfiguredTtlDeletesSooner) {
  MakeAttachments(10min);
  Upload("short-lived\n");
  Sweeper sweeper = MakeSweeper();
  ArmAttachmentSweep(sweeper);
  clock_.Advance(10min + 1s);
  auto report = sweeper.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->attachments, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM attachments"), 0);
  EXPECT_EQ(BlobFiles(), 0u);
}

}  // namespace
}  // namespace parley::delivery

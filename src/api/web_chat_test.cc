// Protocol tests of the web chat session on an in-memory WebSocket: malformed frames, limits,
// dedupe, resume, private data, and events of other conversations.
#include "api/web_chat.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>

#include "api/web_chat_frames.h"
#include "blob/local_blob_store.h"
#include "bus/in_process_bus.h"
#include "core/message_json.h"
#include "core/test_temp_dir.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "delivery/attachments.h"
#include "delivery/tenant_keys.h"
#include "http/io_runtime.h"
#include "store/async.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

// A WebSocket whose peer is the test: frames pushed by the test are read by the session;
// frames the session writes are collected.
class FakeSocket final : public http::WebSocket {
 public:
  explicit FakeSocket(asio::io_context& io) : strand_(asio::make_strand(io)), timer_(strand_) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }

  // From the test thread.
  void Push(std::string frame) {
    {
      std::lock_guard lock(mu_);
      inbound_.push_back(std::move(frame));
    }
    asio::post(strand_, [this] { timer_.cancel(); });
  }
  void Hangup() {
    {
      std::lock_guard lock(mu_);
      hung_up_ = true;
    }
    asio::post(strand_, [this] { timer_.cancel(); });
  }
  // The next frame written, parsed; null after 5 s.
  json::object Next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 5s, [this] { return !outbound_.empty(); })) return {};
    std::string frame = std::move(outbound_.front());
    outbound_.pop_front();
    return json::parse(frame).as_object();
  }
  // The next frame of `type`, skipping others.
  json::object NextOf(std::string_view type) {
    for (int i = 0; i < 50; ++i) {
      json::object o = Next();
      if (o.empty() || (o["type"].is_string() && o["type"].get_string() == type)) return o;
    }
    return {};
  }
  int close_code() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [this] { return close_code_ != 0; });
    return close_code_;
  }

  asio::awaitable<Result<std::string>> Read() override {
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (!inbound_.empty()) {
          std::string frame = std::move(inbound_.front());
          inbound_.pop_front();
          co_return frame;
        }
        if (hung_up_ || close_code_) co_return Unavailable("closed");
      }
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  asio::awaitable<Status> Write(std::string text) override {
    {
      std::lock_guard lock(mu_);
      outbound_.push_back(std::move(text));
    }
    cv_.notify_all();
    co_return OkStatus();
  }
  asio::awaitable<void> Close(uint16_t code, std::string) override {
    {
      std::lock_guard lock(mu_);
      close_code_ = code;
    }
    cv_.notify_all();
    timer_.cancel();
    co_return;
  }
  asio::any_io_executor executor() override { return strand_; }

 private:
  asio::any_io_executor strand_;
  asio::steady_timer timer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> inbound_;
  std::deque<std::string> outbound_;
  bool hung_up_ = false;
  int close_code_ = 0;
};

class WebChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    auto store = store::sqlite::SqliteStore::Open({.path = dir_ + "/parley.db", .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    keys_ = std::make_unique<delivery::TenantKeys>(ring_, *store_);

    store::TenantRecord tenant;
    tenant.id = TenantId::New(clock_);
    tenant.name = "acme";
    tenant.wrapped_key =
        ring_.master_key().WrapDataKey(tenant.id.str(), crypto::DataKey::Generate());
    tenant.settings_json = "{}";
    tenant.created_at = clock_.Now();
    store::ConnectionRecord connection;
    connection.id = ConnectionId::New(clock_);
    connection.tenant = tenant.id;
    connection.kind = "web";
    connection.name = "site";
    connection.settings_json =
        R"({"allowed_origins":["https://shop.test"],"cookie_names":["plan"]})";
    connection.created_at = clock_.Now();
    store::Store::WriteFn insert = [&](store::Writer& w) -> Status {
      PARLEY_RETURN_IF_ERROR(w.InsertTenant(tenant));
      return w.InsertConnection(connection);
    };
    ASSERT_TRUE(WriteSync(std::move(insert)).ok());

    auto open = std::make_shared<OpenConnection>();
    open->context.tenant = tenant.id;
    open->context.id = connection.id;
    open->context.kind = "web";
    open->context.settings = json::parse(connection.settings_json).as_object();
    open->context.credentials = json::object{{"private_data_secret", kSecret}};
    std::promise<Result<std::shared_ptr<const crypto::DataKey>>> key;
    asio::co_spawn(
        runtime_.context(),
        [&]() -> asio::awaitable<void> { key.set_value(co_await keys_->Get(tenant.id)); },
        asio::detached);
    auto k = key.get_future().get();
    ASSERT_TRUE(k.ok());
    open->key = *k;
    connection_ = open;

    app_.store = store_.get();
    app_.keys = keys_.get();
    app_.bus = &bus_;
    app_.clock = &clock_;
    app_.metrics = &metrics_;
    WebChatOptions options;
    options.frames_per_second = 10;
    options.frame_burst = 30;
    chat_ = std::make_unique<WebChat>(app_, options);
  }

  void TearDown() override {
    for (auto& s : sockets_) s->Hangup();
    for (int i = 0; i < 200 && chat_->open_sessions() > 0; ++i) std::this_thread::sleep_for(10ms);
    runtime_.Stop();
    chat_.reset();
    store_.reset();
  }

  Status WriteSync(store::Store::WriteFn fn) {
    std::promise<Status> done;
    store_->SubmitWrite(std::move(fn), [&done](Status s) { done.set_value(s); });
    return done.get_future().get();
  }

  // A new widget session.
  std::shared_ptr<FakeSocket> Open() {
    auto socket = std::make_shared<FakeSocket>(runtime_.context());
    sockets_.push_back(socket);
    asio::co_spawn(socket->executor(), chat_->Serve(socket, connection_, R"({"ip":"192.0.2.7"})"),
                   asio::detached);
    return socket;
  }

  // Greets on `ws` and sends one visitor message, which opens a conversation: its stored row.
  Result<store::MessageRecord> StartConversation(FakeSocket& ws, std::string text) {
    ws.Push(R"({"type":"hello"})");
    if (ws.Next()["type"] != "welcome") return Internal("no welcome frame");
    ws.Push(Text("c1", std::move(text)));
    json::object ack = ws.NextOf("ack");
    const json::value* id =
        ack["message"].is_object() ? ack["message"].as_object().if_contains("id") : nullptr;
    if (id == nullptr || !id->is_string()) return Internal("ack: " + json::serialize(ack));
    PARLEY_ASSIGN_OR_RETURN(MessageId message, MessageId::Parse(id->get_string()));
    std::promise<Result<store::MessageRecord>> got;
    store_->SubmitRead([&](store::Reader& r) {
      got.set_value(r.GetMessage(connection_->context.tenant, message));
    });
    return got.get_future().get();
  }

  static std::string Text(std::string client_id, std::string text) {
    return json::serialize(
        json::object{{"type", "message"},
                     {"client_id", client_id},
                     {"content", json::object{{"type", "text"}, {"text", text}}}});
  }

  static constexpr std::string_view kSecret = "pds_0123456789abcdef0123456789abcdef";
  FakeClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  crypto::KeyRing ring_{crypto::MasterKey::Generate()};
  TestTempDir tmp_{"parley_web"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<delivery::TenantKeys> keys_;
  bus::InProcessBus bus_;
  http::Metrics metrics_;
  App app_;
  http::IoRuntime runtime_;
  std::unique_ptr<WebChat> chat_;
  std::shared_ptr<const OpenConnection> connection_;
  std::vector<std::shared_ptr<FakeSocket>> sockets_;

  struct Start {
    explicit Start(http::IoRuntime& r) { r.Start(2); }
  } start_{runtime_};
};

TEST_F(WebChatTest, MalformedFramesGetAnErrorFrameAndTheSessionGoesOn) {
  auto ws = Open();
  for (std::string bad : {"not json", "[1,2]", "{}", R"({"type":5})", "{\"type\":\"hello\""}) {
    ws->Push(bad);
    json::object e = ws->Next();
    ASSERT_EQ(e["type"], "error") << bad;
    EXPECT_EQ(e["code"], "malformed") << bad;
  }
  ws->Push(R"({"type":"dance"})");
  EXPECT_EQ(ws->Next()["code"], "unknown_type");
  ws->Push(Text("c1", "too early"));
  EXPECT_EQ(ws->Next()["code"], "not_ready");
  ws->Push(R"({"type":"ping"})");
  EXPECT_EQ(ws->Next()["type"], "pong");

  ws->Push(R"({"type":"hello"})");
  json::object welcome = ws->Next();
  ASSERT_EQ(welcome["type"], "welcome");
  EXPECT_TRUE(IsSessionToken(welcome["session"].as_string()));
  EXPECT_TRUE(welcome["conversation"].is_null());
  EXPECT_EQ(welcome["cookie_names"], (json::array{"plan"}));
  ws->Push(R"({"type":"hello"})");
  EXPECT_EQ(ws->Next()["code"], "malformed");  // only once

  // Bad messages: refused with the field named, nothing stored.
  ws->Push(R"({"type":"message","content":{"type":"text","text":"x"}})");
  EXPECT_EQ(ws->Next()["code"], "malformed");  // client_id
  ws->Push(R"({"type":"message","client_id":"c2","content":{"type":"text"}})");
  json::object invalid = ws->Next();
  EXPECT_EQ(invalid["code"], "invalid_content");
  EXPECT_EQ(invalid["ref"], "c2");
  ws->Push(R"({"type":"message","client_id":"c3","content":{"type":"template","name":"x"}})");
  EXPECT_EQ(ws->Next()["code"], "invalid_content");
  ws->Push(R"({"type":"read","message":"msg_nope"})");
  EXPECT_EQ(ws->Next()["code"], "malformed");
  ws->Push(R"({"type":"end"})");
  EXPECT_EQ(ws->Next()["code"], "no_conversation");

  // Still serving.
  ws->Push(Text("c4", "hello"));
  json::object ack = ws->NextOf("ack");
  EXPECT_EQ(ack["client_id"], "c4");
}

TEST_F(WebChatTest, SizeLimitsAndTheFrameRate) {
  auto ws = Open();
  ws->Push(R"({"type":"hello"})");
  ASSERT_EQ(ws->Next()["type"], "welcome");
  ws->Push(std::string(17 * 1024, ' '));
  EXPECT_EQ(ws->Next()["code"], "too_large");
  ws->Push(Text("long", std::string(4097, 'a')));
  json::object e = ws->Next();
  EXPECT_EQ(e["code"], "too_large");
  EXPECT_EQ(e["ref"], "long");

  // The clock stands still: of the burst of 30 frames, 3 are used above (hello, the text, and
  // the oversized frame is refused before it costs a token).
  int pongs = 0, limited = 0;
  for (int i = 0; i < 40; ++i) ws->Push(R"({"type":"ping"})");
  for (int i = 0; i < 40; ++i) {
    json::object f = ws->Next();
    if (f["type"] == "pong") ++pongs;
    if (f["code"] == "rate_limited") ++limited;
  }
  EXPECT_EQ(pongs, 28);
  EXPECT_EQ(limited, 12);
  // Going on at this rate closes the socket (policy violation).
  for (int i = 0; i < 60; ++i) ws->Push(R"({"type":"ping"})");
  EXPECT_EQ(ws->close_code(), 1008);
}

TEST_F(WebChatTest, AMessageIsStoredOnceAndTheSessionResumesWithItsHistory) {
  auto ws = Open();
  ws->Push(R"({"type":"hello","cookies":{"plan":"gold","secret":"not listed"}})");
  std::string token(ws->Next()["session"].as_string());
  ws->Push(Text("c1", "where is my order?"));
  json::object ack = ws->NextOf("ack");
  ASSERT_TRUE(ack["message"].is_object()) << json::serialize(ack);
  std::string id(ack["message"].at("id").as_string());
  EXPECT_EQ(ack["message"].at("direction"), "inbound");
  EXPECT_EQ(ack["message"].at("status"), "sent");
  EXPECT_FALSE(ack["message"].as_object().contains("tenant"));
  ws->Push(Text("c1", "where is my order?"));  // resent: stored once
  json::object again = ws->NextOf("ack");
  EXPECT_EQ(again["message"].at("id"), id.c_str());
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(json::serialize(again),
            R"({"type":"ack","client_id":"c1","message":{"id":")" + id + R"("},"duplicate":true})");

  // Another page of the site: the same token resumes the conversation.
  auto next_page = Open();
  next_page->Push(json::serialize(json::object{{"type", "hello"}, {"session", token}}));
  json::object welcome = next_page->Next();
  ASSERT_EQ(welcome["type"], "welcome");
  EXPECT_EQ(welcome["session"], token.c_str());
  ASSERT_TRUE(welcome["conversation"].is_object());
  ASSERT_EQ(welcome["messages"].as_array().size(), 1u);
  EXPECT_EQ(welcome["messages"].as_array()[0].at("id"), id.c_str());
  std::string conversation(welcome["conversation"].at("id").as_string());

  // The cookie data is sealed on the conversation, with only the listed cookie.
  auto cv = ConversationId::Parse(conversation);
  ASSERT_TRUE(cv.ok());
  std::promise<Result<store::ConversationRecord>> got;
  store_->SubmitRead([&](store::Reader& r) {
    got.set_value(r.GetConversation(connection_->context.tenant, *cv));
  });
  auto record = got.get_future().get();
  ASSERT_TRUE(record.ok());
  auto cookies = connection_->key->Open(
      record->cookies_sealed,
      delivery::place::ConversationCookies(connection_->context.tenant, conversation));
  ASSERT_TRUE(cookies.ok());
  EXPECT_EQ(*cookies, R"({"plan":"gold"})");

  // A message from one tab reaches the other.
  next_page->Push(Text("c2", "also, the size"));
  json::object echoed = ws->NextOf("message");
  EXPECT_EQ(echoed["message"].at("content").at("text"), "also, the size");

  // A stranger's token does not resume it.
  auto stranger = Open();
  stranger->Push(R"({"type":"hello","session":"wst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})");
  json::object fresh = stranger->Next();
  EXPECT_TRUE(fresh["conversation"].is_null());
  EXPECT_TRUE(fresh["messages"].as_array().empty());
}

TEST_F(WebChatTest, PrivateDataTokensAreVerified) {
  auto ws = Open();
  ws->Push(R"({"type":"hello"})");
  ASSERT_EQ(ws->Next()["type"], "welcome");
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  json::object claims{{"sub", "user-7"}, {"authenticated", true}, {"exp", now + 600}};
  std::string wrong = crypto::SignHs256Jwt(claims, "pds_the_wrong_secret_0123456789abcdef");
  ws->Push(json::serialize(json::object{{"type", "identify"}, {"token", wrong}}));
  json::object e = ws->Next();
  EXPECT_EQ(e["code"], "invalid_token");
  json::object expired_claims = claims;
  expired_claims["exp"] = now - 3600;
  ws->Push(json::serialize(json::object{{"type", "identify"},
                                        {"token", crypto::SignHs256Jwt(expired_claims, kSecret)}}));
  EXPECT_EQ(ws->Next()["code"], "invalid_token");
  ws->Push(json::serialize(
      json::object{{"type", "identify"}, {"token", crypto::SignHs256Jwt(claims, kSecret)}}));
  ws->Push(Text("c1", "hi"));
  json::object ack = ws->NextOf("ack");  // no error before it: the good token was taken
  ASSERT_EQ(ack["type"], "ack");
  std::promise<Result<std::vector<store::ConversationRecord>>> got;
  store_->SubmitRead([&](store::Reader& r) {
    got.set_value(r.ListConversations(connection_->context.tenant, std::nullopt, {}));
  });
  auto list = got.get_future().get();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  auto opened = connection_->key->Open(list->front().private_sealed,
                                       delivery::place::ConversationPrivateData(
                                           connection_->context.tenant, list->front().id.str()));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(json::parse(*opened), json::value(claims));
  auto context = connection_->key->Open(
      list->front().context_sealed,
      delivery::place::ConversationContext(connection_->context.tenant, list->front().id.str()));
  ASSERT_TRUE(context.ok());
  EXPECT_NE(context->find("192.0.2.7"), std::string::npos);
}

TEST_F(WebChatTest, EventsReachOnlyTheirConversationAndTheEndClosesIt) {
  auto alice = Open();
  auto bob = Open();
  alice->Push(R"({"type":"hello"})");
  bob->Push(R"({"type":"hello"})");
  json::object alice_welcome = alice->Next();
  ASSERT_EQ(alice_welcome["type"], "welcome");
  ASSERT_EQ(bob->Next()["type"], "welcome");
  alice->Push(Text("a1", "alice here"));
  bob->Push(Text("b1", "bob here"));
  json::object alice_ack = alice->NextOf("ack");
  json::object bob_ack = bob->NextOf("ack");
  // The sending socket gets its message in the ack only: no `message` frame follows it.
  alice->Push(R"({"type":"ping"})");
  EXPECT_EQ(alice->Next()["type"], "pong");
  // Alice's other tab sees her next message; Bob sees nothing of hers.
  auto alice_tab = Open();
  alice_tab->Push(
      json::serialize(json::object{{"type", "hello"}, {"session", alice_welcome["session"]}}));
  ASSERT_EQ(alice_tab->Next()["type"], "welcome");
  alice->Push(Text("a1b", "alice again"));
  EXPECT_EQ(alice->NextOf("ack")["message"].at("content").at("text"), "alice again");
  EXPECT_EQ(alice_tab->NextOf("message")["message"].at("content").at("text"), "alice again");
  alice->Push(R"({"type":"ping"})");
  EXPECT_EQ(alice->Next()["type"], "pong");
  // A read receipt for a message of another conversation is refused.
  bob->Push(
      json::serialize(json::object{{"type", "read"}, {"message", alice_ack["message"].at("id")}}));
  EXPECT_EQ(bob->Next()["code"], "malformed");

  alice->Push(R"({"type":"end"})");
  json::object ended = alice->NextOf("ended");
  EXPECT_EQ(ended["reason"], "customer");
  alice->Push(R"({"type":"typing","on":true})");  // no conversation: ignored quietly
  alice->Push(R"({"type":"ping"})");
  EXPECT_EQ(alice->Next()["type"], "pong");
  // A new message starts a new conversation.
  alice->Push(Text("a2", "one more thing"));
  json::object next_ack = alice->NextOf("ack");
  EXPECT_NE(next_ack["message"].at("id"), alice_ack["message"].at("id"));
  EXPECT_FALSE(next_ack.contains("duplicate"));
}

TEST_F(WebChatTest, ReadReceiptsOfTheVisitorsMessagesReachTheWidget) {
  auto ws = Open();
  auto record = StartConversation(*ws, "hello");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  auto publish_status = [&](MessageId message, DeliveryStatus status) {
    Event event;
    event.id = EventId::New(clock_);
    event.tenant = connection_->context.tenant;
    event.created_at = clock_.Now();
    event.data =
        MessageStatusData{message, record->conversation, status, std::nullopt, "", clock_.Now()};
    bus_.Publish(bus::BusEvent{connection_->context.tenant, 99, event.id, Serialize(event),
                               record->conversation});
  };
  publish_status(MessageId::New(clock_), DeliveryStatus::kRead);  // not the visitor's
  publish_status(record->id, DeliveryStatus::kRead);
  json::object status = ws->NextOf("status");
  EXPECT_EQ(status["message"], record->id.str().c_str());
  EXPECT_EQ(status["status"], "read");
}

// An agent's image reaches the widget with a link minted as it leaves (Render's media path).
TEST_F(WebChatTest, AnAgentsImageReachesTheWidgetWithAFreshLink) {
  blob::LocalBlobOptions blob_options;
  blob_options.root = dir_ + "/blobs";
  blob_options.keys = [this](const TenantId& t) { return keys_->Get(t); };
  auto blobs = blob::LocalBlobStore::Open(std::move(blob_options));
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  delivery::Attachments attachments(*store_, *keys_, **blobs, clock_, {});
  app_.attachments = &attachments;

  auto ws = Open();
  auto record = StartConversation(*ws, "a photo please");
  ASSERT_TRUE(record.ok()) << record.status().ToString();

  Message image;
  image.id = MessageId::New(clock_);
  image.tenant = connection_->context.tenant;
  image.conversation = record->conversation;
  image.channel = ChannelRef{"web", connection_->context.id};
  image.direction = Direction::kOutbound;
  image.author.role = AuthorRole::kAgent;
  image.author.name = "Bo";
  Attachment a;
  a.id = AttachmentId::New(clock_);
  a.mime_type = "image/png";
  a.size_bytes = 68;
  image.content = MediaContent{MediaKind::kImage, {a}, "the swatch"};
  image.received_at = clock_.Now();
  Event event;
  event.id = EventId::New(clock_);
  event.tenant = connection_->context.tenant;
  event.created_at = clock_.Now();
  event.data = image;
  // From another node the event is its JSON only; on this one it also carries the message,
  // which Render reads instead (told apart here by a caption the JSON does not have).
  bus_.Publish(bus::BusEvent{connection_->context.tenant, 98, event.id, Serialize(event),
                             record->conversation});
  Message in_memory = image;
  std::get<MediaContent>(in_memory.content).caption = "the swatch, in memory";
  event.id = EventId::New(clock_);
  bus_.Publish(bus::BusEvent{connection_->context.tenant, 99, event.id, Serialize(event),
                             record->conversation, std::make_shared<const Message>(in_memory)});

  for (const char* caption : {"the swatch", "the swatch, in memory"}) {
    json::object frame = ws->NextOf("message");
    const json::value& content = frame["message"].at("content");
    EXPECT_EQ(content.at("caption"), caption);
    std::string url(content.at("attachments").at(0).at("url").as_string());
    EXPECT_NE(url.find(a.id->str()), std::string::npos) << url;
    EXPECT_NE(url.find("signature="), std::string::npos) << url;
    EXPECT_EQ(frame["message"].at("author").at("name"), "Bo");
    EXPECT_FALSE(frame["message"].as_object().contains("tenant"));
  }
  app_.attachments = nullptr;
  for (auto& s : sockets_) s->Hangup();
  for (int i = 0; i < 200 && chat_->open_sessions() > 0; ++i) std::this_thread::sleep_for(10ms);
}

}  // namespace
}  // namespace parley::api

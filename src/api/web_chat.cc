#include "api/web_chat.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <deque>
#include <unordered_set>

#include "api/inbound.h"
#include "api/rate_limiter.h"
#include "api/web_chat_frames.h"
#include "channels/web/web_adapter.h"
#include "core/log.h"
#include "core/message_json.h"
#include "crypto/jwt.h"
#include "delivery/event_recorder.h"
#include "http/io_runtime.h"
#include "store/async.h"

namespace parley::api {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

constexpr size_t kMaxClientIdBytes = 64;
constexpr size_t kMaxOwnMessages = 10000;

}  // namespace

// One widget socket. Its fields belong to the socket's strand (the reader and the writer
// coroutines run there), except `mu` and what it guards, which the bus fills.
struct WebChat::Session : std::enable_shared_from_this<WebChat::Session> {
  Session(WebChat& chat, std::shared_ptr<http::WebSocket> socket,
          std::shared_ptr<const OpenConnection> connection, std::string context_json)
      : chat(chat),
        socket(std::move(socket)),
        connection(std::move(connection)),
        settings(channels::web::WebSettings::From(this->connection->context.settings)),
        frames(chat.options_.frames_per_second, chat.options_.frame_burst),
        overflow_frames(2 * chat.options_.frames_per_second, 2 * chat.options_.frame_burst),
        timer(this->socket->executor()) {
    ephemeral.context_json = std::move(context_json);
    timer.expires_at(std::chrono::steady_clock::time_point::max());
  }

  const TenantId& tenant() const { return connection->context.tenant; }
  const crypto::DataKey& key() const { return *connection->key; }
  TimePoint now() const { return chat.app_.clock->Now(); }

  // ---- outgoing: frames from the reader and events from the bus, written in order --------

  struct Outgoing {
    std::string frame;                   // a ready frame, or
    std::optional<bus::BusEvent> event;  // an event to render for this widget, or
    uint16_t close_code = 0;             // a close
    std::string close_reason;
  };

  void Push(Outgoing item) {
    {
      std::lock_guard lock(mu);
      if (queue.size() >= chat.options_.max_queued_frames) {
        overflow = true;
      } else {
        queue.push_back(std::move(item));
      }
    }
    asio::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
  }
  void Send(std::string frame) { Push(Outgoing{std::move(frame), std::nullopt, 0, {}}); }
  void CloseWith(uint16_t code, std::string reason) {
    Push(Outgoing{{}, std::nullopt, code, std::move(reason)});
    closing = true;
  }

  static awaitable<void> WriteLoop(std::shared_ptr<Session> self) {
    while (true) {
      std::deque<Outgoing> batch;
      bool overflowed = false, finished = false;
      {
        std::lock_guard lock(self->mu);
        batch.swap(self->queue);
        overflowed = self->overflow;
        finished = self->reader_done;
      }
      for (Outgoing& item : batch) {
        if (item.close_code) {
          co_await self->socket->Close(item.close_code, item.close_reason);
          co_return;
        }
        std::string frame = item.event ? self->Render(*item.event) : std::move(item.frame);
        if (frame.empty()) continue;
        if (!(co_await self->socket->Write(std::move(frame))).ok()) co_return;
      }
      if (overflowed) {
        log::Warn("web.session_overflow", {{"connection", self->connection->context.id.str()}});
        co_await self->socket->Close(4408, "widget too slow; reconnect to resume");
        co_return;
      }
      if (finished && batch.empty()) co_return;
      if (batch.empty()) {
        auto [ec] = co_await self->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;  // cancelled: something was pushed
      }
    }
  }

  // An event of this session's conversation as a widget frame; "" when the widget has no
  // use for it. A plain function, not a coroutine: its arena stays on the thread's stack.
  std::string Render(const bus::BusEvent& e) {
    // This socket's own message: its ack carried it already.
    if (!acked_here.empty() && acked_here.erase(e.id.str()) > 0) return {};
    if (e.message) {  // recorded on this node: the message is in memory
      ViewFacts facts;
      std::string frame =
          MessageFrame(*e.message, {}, {}, &facts, chat.app_.attachments, key(), now());
      RememberOwn(facts);
      return frame;
    }
    // Read in an arena on the stack: the tree lives only until the frame is written.
    unsigned char buffer[8192];
    json::monotonic_resource arena(buffer, sizeof(buffer));
    const json::storage_ptr sp(&arena);
    auto parsed = ParseBoundedJson(e.json, kMaxMessageJsonBytes, sp);
    if (!parsed.ok() || !parsed->is_object()) return {};
    const json::object& event = parsed->get_object();
    auto type_it = event.find("type");
    auto data_it = event.find("data");
    if (type_it == event.end() || !type_it->value().is_string() || data_it == event.end() ||
        !data_it->value().is_object()) {
      return {};
    }
    std::string_view type = type_it->value().get_string();
    const json::object& data = data_it->value().get_object();
    if (type == "message.created") {
      const json::value* content = data.if_contains("content");
      const json::value* content_type =
          content && content->is_object() ? content->get_object().if_contains("type") : nullptr;
      const json::object* message = &data;
      json::value linked(sp);  // media: the message with its attachments' links minted now
      if (chat.app_.attachments && content_type && *content_type == "media") {
        auto minted =
            ParseBoundedJson(chat.app_.attachments->AddLinks(key(), json::serialize(data), now()),
                             kMaxMessageJsonBytes, sp);
        if (!minted.ok() || !minted->is_object()) return {};
        linked = std::move(*minted);
        message = &linked.get_object();
      }
      ViewFacts facts;
      std::string frame = MessageFrame(*message, {}, {}, &facts, sp);
      RememberOwn(facts);
      return frame;
    }
    if (type == "message.status") {
      auto status = data.find("status");
      auto message = data.find("message");
      if (status == data.end() || message == data.end() || !status->value().is_string() ||
          !message->value().is_string()) {
        return {};
      }
      std::string s(status->value().get_string());
      if (s != "delivered" && s != "read") return {};
      // Only the visitor's messages: statuses of agent messages are the widget's own reports.
      if (!own_messages.contains(std::string(message->value().get_string()))) return {};
      return json::serialize(
          json::object{{"type", "status"}, {"message", message->value()}, {"status", s}});
    }
    if (type == "typing") return TypingFrame(data);
    if (type == "conversation.ended") {
      if (!conversation || (e.conversation && *e.conversation != *conversation)) return {};
      auto reason = data.find("reason");
      if (conversation) chat.Unindex(*conversation, this);
      conversation.reset();
      own_messages.clear();
      acked_here.clear();
      return json::serialize(
          json::object{{"type", "ended"},
                       {"reason", reason != data.end() ? reason->value() : json::value("system")}});
    }
    return {};
  }

  // The visitor's messages in this conversation, whose statuses the widget shows.
  void RememberOwn(const ViewFacts& facts) {
    if (!facts.inbound || facts.id.empty() || own_messages.size() >= kMaxOwnMessages) return;
    own_messages.insert(facts.id);
  }

  // ---- incoming -----------------------------------------------------------------------------

  awaitable<void> Handle(std::string text) {
    if (text.size() > chat.options_.max_frame_bytes) {
      Send(ErrorFrame("too_large",
                      fmt::format("frames are at most {} bytes", chat.options_.max_frame_bytes)));
      co_return;
    }
    TimePoint t = now();
    if (!frames.Take(t)) {
      if (!overflow_frames.Take(t)) {
        CloseWith(1008, "rate limit exceeded");
        co_return;
      }
      Send(ErrorFrame("rate_limited", "too many frames; slow down"));
      co_return;
    }
    auto frame = ParseObject(text, chat.options_.max_frame_bytes);
    if (!frame.ok()) {
      Send(ErrorFrame("malformed", frame.status().message()));
      co_return;
    }
    auto type_it = frame->find("type");
    if (type_it == frame->end() || !type_it->value().is_string()) {
      Send(ErrorFrame("malformed", "type: required string"));
      co_return;
    }
    std::string type(type_it->value().get_string());
    if (type == "ping") {
      Send(R"({"type":"pong"})");
      co_return;
    }
    if (type == "hello") {
      co_await OnHello(*frame);
      co_return;
    }
    if (type != "message" && type != "typing" && type != "read" && type != "delivered" &&
        type != "end" && type != "identify" && type != "cookies") {
      Send(ErrorFrame("unknown_type", "unknown frame type"));
      co_return;
    }
    if (visitor.empty()) {
      Send(ErrorFrame("not_ready", "send hello first"));
      co_return;
    }
    if (type == "message") co_await OnMessage(*frame);
    if (type == "typing") OnTyping(*frame);
    if (type == "read" || type == "delivered") co_await OnStatus(*frame, type);
    if (type == "end") co_await OnEnd();
    if (type == "identify") co_await OnIdentify(*frame);
    if (type == "cookies") co_await OnCookies(*frame);
  }

  awaitable<void> OnHello(const json::object& frame) {
    if (!visitor.empty()) {
      Send(ErrorFrame("malformed", "hello: already received"));
      co_return;
    }
    auto token = OptionalString(frame, "session", 256);
    auto page = OptionalString(frame, "page", kMaxUrlBytes);
    if (!token.ok() || !page.ok()) {
      Send(ErrorFrame("malformed", (!token.ok() ? token : page).status().message()));
      co_return;
    }
    session_token = IsSessionToken(*token) ? *token : NewSessionToken();
    visitor = VisitorIdOf(session_token);
    auto cookies_it = frame.find("cookies");
    std::string cookies =
        FilterCookies(cookies_it == frame.end() ? nullptr : &cookies_it->value(), settings);
    if (!cookies.empty()) ephemeral.cookies_json = cookies;
    if (!page->empty() && IsHttpUrl(*page)) {
      auto context = ParseBoundedJson(*ephemeral.context_json);
      if (context.ok() && context->is_object()) {
        context->get_object()["page"] = *page;
        ephemeral.context_json = json::serialize(*context);
      }
    }

    // The visitor's open conversation on this connection, with its history.
    std::string index = key().BlindIndex(delivery::ContactIndexDomain("web"), visitor);
    std::function<Result<WebVisit>(store::Reader&)> find =
        [tenant = tenant(), connection_id = connection->context.id, index,
         limit = chat.options_.history_limit](store::Reader& r) {
          return LoadVisit(r, tenant, connection_id, index, limit);
        };
    auto found = co_await store::Read<WebVisit>(*chat.app_.store, std::move(find));
    if (!found.ok()) {
      visitor.clear();
      Send(ErrorFrame("unavailable", "could not load the conversation; retry"));
      co_return;
    }
    chat.Attach(tenant());
    attached = true;
    json::value conversation_json = nullptr;
    json::array history;
    if (found->conversation) {
      conversation = found->conversation->id;
      customer = found->conversation->customer;
      chat.Index(*conversation, shared_from_this());
      conversation_json = json::object{{"id", conversation->str()}, {"state", "open"}};
      for (const store::MessageRecord& m : found->messages) {
        auto body = key().Open(m.body_sealed, delivery::place::MessageBody(tenant(), m.id.str()));
        if (!body.ok()) continue;
        std::string linked = *body;
        if (chat.app_.attachments) {
          linked = chat.app_.attachments->AddLinks(key(), std::move(linked), now());
        }
        auto parsed = ParseBoundedJson(linked);
        if (parsed.ok() && parsed->is_object()) {
          json::object view = MessageView(parsed->get_object(), m.status);
          RememberOwn(FactsOf(view));
          history.push_back(std::move(view));
        }
      }
      // The context of this visit (and cookies, private data) replace what the conversation
      // had: agents see where the visitor is now.
      co_await WriteEphemeral(ephemeral);
    }
    json::array cookie_names;
    for (const auto& name : settings.cookie_names) cookie_names.emplace_back(name);
    Send(json::serialize(json::object{{"type", "welcome"},
                                      {"session", session_token},
                                      {"conversation", std::move(conversation_json)},
                                      {"messages", std::move(history)},
                                      {"cookie_names", std::move(cookie_names)},
                                      {"title", settings.title}}));
  }

  // Seals `e` onto the open conversation. Quietly does nothing when it has just ended.
  awaitable<void> WriteEphemeral(InboundEphemeral e) {
    if (!conversation || e.empty()) co_return;
    store::ConversationEphemeral sealed = SealEphemeral(key(), tenant(), *conversation, e);
    store::Store::WriteFn write = [tenant = tenant(), cv = *conversation,
                                   sealed](store::Writer& w) -> parley::Status {
      parley::Status s = w.SetConversationEphemeral(tenant, cv, sealed);
      if (s.code() == StatusCode::kFailedPrecondition) return OkStatus();
      return s;
    };
    parley::Status s = co_await store::WriteRerunnable(*chat.app_.store, std::move(write));
    if (!s.ok()) Send(ErrorFrame("unavailable", "could not store the chat context; retry"));
  }

  awaitable<void> OnMessage(const json::object& frame) {
    auto client_id = OptionalString(frame, "client_id", kMaxClientIdBytes);
    if (!client_id.ok() || client_id->empty() || !Printable(*client_id)) {
      Send(ErrorFrame("malformed", "client_id: required, 1 to 64 printable characters"));
      co_return;
    }
    auto content_it = frame.find("content");
    if (content_it == frame.end()) {
      Send(ErrorFrame("invalid_content", "content: required", *client_id));
      co_return;
    }
    auto content = ContentFromJson(content_it->value(), "content");
    if (!content.ok()) {
      Send(ErrorFrame("invalid_content", content.status().message(), *client_id));
      co_return;
    }
    ContentType type = TypeOf(*content);
    if (type != ContentType::kText && type != ContentType::kMedia &&
        type != ContentType::kLocation && type != ContentType::kReply) {
      Send(ErrorFrame("invalid_content",
                      "content.type: the widget sends text, media, location or reply", *client_id));
      co_return;
    }
    if (type == ContentType::kText &&
        std::get<TextContent>(*content).text.size() > chat.options_.max_text_bytes) {
      Send(ErrorFrame("too_large",
                      fmt::format("content.text: at most {} bytes", chat.options_.max_text_bytes),
                      *client_id));
      co_return;
    }
    channels::InboundMessage in;
    in.provider_message_id = visitor + ":" + *client_id;  // client ids are unique per visitor
    in.contact_id = visitor;
    in.content = std::move(*content);

    auto recorder = std::make_shared<delivery::EventRecorder>(connection->key, *chat.app_.clock);
    auto outcome = std::make_shared<InboundOutcome>();
    auto inbound = std::make_shared<channels::InboundMessage>(std::move(in));
    auto pending = std::make_shared<InboundEphemeral>(ephemeral);
    const Clock& clock = *chat.app_.clock;
    auto prepared = std::make_shared<PreparedInbound>(PrepareInbound(*connection, *inbound, clock));
    store::Store::WriteFn store_message = [c = connection, recorder, outcome, inbound, pending,
                                           prepared, &clock](store::Writer& w) -> parley::Status {
      recorder->Clear();
      PARLEY_ASSIGN_OR_RETURN(
          *outcome, StoreInbound(w, *c, *recorder, *inbound, clock, pending.get(), prepared.get()));
      return OkStatus();
    };
    parley::Status s = co_await store::WriteRerunnable(*chat.app_.store, std::move(store_message));
    if (!s.ok()) {
      bool caller = s.code() == StatusCode::kInvalidArgument;
      Send(ErrorFrame(caller ? "invalid_content" : "unavailable",
                      caller ? s.message() : "could not store the message; retry", *client_id));
      co_return;
    }
    RememberConversation(*connection, *prepared, *outcome);
    // Index first, so the published events of a new conversation reach this socket too.
    if (!conversation || *conversation != outcome->conversation) {
      if (conversation) chat.Unindex(*conversation, this);
      conversation = outcome->conversation;
      customer = outcome->customer;
      chat.Index(*conversation, shared_from_this());
    }
    std::string ack;
    if (outcome->stored) {  // not a duplicate
      ViewFacts facts;
      ack = MessageFrame(*outcome->stored, "sent", *client_id, &facts, chat.app_.attachments, key(),
                         now());
      RememberOwn(facts);
      if (acked_here.size() < kMaxOwnMessages) {
        acked_here.insert(delivery::MessageCreatedEventId(outcome->message).str());
      }
      if (chat.messages_in_) chat.messages_in_->Inc({"web"});
    } else {
      ack = DuplicateAckFrame(*client_id, outcome->message.str());
    }
    // The message's own event reaches the visitor's other tabs, not this socket: the ack
    // carries the message here.
    Send(std::move(ack));
    recorder->Publish(*chat.app_.bus);
  }

  void OnTyping(const json::object& frame) {
    if (!conversation) return;  // nobody to tell yet
    auto on = frame.find("on");
    bool typing = on != frame.end() && on->value() == true;
    delivery::PublishLive(*chat.app_.bus, *chat.app_.clock, tenant(),
                          TypingData{*conversation, AuthorRole::kCustomer, typing}, conversation);
  }

  awaitable<void> OnStatus(const json::object& frame, const std::string& type) {
    auto text = OptionalString(frame, "message", 64);
    auto id = MessageId::Parse(text.ok() ? *text : "");
    if (!id.ok()) {
      Send(ErrorFrame("malformed", "message: required msg_ id"));
      co_return;
    }
    if (!conversation) {
      Send(ErrorFrame("no_conversation", "no open conversation", id->str()));
      co_return;
    }
    auto recorder = std::make_shared<delivery::EventRecorder>(connection->key, *chat.app_.clock);
    channels::InboundStatus st;
    st.message = *id;
    st.status = type == "read" ? DeliveryStatus::kRead : DeliveryStatus::kDelivered;
    const Clock& clock = *chat.app_.clock;
    store::Store::WriteFn apply = [c = connection, recorder, st, cv = *conversation,
                                   &clock](store::Writer& w) -> parley::Status {
      recorder->Clear();
      auto message = w.GetMessage(c->context.tenant, *st.message);
      if (!message.ok() || message->conversation != cv) {
        return NotFound("message: not in this conversation");
      }
      return ApplyStatus(w, *c, *recorder, st, clock, store::Direction::kOutbound).status();
    };
    parley::Status s = co_await store::WriteRerunnable(*chat.app_.store, std::move(apply));
    if (s.code() == StatusCode::kNotFound) {
      Send(ErrorFrame("malformed", s.message(), id->str()));
    } else if (!s.ok()) {
      Send(ErrorFrame("unavailable", "could not record the status; retry", id->str()));
    } else {
      recorder->Publish(*chat.app_.bus);
    }
  }

  awaitable<void> OnEnd() {
    if (!conversation) {
      Send(ErrorFrame("no_conversation", "no open conversation"));
      co_return;
    }
    auto recorder = std::make_shared<delivery::EventRecorder>(connection->key, *chat.app_.clock);
    const Clock& clock = *chat.app_.clock;
    store::Store::WriteFn end = [tenant = tenant(), cv = *conversation,
                                 connection_id = connection->context.id, cu = customer, recorder,
                                 &clock](store::Writer& w) -> parley::Status {
      recorder->Clear();
      PARLEY_RETURN_IF_ERROR(w.EndConversation(tenant, cv, clock.Now(), "customer"));
      return recorder
          ->Record(w, tenant, ConversationEndedData{cv, connection_id, cu, EndReason::kCustomer},
                   cv)
          .status();
    };
    parley::Status s = co_await store::WriteRerunnable(*chat.app_.store, std::move(end));
    if (s.code() == StatusCode::kFailedPrecondition) co_return;  // ended already; `ended` follows
    if (!s.ok()) {
      Send(ErrorFrame("unavailable", "could not end the conversation; retry"));
      co_return;
    }
    // The `ended` frame comes from the bus, like for every other socket of the conversation.
    recorder->Publish(*chat.app_.bus);
  }

  awaitable<void> OnIdentify(const json::object& frame) {
    auto token = OptionalString(frame, "token", chat.options_.max_private_data_token_bytes);
    if (!token.ok() || token->empty()) {
      Send(ErrorFrame("invalid_token", fmt::format("token: required, at most {} bytes",
                                                   chat.options_.max_private_data_token_bytes)));
      co_return;
    }
    auto secret = connection->context.credentials.find("private_data_secret");
    if (secret == connection->context.credentials.end() || !secret->value().is_string()) {
      Send(ErrorFrame("invalid_token", "this connection takes no private data"));
      co_return;
    }
    crypto::JwtOptions options;
    options.max_token_bytes = chat.options_.max_private_data_token_bytes;
    auto verified = crypto::VerifyHs256Jwt(*token, std::string_view(secret->value().get_string()),
                                           now(), options);
    if (!verified.ok()) {
      Send(ErrorFrame("invalid_token", verified.status().message()));
      co_return;
    }
    ephemeral.private_json = json::serialize(verified->claims);
    InboundEphemeral update;
    update.private_json = ephemeral.private_json;
    co_await WriteEphemeral(update);
  }

  awaitable<void> OnCookies(const json::object& frame) {
    auto it = frame.find("cookies");
    std::string cookies = FilterCookies(it == frame.end() ? nullptr : &it->value(), settings);
    if (cookies.empty()) co_return;
    ephemeral.cookies_json = cookies;
    InboundEphemeral update;
    update.cookies_json = cookies;
    co_await WriteEphemeral(update);
  }

  WebChat& chat;
  std::shared_ptr<http::WebSocket> socket;
  std::shared_ptr<const OpenConnection> connection;
  channels::web::WebSettings settings;
  TokenBucket frames;
  TokenBucket overflow_frames;  // frames refused for the rate: too many and the socket closes
  bool closing = false;
  bool attached = false;

  std::string session_token;
  std::string visitor;  // set by hello
  std::optional<ConversationId> conversation;
  CustomerId customer;
  InboundEphemeral ephemeral;                    // this visit's context, cookies and private data
  std::unordered_set<std::string> own_messages;  // see RememberOwn
  // The message.created events of the messages this socket sent and acked, until they come
  // by: Render skips them unparsed.
  std::unordered_set<std::string> acked_here;

  asio::steady_timer timer;  // the writer's wake-up
  std::mutex mu;
  std::deque<Outgoing> queue;
  bool overflow = false;
  bool reader_done = false;
};

WebChat::WebChat(App& app, WebChatOptions options) : app_(app), options_(options) {
  if (app.metrics) {
    messages_in_ =
        &app.metrics->AddCounter("parley_web_messages_in_total",
                                 "Customer messages stored from the web chat widget.", {"channel"});
    app.metrics->AddGauge("parley_web_sessions", "Open web chat widget sockets.",
                          [this] { return static_cast<double>(open_.load()); });
  }
}

WebChat::~WebChat() = default;

awaitable<void> WebChat::Serve(std::shared_ptr<http::WebSocket> socket,
                               std::shared_ptr<const OpenConnection> connection,
                               std::string context_json) {
  ++open_;
  auto session =
      std::make_shared<Session>(*this, socket, std::move(connection), std::move(context_json));
  http::Spawn(socket->executor(), Session::WriteLoop(session), "web_chat_writer");
  while (!session->closing) {
    auto frame = co_await socket->Read();
    if (!frame.ok()) break;
    co_await session->Handle(std::move(*frame));
  }
  if (session->conversation) Unindex(*session->conversation, session.get());
  if (session->attached) Detach(session->tenant());
  {
    std::lock_guard lock(session->mu);
    session->reader_done = true;
  }
  asio::post(session->timer.get_executor(), [session] { session->timer.cancel(); });
  --open_;
}

void WebChat::OnEvent(const bus::BusEvent& event) {
  if (!event.conversation) return;
  std::vector<std::shared_ptr<Session>> targets;
  {
    std::lock_guard lock(mu_);
    auto it = by_conversation_.find(event.conversation->str());
    if (it == by_conversation_.end()) return;
    for (const auto& w : it->second) {
      if (auto s = w.lock()) targets.push_back(std::move(s));
    }
  }
  for (const auto& s : targets) s->Push(Session::Outgoing{{}, event, 0, {}});
}

}  // namespace parley::api

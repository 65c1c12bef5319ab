// What the client application says about a conversation besides messages (docs/api.md):
// an agent is typing (live only), and a customer message was read. Both also go to the
// customer's app where the channel's provider has them (Messenger's sender actions,
// WhatsApp's read marks, Telegram's chat action): best effort, after the answer; typing at most
// every 4 s per conversation.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/inbound.h"
#include "api/json_util.h"
#include "api/rate_limiter.h"
#include "channels/registry.h"
#include "core/log.h"
#include "core/message_json.h"
#include "delivery/event_recorder.h"
#include "delivery/message_status.h"
#include "delivery/tenant_keys.h"
#include "http/io_runtime.h"
#include "store/async.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

// What ForwardSignal needs from the store.
struct SignalLoad {
  store::CustomerRecord customer;
  std::optional<store::MessageRecord> message;
};

// Passes a typing indicator or read mark to the provider of the conversation's channel,
// where it takes that kind of signal.
awaitable<void> ForwardSignal(App& app, store::ConversationRecord conversation,
                              channels::SignalRequest::Kind kind, std::optional<MessageId> read) {
  auto connection = co_await app.connections->Get(conversation.connection);
  if (!connection.ok()) co_return;
  const channels::ConnectionContext& ctx = (*connection)->context;
  channels::ChannelAdapter* adapter = app.registry->Find(ctx.kind);
  if (!adapter || !adapter->SendsSignal(kind)) co_return;
  std::function<Result<SignalLoad>(store::Reader&)> load =
      [tenant = ctx.tenant, customer = conversation.customer,
       read](store::Reader& r) -> Result<SignalLoad> {
    SignalLoad out;
    PARLEY_ASSIGN_OR_RETURN(out.customer, r.GetCustomer(tenant, customer));
    if (read) {
      PARLEY_ASSIGN_OR_RETURN(out.message, r.GetMessage(tenant, *read));
    }
    return out;
  };
  auto loaded = co_await store::Read<SignalLoad>(*app.store, std::move(load));
  if (!loaded.ok()) co_return;
  const crypto::DataKey& key = *(*connection)->key;
  auto contact = key.Open(loaded->customer.contact_sealed,
                          delivery::place::CustomerContact(ctx.tenant, loaded->customer.id.str()));
  if (!contact.ok()) co_return;
  channels::SignalRequest request;
  request.kind = kind;
  request.contact_id = std::move(*contact);
  if (loaded->message) {
    auto body = key.Open(loaded->message->body_sealed,
                         delivery::place::MessageBody(ctx.tenant, loaded->message->id.str()));
    auto message = body.ok() ? ParseMessage(*body) : Result<Message>(body.status());
    if (message.ok()) request.provider_message_id = message->provider_message_id;
  }
  Status sent = co_await adapter->SendSignal(std::move(request), ctx);
  if (!sent.ok()) {
    log::Warn("signal.failed",
              {{"connection", ctx.id.str()}, {"code", StatusCodeName(sent.code())}});
  }
}

class SignalApi {
 public:
  SignalApi(App& app, Auth& auth) : app_(app), auth_(auth) {}

  void Register(http::Router& r) {
    r.Add("POST", "/v1/conversations/{conversation}/typing",
          [this](Request q) { return Typing(std::move(q)); });
    r.Add("POST", "/v1/conversations/{conversation}/read",
          [this](Request q) { return MarkRead(std::move(q)); });
  }

 private:
  // POST /v1/conversations/{id}/typing {"on": true|false}: live only (stream and widget).
  awaitable<Response> Typing(Request q) {
    auto who = co_await auth_.Client(q, "messages:write");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto on = body->find("on");
    if (on == body->end() || !on->value().is_bool()) {
      co_return http::ErrorResponse(InvalidArgument("on: required boolean"));
    }
    auto id = ConversationId::Parse(q.path_params.at("conversation"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("conversation not found"));
    std::function<Result<store::ConversationRecord>(store::Reader&)> get =
        [tenant = who->tenant, cv = *id](store::Reader& r) {
          return r.GetConversation(tenant, cv);
        };
    auto c = co_await store::Read<store::ConversationRecord>(*app_.store, std::move(get));
    if (!c.ok()) co_return http::ErrorResponse(c.status());
    if (c->state != store::ConversationState::kOpen) {
      co_return http::ErrorResponse(FailedPrecondition("conversation has ended"));
    }
    bool typing = on->value().get_bool();
    delivery::PublishLive(*app_.bus, *app_.clock, who->tenant,
                          TypingData{c->id, AuthorRole::kAgent, typing}, c->id);
    // Through the gate in the order the requests came, and only for a provider that shows
    // typing (the others would only fill the gate).
    auto kind = typing ? channels::SignalRequest::Kind::kTypingOn
                       : channels::SignalRequest::Kind::kTypingOff;
    auto connection = co_await app_.connections->Get(c->connection);
    channels::ChannelAdapter* adapter =
        connection.ok() ? app_.registry->Find((*connection)->context.kind) : nullptr;
    if (adapter && adapter->SendsSignal(kind) &&
        typing_.Pass(c->id.str(), typing, app_.clock->Now())) {
      auto executor = co_await boost::asio::this_coro::executor;
      http::Spawn(executor, ForwardSignal(app_, *c, kind, std::nullopt), "forward_signal");
    }
    co_return Json(202,
                   json::object{{"conversation", c->id.str()}, {"on", on->value().get_bool()}});
  }

  // POST /v1/conversations/{id}/read {"message": "msg_…"}: the customer's message was read.
  awaitable<Response> MarkRead(Request q) {
    auto who = co_await auth_.Client(q, "messages:write");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    TenantId tenant = who->tenant;
    auto cv = ConversationId::Parse(q.path_params.at("conversation"));
    if (!cv.ok()) co_return http::ErrorResponse(NotFound("conversation not found"));
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto text = StringField(*body, "message", 64, true);
    if (!text.ok()) co_return http::ErrorResponse(text.status());
    auto id = MessageId::Parse(*text);
    if (!id.ok()) co_return http::ErrorResponse(InvalidArgument("message: must be a msg_ id"));
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    auto recorder = std::make_shared<delivery::EventRecorder>(*key, *app_.clock);
    const Clock* clock = app_.clock;
    auto read_conversation = std::make_shared<store::ConversationRecord>();
    store::Store::WriteFn mark = [=, conversation = *cv,
                                  message = *id](store::Writer& w) -> Status {
      recorder->Clear();
      PARLEY_ASSIGN_OR_RETURN(store::ConversationRecord conv,
                              w.GetConversation(tenant, conversation));
      auto m = w.GetMessage(tenant, message);
      if (!m.ok() || m->conversation != conv.id || m->direction != store::Direction::kInbound) {
        return NotFound("message: no such customer message in this conversation");
      }
      *read_conversation = conv;
      if (delivery::StatusRank(m->status) >= delivery::StatusRank("read")) return OkStatus();
      TimePoint now = clock->Now();
      PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant, message, "read", now));
      MessageStatusData data;
      data.message = message;
      data.conversation = conv.id;
      data.status = DeliveryStatus::kRead;
      data.at = now;
      return recorder->Record(w, tenant, data, conv.id).status();
    };
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(mark));
    if (!s.ok()) co_return http::ErrorResponse(s);
    recorder->Publish(*app_.bus);
    auto executor = co_await boost::asio::this_coro::executor;
    http::Spawn(executor,
                ForwardSignal(app_, *read_conversation, channels::SignalRequest::Kind::kRead, *id),
                "forward_signal");
    co_return Json(202, json::object{{"message", id->str()}, {"status", "read"}});
  }

  App& app_;
  Auth& auth_;
  // Typing forwarded to providers: "on" at most every 4 s per conversation (Telegram's
  // indicator lasts 5 s; the others longer), whatever the client application reports.
  TypingGate typing_{std::chrono::seconds(4)};
};

}  // namespace

void RegisterSignalApi(http::Router& router, App& app, Auth& auth) {
  static SignalApi* api = nullptr;  // lives as long as the process, like the route table
  api = new SignalApi(app, auth);
  api->Register(router);
}

}  // namespace parley::api

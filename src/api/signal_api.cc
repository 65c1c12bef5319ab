// What the client application says about a conversation besides messages (docs/api.md):
// an agent is typing (live only), and a customer message was read.
#include <boost/asio/awaitable.hpp>

#include "api/handlers.h"
#include "api/inbound.h"
#include "api/json_util.h"
#include "delivery/event_recorder.h"
#include "store/async.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

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
    delivery::PublishLive(*app_.bus, *app_.clock, who->tenant,
                          TypingData{c->id, AuthorRole::kAgent, on->value().get_bool()}, c->id);
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
    store::Store::WriteFn mark = [=, conversation = *cv,
                                  message = *id](store::Writer& w) -> Status {
      recorder->Clear();
      PARLEY_ASSIGN_OR_RETURN(store::ConversationRecord conv,
                              w.GetConversation(tenant, conversation));
      auto m = w.GetMessage(tenant, message);
      if (!m.ok() || m->conversation != conv.id || m->direction != store::Direction::kInbound) {
        return NotFound("message: no such customer message in this conversation");
      }
      if (StatusRank(m->status) >= StatusRank("read")) return OkStatus();
      TimePoint now = clock->Now();
      PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant, message, "read", now));
      MessageStatusData data;
      data.message = message;
      data.conversation = conv.id;
      data.status = DeliveryStatus::kRead;
      data.at = now;
      return recorder->Record(w, tenant, data, conv.id).status();
    };
    Status s = co_await store::Write(*app_.store, std::move(mark));
    if (!s.ok()) co_return http::ErrorResponse(s);
    recorder->Publish(*app_.bus);
    co_return Json(202, json::object{{"message", id->str()}, {"status", "read"}});
  }

  App& app_;
  Auth& auth_;
};

}  // namespace

void RegisterSignalApi(http::Router& router, App& app, Auth& auth) {
  static SignalApi* api = nullptr;  // lives as long as the process, like the route table
  api = new SignalApi(app, auth);
  api->Register(router);
}

}  // namespace parley::api

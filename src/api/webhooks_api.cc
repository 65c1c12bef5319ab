// Channel webhooks: authenticate the provider's call, normalize it through the channel's
// adapter, store it durably and encrypted with its events and outbox rows in one
// group-committed write, and only then answer 2xx (DESIGN.md §5).
#include <fmt/format.h>

#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/inbound.h"
#include "api/json_util.h"
#include "core/log.h"
#include "core/message_json.h"
#include "delivery/event_recorder.h"
#include "store/async.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

// What one ingest write produced, filled on the writer thread, read after the commit.
struct IngestResult {
  std::vector<InboundOutcome> messages;
  int statuses_applied = 0;
};

class WebhookApi {
 public:
  explicit WebhookApi(App& app) : app_(app) {
    messages_in_ = &app.metrics->AddCounter(
        "parley_messages_in_total", "Inbound customer messages stored, by channel.", {"channel"});
    rejected_ = &app.metrics->AddCounter("parley_webhooks_rejected_total",
                                         "Channel webhook calls refused, by channel and reason.",
                                         {"channel", "reason"});
  }

  void Register(http::Router& r) {
    r.Add("POST", "/v1/webhooks/{connection}", [this](Request q) { return Receive(std::move(q)); });
  }

 private:
  awaitable<Response> Receive(Request q) {
    auto id = ConnectionId::Parse(q.path_params.at("connection"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("connection not found"));
    auto connection = co_await app_.connections->Get(*id);
    if (!connection.ok()) {
      if (connection.status().code() == StatusCode::kNotFound) {
        co_return http::ErrorResponse(NotFound("connection not found"));
      }
      co_return http::ErrorResponse(connection.status());
    }
    const channels::ConnectionContext& ctx = (*connection)->context;
    channels::ChannelAdapter* adapter = app_.registry->Find(ctx.kind);
    if (!adapter) co_return http::ErrorResponse(NotFound("connection not found"));
    Status verified = adapter->VerifyWebhook(q, ctx, app_.clock->Now());
    if (!verified.ok()) {
      rejected_->Inc({ctx.kind, "signature"});
      log::Warn(
          "webhook.rejected",
          {{"connection", ctx.id.str()}, {"reason", "signature"}, {"request_id", q.request_id}});
      co_return http::ErrorResponse(verified);
    }
    auto batch = adapter->ParseWebhook(q);
    if (!batch.ok()) {
      rejected_->Inc({ctx.kind, "malformed"});
      log::Warn(
          "webhook.rejected",
          {{"connection", ctx.id.str()}, {"reason", "malformed"}, {"request_id", q.request_id}});
      co_return http::ErrorResponse(batch.status());
    }
    auto result = co_await Ingest(*connection, std::move(*batch));
    if (!result.ok()) co_return http::ErrorResponse(result.status());
    int stored = 0;
    json::array messages;
    for (const auto& m : result->messages) {
      if (!m.duplicate) ++stored;
      messages.push_back(json::object{{"message", m.message.str()},
                                      {"conversation", m.conversation.str()},
                                      {"duplicate", m.duplicate}});
    }
    if (stored) messages_in_->Inc({ctx.kind}, stored);
    if (messages.size() == 1) co_return Json(200, messages.front());
    co_return Json(200, json::object{{"messages", std::move(messages)},
                                     {"statuses", result->statuses_applied}});
  }

  awaitable<Result<IngestResult>> Ingest(std::shared_ptr<const OpenConnection> connection,
                                         channels::InboundBatch batch) {
    const Clock& clock = *app_.clock;
    auto recorder = std::make_shared<delivery::EventRecorder>(connection->key, clock);
    auto result = std::make_shared<IngestResult>();
    auto work = std::make_shared<channels::InboundBatch>(std::move(batch));
    // Blind indexes, and for a known conversation the sealed message and event, are made
    // here on the I/O thread, so the single writer does less per message.
    auto prepared = std::make_shared<std::vector<PreparedInbound>>();
    for (const channels::InboundMessage& m : work->messages) {
      prepared->push_back(PrepareInbound(*connection, m, clock));
    }
    store::Store::WriteFn ingest = [connection, recorder, result, work, prepared,
                                    &clock](store::Writer& w) -> Status {
      recorder->Clear();
      result->messages.clear();
      result->statuses_applied = 0;
      for (size_t i = 0; i < work->messages.size(); ++i) {
        PARLEY_ASSIGN_OR_RETURN(InboundOutcome outcome,
                                StoreInbound(w, *connection, *recorder, work->messages[i], clock,
                                             nullptr, &(*prepared)[i]));
        result->messages.push_back(outcome);
      }
      for (const channels::InboundStatus& st : work->statuses) {
        PARLEY_ASSIGN_OR_RETURN(bool applied, ApplyStatus(w, *connection, *recorder, st, clock));
        if (applied) ++result->statuses_applied;
      }
      return OkStatus();
    };
    Status s = co_await store::Write(*app_.store, std::move(ingest));
    if (!s.ok()) {
      // A bad attachment reference is the sender's mistake, not the service's.
      auto level =
          s.code() == StatusCode::kInvalidArgument ? log::Level::kWarn : log::Level::kError;
      log::Log(level, "ingest.failed",
               {{"connection", connection->context.id.str()}, {"code", StatusCodeName(s.code())}});
      co_return s;
    }
    recorder->Publish(*app_.bus);
    for (size_t i = 0; i < result->messages.size(); ++i) {
      RememberConversation(*connection, (*prepared)[i], result->messages[i]);
    }
    co_return std::move(*result);
  }

  App& app_;
  http::Counter* messages_in_ = nullptr;
  http::Counter* rejected_ = nullptr;
};

}  // namespace

void RegisterWebhookApi(http::Router& router, App& app) {
  static WebhookApi* api = nullptr;  // lives as long as the process, like the route table
  api = new WebhookApi(app);
  api->Register(router);
}

}  // namespace parley::api

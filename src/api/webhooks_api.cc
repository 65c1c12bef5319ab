// Channel webhooks: authenticate the provider's call, normalize it through the channel's
// adapter, store it durably and encrypted with its events and outbox rows in one
// group-committed write, and only then answer 2xx (DESIGN.md §5).
#include <fmt/format.h>

#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>

#include "api/connection_cache.h"
#include "api/handlers.h"
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

int StatusRank(std::string_view status) {
  if (status == "sent") return 1;
  if (status == "delivered") return 2;
  if (status == "read") return 3;
  return 0;  // received, queued, failed
}

struct MessageOutcome {
  MessageId message;
  ConversationId conversation;
  bool duplicate = false;
};

// What one ingest write produced, filled on the writer thread, read after the commit.
struct IngestResult {
  std::vector<MessageOutcome> messages;
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
    store::Store::WriteFn ingest = [connection, recorder, result, work,
                                    &clock](store::Writer& w) -> Status {
      recorder->Clear();
      result->messages.clear();
      result->statuses_applied = 0;
      for (const channels::InboundMessage& m : work->messages) {
        PARLEY_ASSIGN_OR_RETURN(MessageOutcome outcome,
                                StoreInbound(w, *connection, *recorder, m, clock));
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
    co_return std::move(*result);
  }

  // Runs on the writer: dedupe, resolve the customer and conversation, store the message
  // and its events.
  static Result<MessageOutcome> StoreInbound(store::Writer& w, const OpenConnection& c,
                                             delivery::EventRecorder& recorder,
                                             const channels::InboundMessage& in,
                                             const Clock& clock) {
    const TenantId& tenant = c.context.tenant;
    const crypto::DataKey& key = *c.key;
    TimePoint now = clock.Now();
    MessageOutcome out;
    out.message = MessageId::New(now);
    std::string dedupe_index =
        key.BlindIndex("inbound.provider_message_id:" + c.context.id.str(), in.provider_message_id);
    PARLEY_ASSIGN_OR_RETURN(
        auto existing, w.RecordInboundOnce(tenant, c.context.id, dedupe_index, out.message, now));
    if (existing) {
      out.duplicate = true;
      out.message = *existing;
      auto prior = w.GetMessage(tenant, *existing);
      if (prior.ok()) out.conversation = prior->conversation;
      return out;
    }

    std::string contact_index =
        key.BlindIndex(delivery::ContactIndexDomain(c.context.kind), in.contact_id);
    store::CustomerRecord customer;
    auto found = w.FindCustomerByContact(tenant, c.context.kind, contact_index);
    if (found.ok()) {
      customer = std::move(*found);
      if (now - customer.last_seen >= store::kActivityResolution) {
        PARLEY_RETURN_IF_ERROR(w.TouchCustomer(tenant, customer.id, now));
      }
    } else if (found.status().code() == StatusCode::kNotFound) {
      customer.id = CustomerId::New(now);
      customer.tenant = tenant;
      customer.channel_kind = c.context.kind;
      customer.contact_index = contact_index;
      customer.contact_sealed =
          key.Seal(in.contact_id, delivery::place::CustomerContact(tenant, customer.id.str()));
      if (!in.contact_name.empty()) {
        customer.profile_sealed =
            key.Seal(json::serialize(json::object{{"name", in.contact_name}}),
                     delivery::place::CustomerProfile(tenant, customer.id.str()));
      }
      customer.first_seen = customer.last_seen = now;
      PARLEY_RETURN_IF_ERROR(w.InsertCustomer(customer));
    } else {
      return found.status();
    }

    store::ConversationRecord conversation;
    auto open = w.FindOpenConversation(tenant, c.context.id, customer.id);
    if (open.ok()) {
      conversation = std::move(*open);
      if (now - conversation.last_activity_at >= store::kActivityResolution) {
        PARLEY_RETURN_IF_ERROR(w.TouchConversation(tenant, conversation.id, now));
      }
    } else if (open.status().code() == StatusCode::kNotFound) {
      conversation.id = ConversationId::New(now);
      conversation.tenant = tenant;
      conversation.connection = c.context.id;
      conversation.customer = customer.id;
      conversation.started_at = conversation.last_activity_at = now;
      PARLEY_RETURN_IF_ERROR(w.InsertConversation(conversation));
      PARLEY_RETURN_IF_ERROR(
          recorder
              .Record(w, tenant,
                      ConversationStartedData{conversation.id, c.context.id, customer.id},
                      conversation.id)
              .status());
    } else {
      return open.status();
    }
    out.conversation = conversation.id;

    Message m =
        channels::ToCommonFormat(in, {out.message, tenant, conversation.id,
                                      ChannelRef{c.context.kind, c.context.id}, customer.id, now});
    PARLEY_RETURN_IF_ERROR(delivery::ResolveAttachments(w, key, conversation, m.content, now));

    store::MessageRecord record;
    record.id = m.id;
    record.tenant = tenant;
    record.conversation = conversation.id;
    record.connection = c.context.id;
    record.direction = store::Direction::kInbound;
    std::string body = Serialize(m);
    record.body_sealed = key.Seal(body, delivery::place::MessageBody(tenant, m.id.str()));
    record.status = "received";
    record.created_at = record.updated_at = now;
    PARLEY_RETURN_IF_ERROR(w.InsertMessage(record));
    PARLEY_RETURN_IF_ERROR(recorder.RecordMessage(w, m, body).status());
    return out;
  }

  // Keeps the highest state reached: statuses arrive out of order.
  static Result<bool> ApplyStatus(store::Writer& w, const OpenConnection& c,
                                  delivery::EventRecorder& recorder,
                                  const channels::InboundStatus& st, const Clock& clock) {
    if (!st.message) return false;
    const TenantId& tenant = c.context.tenant;
    auto message = w.GetMessage(tenant, *st.message);
    if (!message.ok()) {
      if (message.status().code() == StatusCode::kNotFound) return false;
      return message.status();
    }
    if (message->connection != c.context.id || message->direction != store::Direction::kOutbound) {
      return false;  // not a message this connection carried
    }
    std::string_view next = WireName(st.status);
    bool apply = st.status == DeliveryStatus::kFailed
                     ? StatusRank(message->status) < 2
                     : StatusRank(next) > StatusRank(message->status);
    if (!apply) return false;
    TimePoint now = clock.Now();
    PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant, message->id, next, now));
    MessageStatusData data;
    data.message = message->id;
    data.conversation = message->conversation;
    data.status = st.status;
    data.error = st.error;
    data.provider_message_id = st.provider_message_id;
    data.at = st.at.value_or(now);
    PARLEY_RETURN_IF_ERROR(recorder.Record(w, tenant, data, message->conversation).status());
    return true;
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

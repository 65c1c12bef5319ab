// Channel webhooks: authenticate the provider's call, normalize it through the channel's
// adapter, fetch the media it refers to into the tenant's attachment storage, store it
// durably and encrypted with its events in one group-committed write, and only then answer
// 2xx (DESIGN.md §5) — in the form the provider expects. A GET is the provider's
// subscription handshake (Meta's hub.challenge).
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/inbound.h"
#include "api/json_util.h"
#include "api/webhook_media.h"
#include "api/webhook_retries.h"
#include "core/log.h"
#include "core/message_json.h"
#include "delivery/attachments.h"
#include "delivery/event_recorder.h"
#include "delivery/tenant_keys.h"
#include "http/io_runtime.h"
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
    dropped_ = &app.metrics->AddCounter(
        "parley_webhook_items_dropped_total",
        "Webhook items not stored, by channel and reason (another identity, ignored events).",
        {"channel", "reason"});
    media_ = &app.metrics->AddCounter("parley_media_fetches_total",
                                      "Provider media downloads, by channel and result.",
                                      {"channel", "result"});
    media_fetcher_ = std::make_unique<WebhookMedia>(app, *media_);
  }

  // Tries the calls kept for another try (Keep) when due, until the executor stops.
  awaitable<void> RunRetries() { return RetryKept(); }

  void Register(http::Router& r) {
    r.Add("POST", "/v1/webhooks/{connection}", [this](Request q) { return Receive(std::move(q)); });
    r.Add("GET", "/v1/webhooks/{connection}",
          [this](Request q) { return Handshake(std::move(q)); });
  }

 private:
  // The connection and its adapter, or the error response to give.
  struct Target {
    std::shared_ptr<const OpenConnection> connection;
    channels::ChannelAdapter* adapter = nullptr;
    std::optional<Response> error;
  };

  awaitable<Target> Find(const Request& q) {
    Target t;
    auto id = ConnectionId::Parse(q.path_params.at("connection"));
    if (!id.ok()) {
      t.error = http::ErrorResponse(NotFound("connection not found"));
      co_return t;
    }
    auto connection = co_await app_.connections->Get(*id);
    if (!connection.ok()) {
      t.error = http::ErrorResponse(connection.status().code() == StatusCode::kNotFound
                                        ? NotFound("connection not found")
                                        : connection.status());
      co_return t;
    }
    t.connection = *connection;
    t.adapter = app_.registry->Find(t.connection->context.kind);
    if (!t.adapter) t.error = http::ErrorResponse(NotFound("connection not found"));
    co_return t;
  }

  awaitable<Response> Handshake(Request q) {
    Target t = co_await Find(q);
    if (t.error) co_return std::move(*t.error);
    Response answer = t.adapter->AnswerHandshake(q, t.connection->context);
    if (answer.status == 405) {
      // A channel without a handshake: a browser or a probe, not a provider; not counted.
    } else if (answer.status != 200) {
      rejected_->Inc({t.connection->context.kind, "handshake"});
      log::Warn("webhook.handshake_refused",
                {{"connection", t.connection->context.id.str()}, {"request_id", q.request_id}});
    } else {
      log::Info("webhook.handshake", {{"connection", t.connection->context.id.str()}});
    }
    co_return answer;
  }

  awaitable<Response> Receive(Request q) {
    Target t = co_await Find(q);
    if (t.error) co_return std::move(*t.error);
    const channels::ConnectionContext& ctx = t.connection->context;
    Status verified = t.adapter->VerifyWebhook(q, ctx, app_.clock->Now());
    if (!verified.ok()) {
      rejected_->Inc({ctx.kind, "signature"});
      log::Warn(
          "webhook.rejected",
          {{"connection", ctx.id.str()}, {"reason", "signature"}, {"request_id", q.request_id}});
      co_return http::ErrorResponse(verified);
    }
    Accepted accepted = co_await Accept(q, t.connection, t.adapter, Try::kFirst);
    if (!accepted.again) co_return std::move(accepted.answer);
    // A media file could not be fetched for now, and nothing was stored: the call is kept
    // and tried again later (RetryKept), so a provider that never repeats a call loses
    // nothing. Only when it cannot be kept is the provider asked to repeat it.
    Status kept = co_await Keep(q, t.connection);
    if (!kept.ok()) {
      Status busy = Unavailable("could not fetch the message's media; retry later");
      busy.set_retry_after(std::chrono::seconds(30));
      co_return http::ErrorResponse(busy);
    }
    co_return std::move(accepted.answer);
  }

  using Try = WebhookTry;

  struct Accepted {
    Response answer;
    bool again = false;  // a media file could not be fetched for now; nothing was stored
    bool busy = false;   // … because every media download slot was taken: not a real try
  };

  // Normalizes a verified call, routes its items, fetches their media, stores them and
  // builds the provider's answer. On the last try, media still unavailable is given up.
  awaitable<Accepted> Accept(const Request& q, std::shared_ptr<const OpenConnection> connection,
                             channels::ChannelAdapter* adapter, Try attempt) {
    const channels::ConnectionContext& ctx = connection->context;
    Accepted out;
    auto batch = adapter->ParseWebhook(q);
    if (!batch.ok()) {
      rejected_->Inc({ctx.kind, "malformed"});
      log::Warn(
          "webhook.rejected",
          {{"connection", ctx.id.str()}, {"reason", "malformed"}, {"request_id", q.request_id}});
      out.answer = http::ErrorResponse(batch.status());
      co_return out;
    }
    if (batch->ignored > 0 && attempt == Try::kFirst)
      dropped_->Inc({ctx.kind, "ignored"}, static_cast<uint64_t>(batch->ignored));
    channels::InboundBatch ack;  // what Acknowledgement reads: the call as a whole
    ack.ignored = batch->ignored;
    ack.ack_data = std::move(batch->ack_data);
    std::vector<Share> shares = co_await Route(q, connection, adapter, std::move(*batch));
    // Every share's media first, then the writes: a transient failure stores nothing, so the
    // next try brings the whole call again.
    for (Share& share : shares) {
      bool busy = false;
      Status media =
          co_await media_fetcher_->Fetch(share.connection, adapter, share.batch, attempt, &busy);
      if (media.code() == StatusCode::kUnavailable) {
        out.again = true;
        out.busy = busy;
        auto answer = adapter->Acknowledgement(ack);
        out.answer = answer ? std::move(*answer) : Json(202, json::object{{"status", "deferred"}});
        co_return out;
      }
      if (!media.ok()) {
        out.answer = http::ErrorResponse(media);
        co_return out;
      }
    }
    json::array messages;
    int statuses = 0;
    for (Share& share : shares) {
      const channels::ConnectionContext& own = share.connection->context;
      // A share with only signals (or nothing left) has nothing to store.
      if (!share.batch.messages.empty() || !share.batch.statuses.empty()) {
        // The messages and statuses go to the write; the signals stay for PublishSignals.
        channels::InboundBatch items;
        items.messages = std::move(share.batch.messages);
        items.statuses = std::move(share.batch.statuses);
        auto result = co_await Ingest(share.connection, std::move(items));
        if (!result.ok()) {
          out.answer = http::ErrorResponse(result.status());
          co_return out;
        }
        int stored = 0;
        for (const auto& m : result->messages) {
          if (!m.duplicate) ++stored;
          json::object item{{"message", m.message.str()},
                            {"conversation", m.conversation.str()},
                            {"duplicate", m.duplicate}};
          if (own.id != ctx.id) item["connection"] = own.id.str();
          messages.push_back(std::move(item));
        }
        if (stored) messages_in_->Inc({own.kind}, stored);
        statuses += result->statuses_applied;
      }
      if (!share.batch.signals.empty() && attempt == Try::kFirst)
        co_await PublishSignals(share.connection, share.batch.signals);
    }
    if (auto answer = adapter->Acknowledgement(ack)) {
      out.answer = std::move(*answer);
    } else if (messages.size() == 1) {
      out.answer = Json(200, messages.front());
    } else {
      out.answer =
          Json(200, json::object{{"messages", std::move(messages)}, {"statuses", statuses}});
    }
    co_return out;
  }

  // Keeps a verified call whose media could not be fetched, for RetryKept.
  awaitable<Status> Keep(const Request& q, std::shared_ptr<const OpenConnection> connection) {
    const channels::ConnectionContext& ctx = connection->context;
    TimePoint now = app_.clock->Now();
    store::InboundRetryRecord row;
    row.tenant = ctx.tenant;
    row.connection = ctx.id;
    row.request_sealed = SealWebhookCall(*connection->key, ctx.tenant, ctx.id, q);
    row.attempts = 1;
    row.created_at = now;
    row.next_attempt_at =
        now + WebhookRetryDelay(1, app_.retry_initial_backoff, app_.retry_max_backoff);
    store::Store::WriteFn keep = [row](store::Writer& w) {
      return w.InsertInboundRetry(row).status();
    };
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(keep));
    media_->Inc({ctx.kind, s.ok() ? "deferred" : "retry"});
    log::Log(s.ok() ? log::Level::kInfo : log::Level::kError, "webhook.deferred",
             {{"connection", ctx.id.str()},
              {"request_id", q.request_id},
              {"code", StatusCodeName(s.code())}});
    co_return s;
  }

  // Tries the kept calls again when due: one at a time, forever (until the server stops).
  awaitable<void> RetryKept() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (;;) {
      timer.expires_after(kRetryPoll);
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      TimePoint now = app_.clock->Now();
      std::function<Result<std::vector<store::InboundRetryRecord>>(store::Reader&)> due =
          [now](store::Reader& r) { return r.ListDueInboundRetries(now, kRetryBatch); };
      auto rows =
          co_await store::Read<std::vector<store::InboundRetryRecord>>(*app_.store, std::move(due));
      if (!rows.ok()) continue;
      for (store::InboundRetryRecord& row : *rows) co_await RetryOne(std::move(row));
    }
  }
  static constexpr std::chrono::milliseconds kRetryPoll{250};
  static constexpr int kRetryBatch = 16;

  awaitable<void> RetryOne(store::InboundRetryRecord row) {
    bool done = true;
    bool counted = true;
    auto connection = co_await app_.connections->Get(row.connection);
    channels::ChannelAdapter* adapter =
        connection.ok() ? app_.registry->Find((*connection)->context.kind) : nullptr;
    if (adapter) {
      auto q = OpenWebhookCall(*(*connection)->key, row.tenant, row.connection, row.request_sealed);
      if (q.ok()) {
        Try attempt = row.attempts + 1 >= kMaxWebhookTries ? Try::kLast : Try::kAgain;
        Accepted accepted = co_await Accept(*q, *connection, adapter, attempt);
        // A server-side failure (the store) is tried again too; a refusal (4xx) never heals.
        // Busy download slots are Parley's own state, not the provider's: never a last try.
        done = !accepted.busy &&
               (attempt == Try::kLast || (!accepted.again && accepted.answer.status < 500));
        counted = !accepted.busy;
        log::Info("webhook.retried", {{"connection", row.connection.str()},
                                      {"request_id", q->request_id},
                                      {"try", static_cast<int64_t>(row.attempts + 1)},
                                      {"status", static_cast<int64_t>(accepted.answer.status)},
                                      {"again", accepted.again}});
      } else {
        log::Error("webhook.retry_unreadable", {{"connection", row.connection.str()}});
      }
    }  // else the connection (or its tenant) is gone: nothing to store it in
    TimePoint next =
        app_.clock->Now() +
        WebhookRetryDelay(row.attempts + 1, app_.retry_initial_backoff, app_.retry_max_backoff);
    store::Store::WriteFn update = [seq = row.seq, attempts = row.attempts + (counted ? 1 : 0),
                                    next, done](store::Writer& w) {
      return done ? w.DeleteInboundRetry(seq) : w.RescheduleInboundRetry(seq, attempts, next);
    };
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(update));
    if (!s.ok()) log::Error("webhook.retry_update_failed", {{"code", StatusCodeName(s.code())}});
  }

  // The part of a webhook call that belongs to one connection.
  struct Share {
    std::shared_ptr<const OpenConnection> connection;
    channels::InboundBatch batch;
  };

  // At most this many other identities are routed from one call; items for more are dropped.
  static constexpr size_t kMaxRoutedIdentities = 16;

  // Splits a verified batch by the provider identity each item is addressed to. A provider
  // app that serves several numbers or pages posts all of them to the one URL it has: items
  // for this connection's identity (or none) stay here; items for another identity go to the
  // connection serving it — found by its routing index, of the same kind, and only when this
  // very call also verifies under that connection's own credentials (the same app secret), so
  // one tenant's secret can never write into another's connection. Anything else is dropped
  // and counted.
  awaitable<std::vector<Share>> Route(const Request& q,
                                      std::shared_ptr<const OpenConnection> connection,
                                      channels::ChannelAdapter* adapter,
                                      channels::InboundBatch batch) {
    const channels::ConnectionContext& ctx = connection->context;
    std::vector<Share> shares;
    shares.push_back({connection, {}});
    std::string own = adapter->ClientIdentity(ctx);
    auto foreign = [&own](const std::string& identity) {
      return !own.empty() && !identity.empty() && identity != own;
    };
    // identity -> index in shares; SIZE_MAX: no connection this call may write to
    std::map<std::string, size_t, std::less<>> share_of;
    auto note = [&](const auto& items) {
      for (const auto& item : items) {
        if (foreign(item.client_identity)) share_of.emplace(item.client_identity, SIZE_MAX);
      }
    };
    note(batch.messages);
    note(batch.statuses);
    note(batch.signals);
    size_t looked_up = 0;
    for (auto& [identity, index] : share_of) {
      if (++looked_up > kMaxRoutedIdentities) break;
      std::shared_ptr<const OpenConnection> other = co_await RouteTo(q, ctx, adapter, identity);
      if (!other) continue;
      index = shares.size();
      shares.push_back({std::move(other), {}});
    }
    size_t dropped = 0;
    auto deal = [&](auto& items, auto member) {
      for (auto& item : items) {
        size_t index = 0;
        if (foreign(item.client_identity)) index = share_of.find(item.client_identity)->second;
        if (index == SIZE_MAX) {
          ++dropped;
          continue;
        }
        (shares[index].batch.*member).push_back(std::move(item));
      }
    };
    deal(batch.messages, &channels::InboundBatch::messages);
    deal(batch.statuses, &channels::InboundBatch::statuses);
    deal(batch.signals, &channels::InboundBatch::signals);
    if (dropped > 0) {
      dropped_->Inc({ctx.kind, "other_identity"}, dropped);
      log::Warn("webhook.other_identity",
                {{"connection", ctx.id.str()}, {"items", static_cast<int64_t>(dropped)}});
    }
    if (shares.size() > 1) {
      log::Info("webhook.routed", {{"connection", ctx.id.str()},
                                   {"connections", static_cast<int64_t>(shares.size())}});
    }
    co_return shares;
  }

  // The connection serving `identity` when this call may write to it (see Route), or null.
  awaitable<std::shared_ptr<const OpenConnection>> RouteTo(const Request& q,
                                                           channels::ConnectionContext from,
                                                           channels::ChannelAdapter* adapter,
                                                           std::string identity) {
    std::string index = app_.keys->ring().master_key().RoutingIndex(
        delivery::IdentityRoutingDomain(from.kind), identity);
    std::function<Result<store::ConnectionRecord>(store::Reader&)> find =
        [kind = from.kind, index](store::Reader& r) {
          return r.FindConnectionByIdentity(kind, index);
        };
    auto record = co_await store::Read<store::ConnectionRecord>(*app_.store, std::move(find));
    if (!record.ok()) co_return nullptr;
    auto other = co_await app_.connections->Get(record->id);
    if (!other.ok()) co_return nullptr;
    const channels::ConnectionContext& to = (*other)->context;
    if (to.kind != from.kind || adapter->ClientIdentity(to) != identity ||
        !adapter->VerifyWebhook(q, to, app_.clock->Now()).ok()) {
      co_return nullptr;
    }
    co_return *other;
  }

  // Typing signals from the customer's app: live only, like the widget's.
  awaitable<void> PublishSignals(std::shared_ptr<const OpenConnection> connection,
                                 std::vector<channels::InboundSignal> signals) {
    const channels::ConnectionContext& ctx = connection->context;
    for (const channels::InboundSignal& s : signals) {
      std::string index =
          connection->key->BlindIndex(delivery::ContactIndexDomain(ctx.kind), s.contact_id);
      std::function<Result<store::ConversationRecord>(store::Reader&)> find =
          [tenant = ctx.tenant, id = ctx.id, kind = ctx.kind,
           index](store::Reader& r) -> Result<store::ConversationRecord> {
        PARLEY_ASSIGN_OR_RETURN(store::CustomerRecord customer,
                                r.FindCustomerByContact(tenant, kind, index));
        return r.FindOpenConversation(tenant, id, customer.id);
      };
      auto conversation =
          co_await store::Read<store::ConversationRecord>(*app_.store, std::move(find));
      if (!conversation.ok()) continue;  // no open conversation: nobody to tell
      bool on = s.kind == channels::InboundSignal::Kind::kTypingOn;
      delivery::PublishLive(*app_.bus, *app_.clock, ctx.tenant,
                            TypingData{conversation->id, AuthorRole::kCustomer, on},
                            conversation->id);
    }
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
    // Rerunnable (Store::SubmitRerunnableWrite): it resets what it reports before it writes,
    // and nothing else outside the store changes until the commit (RememberConversation and
    // Publish come after). A second run makes fresh ids and nonces for what the rolled-back
    // first run wrote.
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
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(ingest));
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
  http::Counter* dropped_ = nullptr;
  http::Counter* media_ = nullptr;
  std::unique_ptr<WebhookMedia> media_fetcher_;  // after media_, which it counts with
};

}  // namespace

void RegisterWebhookApi(http::Router& router, App& app, boost::asio::any_io_executor executor) {
  static WebhookApi* api = nullptr;  // lives as long as the process, like the route table
  api = new WebhookApi(app);
  api->Register(router);
  http::Spawn(executor, api->RunRetries(), "webhook retries");
}

}  // namespace parley::api

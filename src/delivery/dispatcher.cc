#include "delivery/dispatcher.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <map>
#include <random>

#include "core/log.h"
#include "core/message_json.h"
#include "crypto/random.h"
#include "crypto/signing.h"
#include "delivery/dispatcher_internal.h"
#include "delivery/event_recorder.h"
#include "http/io_runtime.h"
#include "store/async.h"

namespace parley::delivery {

namespace asio = boost::asio;
using internal::LaneKey;
using internal::RetryOrBury;
using internal::SendToChannel;

namespace {

constexpr Millis kIdleScan{1000};
constexpr Millis kMinScanGap{2};

std::vector<int64_t> Seqs(const std::vector<store::OutboxRecord>& rows) {
  std::vector<int64_t> seqs;
  seqs.reserve(rows.size());
  for (const auto& r : rows) seqs.push_back(r.seq);
  return seqs;
}

struct WebhookLoad {
  store::EndpointRecord endpoint;
  std::vector<store::OutboxRecord> present;  // rows whose event still exists
  std::vector<std::string> sealed_payloads;
  std::vector<int64_t> orphaned;  // rows whose event is gone
  bool endpoint_gone = false;
};

}  // namespace

Millis Dispatcher::Backoff(int attempt, Millis initial, Millis max, uint64_t random) {
  int64_t d = initial.count();
  for (int i = 1; i < attempt && d < max.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, max.count());
  int64_t half = d / 2;
  return Millis(half + static_cast<int64_t>(random % static_cast<uint64_t>(d - half + 1)));
}

namespace {

// One event to post: its id (the sealed payload's place) and its payload, in the clear when
// the store kept it so (Store::RecentEventsAfter), else sealed.
struct SealedEvent {
  std::string id;
  std::string sealed;
  std::string plain;
};

// Opens the payloads and posts them to the endpoint as one signed batch. kInternal when a
// payload or the endpoint's secret does not open (logged here); otherwise the endpoint's
// answer, or the transport's error. Callers treat every error as a failed attempt.
asio::awaitable<Result<http::ClientResponse>> PostEvents(std::shared_ptr<Dispatcher::Shared> sh,
                                                         std::shared_ptr<const crypto::DataKey> key,
                                                         store::EndpointRecord endpoint,
                                                         std::vector<SealedEvent> events,
                                                         int attempt) {
  const DispatcherDeps& deps = sh->deps;
  const TenantId& tenant = endpoint.tenant;
  const std::string target = endpoint.id.str();
  TimePoint now = deps.clock->Now();
  std::vector<std::string> secrets;
  auto secret = key->Open(endpoint.secret_sealed, place::EndpointSecret(tenant, target));
  bool ok = secret.ok();
  if (ok) secrets.push_back(std::move(*secret));
  if (!endpoint.previous_secret_sealed.empty() && endpoint.previous_secret_expires_at &&
      *endpoint.previous_secret_expires_at > now) {
    auto previous =
        key->Open(endpoint.previous_secret_sealed, place::EndpointPreviousSecret(tenant, target));
    if (previous.ok()) secrets.push_back(std::move(*previous));
  }
  std::string body = "{\"events\":[";
  for (size_t i = 0; ok && i < events.size(); ++i) {
    auto payload = events[i].plain.empty()
                       ? key->Open(events[i].sealed, place::EventPayload(tenant, events[i].id))
                       : Result<std::string>(std::move(events[i].plain));
    if (!payload.ok()) {
      ok = false;
      break;
    }
    if (i) body += ',';
    body += deps.attachments ? deps.attachments->AddLinks(*key, std::move(*payload), now)
                             : std::move(*payload);
  }
  body += "]}";
  if (!ok) {
    log::Error("delivery.unseal_failed", {{"endpoint", target}});
    co_return Internal("a webhook payload or secret does not open");
  }
  http::ClientRequest request;
  request.method = "POST";
  request.url = endpoint.url;
  request.headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", "Parley/0.1"},
      {"Parley-Signature", crypto::SignatureHeader(secrets, ToUnixSeconds(now), body)},
      {"Parley-Delivery-Attempt", std::to_string(attempt)},
  };
  request.body = std::move(body);
  request.timeout = sh->options.request_timeout;
  Result<http::ClientResponse> response = co_await deps.client->Send(std::move(request));
  co_return response;
}

std::string FailureOf(const Result<http::ClientResponse>& response) {
  return response.ok() ? fmt::format("http_{}", response->status)
                       : std::string(StatusCodeName(response.status().code()));
}

bool Delivered(const Result<http::ClientResponse>& response) {
  return response.ok() && response->status >= 200 && response->status < 300;
}

struct CursorLoad {
  store::EndpointRecord endpoint;
  std::vector<store::EventRecord> events;
};

// What one scan of the dispatcher reads: the outbox's webhook rows and channel sends, and
// the webhook cursors behind the event log, each due one with its endpoint (none when the
// endpoint's read failed: its delivery reads it again).
struct Scan {
  using Cursors =
      std::vector<std::pair<store::WebhookCursorRecord, std::optional<store::EndpointRecord>>>;
  Result<std::vector<store::OutboxRecord>> webhooks;
  Result<std::vector<store::OutboxRecord>> sends;
  Result<Cursors> cursors;

  static Scan Failed(const Status& s) { return Scan{s, s, s}; }
};

// `busy`: lanes with a delivery in flight when the scan began; their endpoints are not read.
// Without `read_outbox` the outbox is taken to be empty (Loop knows it is).
Result<Scan> ReadScan(store::Reader& r, int scan_limit, TimePoint now,
                      const std::set<std::string>& busy, bool read_outbox) {
  Scan out{std::vector<store::OutboxRecord>{}, std::vector<store::OutboxRecord>{}, Scan::Cursors{}};
  if (read_outbox) {
    out.webhooks = r.ListOutbox(store::OutboxKind::kWebhook, scan_limit);
    out.sends = r.ListOutbox(store::OutboxKind::kChannelSend, scan_limit);
  }
  auto behind = r.ListWebhookCursorsBehind(scan_limit);
  if (!behind.ok()) {
    out.cursors = behind.status();
    return out;
  }
  for (store::WebhookCursorRecord& cursor : *behind) {
    std::optional<store::EndpointRecord> endpoint;
    if (cursor.next_attempt_at <= now && !busy.contains("wh:" + cursor.endpoint.str())) {
      auto got = r.GetEndpoint(cursor.tenant, cursor.endpoint);
      if (!got.ok() && got.status().code() == StatusCode::kNotFound) continue;  // deleted
      if (got.ok()) endpoint = std::move(*got);
    }
    out.cursors->emplace_back(std::move(cursor), std::move(endpoint));
  }
  return out;
}

// Delivers the next batch of events after the endpoint's cursor. On success the cursor moves
// past them; on failure it stays and the batch is tried again after a backoff, until its
// oldest event is older than max_retry_age: then every event of the batch becomes a dead
// letter and the cursor moves on. One batch per endpoint at a time keeps the tenant's events
// in seq order, so every conversation's are in order too.
asio::awaitable<void> DeliverFromCursor(std::shared_ptr<Dispatcher::Shared> sh,
                                        store::WebhookCursorRecord cursor,
                                        std::optional<store::EndpointRecord> endpoint) {
  const DispatcherDeps& deps = sh->deps;
  const std::string lane = "wh:" + cursor.endpoint.str();
  auto finish = [&] { sh->Settle(lane); };
  auto key = co_await deps.keys->Get(cursor.tenant);
  if (!key.ok()) {  // the tenant is being deleted; its cursors go with it
    finish();
    co_return;
  }
  const int batch_size = sh->options.batch_size;
  // The scan read the endpoint; the events just committed are usually still in the store's
  // memory, in the clear. Otherwise both are read. (An endpoint changed or deleted after the
  // scan may get this one batch as it was, as one changed during a post always could.)
  std::optional<std::vector<store::EventRecord>> recent;
  if (endpoint) recent = deps.store->RecentEventsAfter(cursor.tenant, cursor.after_seq, batch_size);
  Result<CursorLoad> loaded = Internal("not loaded");
  if (recent) {
    loaded = CursorLoad{std::move(*endpoint), std::move(*recent)};
  } else {
    std::function<Result<CursorLoad>(store::Reader&)> load =
        [cursor, batch_size](store::Reader& r) -> Result<CursorLoad> {
      CursorLoad out;
      PARLEY_ASSIGN_OR_RETURN(out.endpoint, r.GetEndpoint(cursor.tenant, cursor.endpoint));
      PARLEY_ASSIGN_OR_RETURN(out.events,
                              r.ListEventsAfter(cursor.tenant, cursor.after_seq, batch_size));
      return out;
    };
    loaded = co_await store::Read<CursorLoad>(*deps.store, std::move(load));
  }
  if (!loaded.ok() || loaded->events.empty()) {
    if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) {
      log::Warn("delivery.load_failed", {{"endpoint", cursor.endpoint.str()},
                                         {"code", StatusCodeName(loaded.status().code())}});
    }
    finish();
    co_return;
  }
  std::vector<store::EventRecord> events = std::move(loaded->events);
  std::vector<SealedEvent> sealed;
  for (auto& e : events) {
    sealed.push_back({e.id.str(), std::move(e.payload_sealed), std::move(e.payload_json)});
  }
  // A payload that does not open (kInternal, logged) fails the attempt like a refusal: the
  // batch is retried with backoff and finally becomes dead letters.
  Result<http::ClientResponse> response = co_await PostEvents(
      sh, *key, std::move(loaded->endpoint), std::move(sealed), cursor.attempts + 1);
  TimePoint now = deps.clock->Now();
  const int64_t from = cursor.after_seq;
  const int64_t to = events.back().seq;
  store::Store::WriteFn record;
  if (Delivered(response)) {
    sh->deliveries->Inc({"webhook", "ok"}, events.size());
    record = [cursor, from, to](store::Writer& w) {
      return w.AdvanceWebhookCursor(cursor.tenant, cursor.endpoint, from, to);
    };
  } else {
    std::string error = FailureOf(response);
    int attempt = cursor.attempts + 1;
    sh->failures->Inc({"webhook"});
    log::Warn("delivery.failed", {{"endpoint", cursor.endpoint.str()},
                                  {"error", error},
                                  {"events", static_cast<int64_t>(events.size())},
                                  {"attempt", static_cast<int64_t>(attempt)}});
    if (now - events.front().created_at >= sh->options.max_retry_age) {
      record = [cursor, from, to, events, error, attempt, now](store::Writer& w) -> Status {
        for (const store::EventRecord& e : events) {
          store::DeadLetterRecord dl;
          dl.id = DeadLetterId::New(now);
          dl.tenant = cursor.tenant;
          dl.kind = store::OutboxKind::kWebhook;
          dl.target_id = cursor.endpoint.str();
          dl.ref_id = e.id.str();
          dl.conversation_id = e.conversation ? e.conversation->str() : std::string();
          dl.attempts = attempt;
          dl.last_error = error;
          dl.created_at = e.created_at;
          dl.failed_at = now;
          PARLEY_RETURN_IF_ERROR(w.InsertDeadLetter(dl));
        }
        return w.AdvanceWebhookCursor(cursor.tenant, cursor.endpoint, from, to);
      };
    } else {
      TimePoint next = now + Dispatcher::Backoff(attempt, sh->options.initial_backoff,
                                                 sh->options.max_backoff, sh->rng());
      record = [cursor, from, attempt, next, error](store::Writer& w) {
        return w.DelayWebhookCursor(cursor.tenant, cursor.endpoint, from, attempt, next, error);
      };
    }
  }
  // Each `record` only writes what it captured, so it may run twice
  // (Store::SubmitRerunnableWrite): it then shares its batch's lack of savepoints with the
  // inbound writes around it.
  Status s = co_await store::WriteRerunnable(*deps.store, std::move(record));
  if (!s.ok() && s.code() != StatusCode::kNotFound) {  // kNotFound: the endpoint was deleted
    log::Error("delivery.ack_failed", {{"endpoint", cursor.endpoint.str()}});
  }
  finish();
}

asio::awaitable<void> DeliverWebhook(std::shared_ptr<Dispatcher::Shared> sh,
                                     std::vector<store::OutboxRecord> rows) {
  const DispatcherDeps& deps = sh->deps;
  const TenantId tenant = rows.front().tenant;
  const std::string target = rows.front().target_id;
  std::vector<int64_t> seqs = Seqs(rows);
  auto finish = [&] {
    for (int64_t s : seqs) sh->busy.erase(s);
    sh->Settle("wh:" + target);
  };

  auto key = co_await deps.keys->Get(tenant);
  if (!key.ok()) {
    // The tenant is gone (crypto-shredded): its deliveries can never be opened again.
    store::Store::WriteFn delete_outbox = [seqs](store::Writer& w) { return w.DeleteOutbox(seqs); };
    co_await store::WriteRerunnable(*deps.store, std::move(delete_outbox));
    finish();
    co_return;
  }
  std::function<Result<WebhookLoad>(store::Reader&)> load_batch =
      [tenant, target, rows](store::Reader& r) -> Result<WebhookLoad> {
    WebhookLoad load;
    auto endpoint = r.GetEndpoint(tenant, EndpointId::FromTrusted(target));
    if (!endpoint.ok()) {
      if (endpoint.status().code() != StatusCode::kNotFound) return endpoint.status();
      load.endpoint_gone = true;
      return load;
    }
    load.endpoint = std::move(*endpoint);
    for (const auto& row : rows) {
      auto event = r.GetEvent(tenant, EventId::FromTrusted(row.ref_id));
      if (event.ok()) {
        load.present.push_back(row);
        load.sealed_payloads.push_back(std::move(event->payload_sealed));
      } else if (event.status().code() == StatusCode::kNotFound) {
        load.orphaned.push_back(row.seq);
      } else {
        return event.status();
      }
    }
    return load;
  };
  auto loaded = co_await store::Read<WebhookLoad>(*deps.store, std::move(load_batch));
  if (!loaded.ok()) {
    log::Warn("delivery.load_failed",
              {{"endpoint", target}, {"code", StatusCodeName(loaded.status().code())}});
    finish();
    co_return;
  }
  if (loaded->endpoint_gone || !loaded->orphaned.empty()) {
    std::vector<int64_t> drop = loaded->endpoint_gone ? seqs : loaded->orphaned;
    store::Store::WriteFn delete_outbox = [drop](store::Writer& w) { return w.DeleteOutbox(drop); };
    co_await store::WriteRerunnable(*deps.store, std::move(delete_outbox));
    if (loaded->endpoint_gone || loaded->present.empty()) {
      finish();
      co_return;
    }
  }
  const std::vector<store::OutboxRecord>& present = loaded->present;
  int max_attempts = 0;
  std::vector<SealedEvent> events;
  for (size_t i = 0; i < present.size(); ++i) {
    events.push_back({present[i].ref_id, std::move(loaded->sealed_payloads[i]), {}});
    max_attempts = std::max(max_attempts, present[i].attempts);
  }
  Result<http::ClientResponse> response = co_await PostEvents(sh, *key, std::move(loaded->endpoint),
                                                              std::move(events), max_attempts + 1);
  std::vector<int64_t> present_seqs = Seqs(present);
  if (Delivered(response)) {
    sh->deliveries->Inc({"webhook", "ok"}, present.size());
    store::Store::WriteFn delete_outbox = [present_seqs](store::Writer& w) {
      return w.DeleteOutbox(present_seqs);
    };
    Status s = co_await store::WriteRerunnable(*deps.store, std::move(delete_outbox));
    if (!s.ok()) log::Error("delivery.ack_failed", {{"endpoint", target}});
    finish();
    co_return;
  }
  std::string error = FailureOf(response);
  sh->failures->Inc({"webhook"});
  log::Warn("delivery.failed", {{"endpoint", target},
                                {"error", error},
                                {"events", static_cast<int64_t>(present.size())},
                                {"attempt", static_cast<int64_t>(max_attempts + 1)}});
  std::vector<Millis> delays;
  for (const auto& r : present) {
    delays.push_back(Dispatcher::Backoff(r.attempts + 1, sh->options.initial_backoff,
                                         sh->options.max_backoff, sh->rng()));
  }
  DispatcherOptions options = sh->options;
  TimePoint now = deps.clock->Now();
  store::Store::WriteFn retry_or_bury = [present, now, options, error, delays](store::Writer& w) {
    return RetryOrBury(w, present, now, options, error, delays, nullptr);
  };
  Status s = co_await store::WriteRerunnable(*deps.store, std::move(retry_or_bury));
  if (!s.ok()) log::Error("delivery.reschedule_failed", {{"endpoint", target}});
  finish();
}

}  // namespace

Dispatcher::Dispatcher(DispatcherDeps deps, DispatcherOptions options)
    : deps_(deps), options_(options), shared_(std::make_shared<Shared>(deps, options)) {
  shared_->deliveries = &deps.metrics->AddCounter(
      "parley_deliveries_total", "Deliveries acknowledged, by kind.", {"kind", "result"});
  shared_->failures = &deps.metrics->AddCounter("parley_delivery_failures_total",
                                                "Failed delivery attempts, by kind.", {"kind"});
  shared_->messages_out = &deps.metrics->AddCounter(
      "parley_messages_out_total", "Outbound messages accepted by their channel.", {"channel"});
  shared_->depth = &depth_;
  deps.metrics->AddGauge("parley_outbox_depth", "Pending deliveries in the outbox.",
                         [this] { return static_cast<double>(depth_.load()); });
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() { http::Spawn(shared_->strand, Loop(shared_), "dispatcher"); }

void Dispatcher::Stop() {
  if (shared_->stopped.exchange(true)) return;
  auto sh = shared_;
  asio::post(sh->strand, [sh] { sh->timer.cancel(); });
}

void Dispatcher::Wake() { shared_->Wake(); }

asio::awaitable<void> Dispatcher::Loop(std::shared_ptr<Shared> sh) {
  const int scan_limit = sh->options.scan_limit;
  TimePoint last_count{};
  while (!sh->stopped) {
    sh->wake_pending = false;
    sh->settled_lanes.clear();
    // The outbox is read when it may hold something: it did at the last read, a commit has
    // added or changed rows since, or that read is half a second old (every commit wakes this
    // loop, and most write no outbox row; an idle loop, every second, always reads).
    const std::optional<uint64_t> outbox_version = sh->deps.store->OutboxVersion();
    const auto scan_start = std::chrono::steady_clock::now();
    const bool read_outbox = !outbox_version || outbox_version != sh->outbox_empty_at ||
                             scan_start - sh->outbox_read_at >= kIdleScan / 2;
    // One read for the whole scan: each read is a trip to a reader thread and back.
    std::function<Result<Scan>(store::Reader&)> scan =
        [scan_limit, clock = sh->deps.clock, busy = sh->busy_lanes, read_outbox](store::Reader& r) {
          return ReadScan(r, scan_limit, clock->Now(), busy, read_outbox);
        };
    auto scanned = co_await store::Read<Scan>(*sh->deps.store, std::move(scan));
    if (!scanned.ok()) scanned = Scan::Failed(scanned.status());
    auto& webhooks = scanned->webhooks;
    auto& sends = scanned->sends;
    auto& cursors = scanned->cursors;
    if (read_outbox) {
      const bool empty = webhooks.ok() && sends.ok() && webhooks->empty() && sends->empty();
      sh->outbox_empty_at = empty ? outbox_version : std::nullopt;
      sh->outbox_read_at = scan_start;
    }
    if (!webhooks.ok() || !sends.ok()) {
      log::Error("delivery.scan_failed",
                 {{"code", StatusCodeName(webhooks.ok() ? sends.status().code()
                                                        : webhooks.status().code())}});
    }
    TimePoint now = sh->deps.clock->Now();
    TimePoint next_due = now + kIdleScan;
    std::set<std::string> blocked;  // (lane/conversation) keys that must wait this round

    if (webhooks.ok()) {
      std::map<std::string, std::vector<store::OutboxRecord>> batches;
      for (auto& row : *webhooks) {
        std::string order_key = row.target_id + "|" + row.conversation_id;
        if (blocked.contains(order_key)) continue;
        const std::string lane = LaneKey(row);
        bool wait = sh->busy.contains(row.seq) || sh->busy_lanes.contains(lane) ||
                    sh->settled_lanes.contains(lane);
        if (!wait && row.next_attempt_at > now) {
          wait = true;
          next_due = std::min(next_due, row.next_attempt_at);
        }
        auto& batch = batches[row.target_id];
        if (wait || static_cast<int>(batch.size()) >= sh->options.batch_size) {
          blocked.insert(order_key);
          continue;
        }
        batch.push_back(std::move(row));
      }
      for (auto& [target, rows] : batches) {
        if (rows.empty()) continue;
        sh->busy_lanes.insert("wh:" + target);
        for (const auto& r : rows) sh->busy.insert(r.seq);
        http::Spawn(sh->strand, DeliverWebhook(sh, std::move(rows)), "deliver_webhook");
      }
    }
    if (!cursors.ok()) {
      log::Error("delivery.scan_failed", {{"code", StatusCodeName(cursors.status().code())}});
    } else {
      for (auto& [cursor, endpoint] : *cursors) {
        std::string lane = "wh:" + cursor.endpoint.str();
        // Its outbox rows or its last batch are in flight, or finished after this read.
        if (sh->busy_lanes.contains(lane) || sh->settled_lanes.contains(lane)) continue;
        if (cursor.next_attempt_at > now) {
          next_due = std::min(next_due, cursor.next_attempt_at);
          continue;
        }
        sh->busy_lanes.insert(lane);
        http::Spawn(sh->strand, DeliverFromCursor(sh, std::move(cursor), std::move(endpoint)),
                    "deliver_webhooks");
      }
    }
    if (sends.ok()) {
      for (auto& row : *sends) {
        std::string lane = LaneKey(row);
        if (blocked.contains(lane)) continue;
        bool wait = sh->busy.contains(row.seq) || sh->busy_lanes.contains(lane) ||
                    sh->settled_lanes.contains(lane) ||
                    sh->sends_in_flight >= sh->options.max_concurrent_sends;
        if (!wait && row.next_attempt_at > now) {
          wait = true;
          next_due = std::min(next_due, row.next_attempt_at);
        }
        blocked.insert(lane);  // one send per conversation at a time, in order
        if (wait) continue;
        sh->busy_lanes.insert(lane);
        sh->busy.insert(row.seq);
        ++sh->sends_in_flight;
        http::Spawn(sh->strand, SendToChannel(sh, std::move(row)), "send_to_channel");
      }
    }
    if (now - last_count > std::chrono::seconds(5)) {
      last_count = now;
      std::function<Result<int64_t>(store::Reader&)> count_outbox = [](store::Reader& r) {
        return r.CountOutbox();
      };
      auto depth = co_await store::Read<int64_t>(*sh->deps.store, std::move(count_outbox));
      if (depth.ok()) sh->depth->store(*depth);
    }
    if (sh->stopped) break;
    auto wait = sh->wake_pending ? kMinScanGap
                                 : std::max(kMinScanGap, std::chrono::duration_cast<Millis>(
                                                             next_due - sh->deps.clock->Now()));
    sh->timer.expires_after(wait);
    co_await sh->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace parley::delivery

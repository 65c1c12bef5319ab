#include "delivery/sweeper.h"

#include <boost/json.hpp>

#include "core/log.h"
#include "core/thread_name.h"
#include "delivery/event_recorder.h"
#include "delivery/message_status.h"

namespace parley::delivery {

namespace {

// The tenant's own inactivity timeout, when its settings hold a valid one.
std::chrono::seconds InactivityTimeout(const store::TenantRecord& tenant,
                                       std::chrono::seconds fallback) {
  boost::system::error_code ec;
  boost::json::value settings = boost::json::parse(tenant.settings_json, ec);
  if (ec || !settings.is_object()) return fallback;
  const boost::json::value* v = settings.get_object().if_contains(kInactivitySetting);
  if (v == nullptr || !v->is_int64()) return fallback;
  int64_t s = v->get_int64();
  if (s < 5 || s > 2592000) return fallback;  // the range of retention.inactivity_timeout_s
  return std::chrono::seconds(s);
}

std::string Duration(std::chrono::seconds s) {
  int64_t n = s.count();
  if (n % 86400 == 0 && n >= 86400) return std::to_string(n / 86400) + " d";
  if (n % 3600 == 0 && n >= 3600) return std::to_string(n / 3600) + " h";
  if (n % 60 == 0 && n >= 60) return std::to_string(n / 60) + " min";
  return std::to_string(n) + " s";
}

struct TableRule {
  const char* table;
  const char* record;
  const char* sealed;
  std::string rule;
};

}  // namespace

std::vector<DataMapEntry> DescribeDataMap(const std::vector<store::TableStats>& tables,
                                          const SweeperOptions& o, TimePoint now) {
  const std::string grace = Duration(o.delivered_grace);
  const std::vector<TableRule> rules = {
      {"tenants", "tenants (administrative)", "data key wrapped by the master key",
       "with the tenant (its key is destroyed first)"},
      {"api_keys", "API keys (credentials)", "stored as hashes",
       "when revoked, or with the tenant"},
      {"endpoints", "webhook endpoints (credentials)", "signing secrets",
       "when removed, or with the tenant"},
      {"connections", "channel connections: client identity and credentials",
       "identity, credentials (+ blind index)", "when removed, or with the tenant"},
      {"customers", "customer messaging identity", "contact id, profile (+ blind index)",
       "on erasure, or with the tenant"},
      {"conversations", "conversations", "ephemeral records (below)",
       "when it ends (after " + Duration(o.inactivity_timeout) +
           " without activity, or by the tenant's setting) its ephemeral records are cleared; "
           "the row goes " +
           Duration(o.ended_conversation_ttl) + " after it ended"},
      {"conversations.context", "chat context (IP, device, IP-based location)", "yes",
       "cleared when the conversation ends or times out"},
      {"conversations.cookies", "chat cookie data (the connection's selected cookies)", "yes",
       "cleared when the conversation ends or times out"},
      {"conversations.private_data", "customer private data (signed by the business's page)", "yes",
       "cleared when the conversation ends or times out"},
      {"messages", "customer and agent messages", "body",
       grace + " after delivery to the client application (inbound) or the channel (outbound); "
               "undelivered ones stay until their dead letter expires"},
      {"events", "events (webhook deliveries, stream resume log)", "payload",
       grace + " after delivery to every endpoint; held while a dead letter refers to them"},
      {"inbound_dedupe", "webhook dedupe records", "no (HMAC of the provider's message id)",
       Duration(o.dedupe_window) + " after they were recorded"},
      {"pending_statuses", "provider statuses that arrived before their send was recorded",
       "status and provider error",
       "when the send is recorded, or " + Duration(kPendingStatusWindow) + " after arrival"},
      {"inbound_retries", "provider webhook calls waiting for their media", "the whole call",
       "when stored (media fetched, or given up after about 9 hours of tries), or with the "
       "tenant"},
      {"outbox", "pending deliveries", "no (ids only)", "when delivered, or as dead letters"},
      {"dead_letters", "dead letters", "no (ids and error codes only)",
       Duration(o.dead_letter_ttl) + " after the delivery was given up"},
      {"idempotency_keys", "idempotency keys", "response (key stored as a hash)",
       Duration(o.idempotency_window) + " after the first request"},
      {"audit_log", "audit log of admin actions", "no (ids and actions only)",
       "kept (administrative); with the tenant"},
      {"attachments", "attachments (rows here, bytes in blob storage)",
       "filename and hash; bytes sealed (local) or in the tenant's private bucket (S3)",
       Duration(o.attachment_ttl) + " after upload, blob first; with erasure or the tenant"},
  };
  std::vector<DataMapEntry> out;
  for (const TableRule& r : rules) {
    DataMapEntry e;
    e.record = r.record;
    e.table = r.table;
    e.sealed = r.sealed;
    e.rule = r.rule;
    for (const store::TableStats& t : tables) {
      if (t.table != r.table) continue;
      e.rows = t.rows;
      if (t.oldest) {
        e.oldest_age = std::max(std::chrono::seconds(0),
                                std::chrono::duration_cast<std::chrono::seconds>(now - *t.oldest));
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Sweeper::Sweeper(store::Store& store, TenantKeys& keys, bus::EventBus& bus, const Clock& clock,
                 SweeperOptions options)
    : store_(store), keys_(keys), bus_(bus), clock_(clock), options_(options) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Start() {
  thread_ = std::thread([this] {
    core::NameThisThread("retention");
    Loop();
  });
}

void Sweeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sweeper::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Real time, not the injected clock: the interval paces the thread; the rules use the
    // clock.
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) break;
    lock.unlock();
    auto report = RunOnce();
    if (!report.ok()) {
      log::Error("retention.sweep_failed", {{"code", StatusCodeName(report.status().code())}});
    } else if (report->conversations_ended + report->conversations_deleted + report->messages +
                   report->events + report->dead_letters + report->inbound_dedupe +
                   report->pending_statuses + report->idempotency_keys >
               0) {
      log::Info("retention.swept",
                {{"conversations_ended", static_cast<int64_t>(report->conversations_ended)},
                 {"conversations_deleted", static_cast<int64_t>(report->conversations_deleted)},
                 {"messages", static_cast<int64_t>(report->messages)},
                 {"events", static_cast<int64_t>(report->events)},
                 {"dead_letters", static_cast<int64_t>(report->dead_letters)},
                 {"inbound_dedupe", static_cast<int64_t>(report->inbound_dedupe)},
                 {"pending_statuses", static_cast<int64_t>(report->pending_statuses)},
                 {"idempotency_keys", static_cast<int64_t>(report->idempotency_keys)},
                 {"attachments", static_cast<int64_t>(report->attachments)}});
    }
    lock.lock();
  }
}

Result<SweepReport> Sweeper::RunOnce() {
  const TimePoint now = clock_.Now();
  const int batch = options_.batch;
  SweepReport report;
  // Ending first: the deletions below then see the conversations that just ended.
  PARLEY_ASSIGN_OR_RETURN(report.conversations_ended, EndIdleConversations(now));
  // Expired dead letters first: the messages and events they held are then free to go.
  TimePoint buried = now - options_.dead_letter_ttl;
  PARLEY_ASSIGN_OR_RETURN(report.dead_letters, Repeat([buried, batch](store::Writer& w) {
                            return w.SweepDeadLetters(buried, batch);
                          }));
  TimePoint delivered = now - options_.delivered_grace;
  PARLEY_ASSIGN_OR_RETURN(report.messages, Repeat([delivered, batch](store::Writer& w) {
                            return w.SweepMessages(delivered, batch);
                          }));
  PARLEY_ASSIGN_OR_RETURN(report.events, Repeat([delivered, batch](store::Writer& w) {
                            return w.SweepEvents(delivered, batch);
                          }));
  TimePoint dedupe = now - options_.dedupe_window;
  PARLEY_ASSIGN_OR_RETURN(report.inbound_dedupe, Repeat([dedupe, batch](store::Writer& w) {
                            return w.SweepInboundDedupe(dedupe, batch);
                          }));
  TimePoint unmatched = now - kPendingStatusWindow;
  PARLEY_ASSIGN_OR_RETURN(report.pending_statuses, Repeat([unmatched, batch](store::Writer& w) {
                            return w.SweepPendingStatuses(unmatched, batch);
                          }));
  TimePoint idempotency = now - options_.idempotency_window;
  PARLEY_ASSIGN_OR_RETURN(report.idempotency_keys, Repeat([idempotency, batch](store::Writer& w) {
                            return w.SweepIdempotency(idempotency, batch);
                          }));
  TimePoint ended = now - options_.ended_conversation_ttl;
  PARLEY_ASSIGN_OR_RETURN(report.conversations_deleted, Repeat([ended, batch](store::Writer& w) {
                            return w.SweepEndedConversations(ended, batch);
                          }));
  if (attachment_sweep_) {
    for (int i = 0; i < options_.max_batches; ++i) {
      PARLEY_ASSIGN_OR_RETURN(int n, attachment_sweep_(batch));
      report.attachments += n;
      if (n < batch) break;
    }
  }
  return report;
}

Result<int> Sweeper::Repeat(const std::function<Result<int>(store::Writer&)>& sweep) {
  int total = 0;
  for (int i = 0; i < options_.max_batches; ++i) {
    int n = 0;
    Status s = store_.WriteSync([&](store::Writer& w) -> Status {
      PARLEY_ASSIGN_OR_RETURN(n, sweep(w));
      return OkStatus();
    });
    PARLEY_RETURN_IF_ERROR(s);
    total += n;
    if (n < options_.batch) break;
  }
  return total;
}

Result<int> Sweeper::EndIdleConversations(TimePoint now) {
  int ended = 0;
  store::Page page;
  page.limit = 500;
  while (true) {
    PARLEY_ASSIGN_OR_RETURN(auto tenants,
                            store_.ReadSync<std::vector<store::TenantRecord>>(
                                [&page](store::Reader& r) { return r.ListTenants(page); }));
    for (const store::TenantRecord& tenant : tenants) {
      if (tenant.wrapped_key.empty()) continue;  // shredded, its rows are being deleted
      PARLEY_ASSIGN_OR_RETURN(int n, EndIdleConversationsOf(tenant, now));
      ended += n;
    }
    if (static_cast<int>(tenants.size()) < page.limit) break;
    page.after = tenants.back().id.str();
  }
  return ended;
}

Result<int> Sweeper::EndIdleConversationsOf(const store::TenantRecord& tenant, TimePoint now) {
  const TimePoint active_before = now - InactivityTimeout(tenant, options_.inactivity_timeout);
  const int batch = options_.batch;
  int ended = 0;
  for (int i = 0; i < options_.max_batches; ++i) {
    PARLEY_ASSIGN_OR_RETURN(
        auto idle, store_.ReadSync<std::vector<store::ConversationRecord>>([&](store::Reader& r) {
          return r.ListIdleConversations(tenant.id, active_before, batch);
        }));
    if (idle.empty()) break;
    PARLEY_ASSIGN_OR_RETURN(auto key,
                            store_.ReadSync<std::shared_ptr<const crypto::DataKey>>(
                                [&](store::Reader& r) { return keys_.GetSync(r, tenant.id); }));
    EventRecorder recorder(key, clock_);
    int n = 0;
    Status s = store_.WriteSync([&](store::Writer& w) -> Status {
      recorder.Clear();
      n = 0;
      for (const store::ConversationRecord& c : idle) {
        Status end = w.EndIdleConversation(tenant.id, c.id, now, active_before);
        // Ended, active or deleted since it was listed: nothing to announce.
        if (end.code() == StatusCode::kFailedPrecondition || end.code() == StatusCode::kNotFound) {
          continue;
        }
        PARLEY_RETURN_IF_ERROR(end);
        PARLEY_RETURN_IF_ERROR(recorder
                                   .Record(w, tenant.id,
                                           ConversationEndedData{c.id, c.connection, c.customer,
                                                                 EndReason::kInactivity},
                                           c.id)
                                   .status());
        ++n;
      }
      return OkStatus();
    });
    PARLEY_RETURN_IF_ERROR(s);
    recorder.Publish(bus_);
    ended += n;
    if (static_cast<int>(idle.size()) < batch) break;
  }
  return ended;
}

}  // namespace parley::delivery

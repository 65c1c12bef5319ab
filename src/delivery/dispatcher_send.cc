// Channel sends from the outbox (DESIGN.md §5): one row at a time per conversation, rendered
// and sent by the channel's adapter; the outcome and its message.status event are recorded in
// one write.
#include <boost/json.hpp>

#include "core/log.h"
#include "core/message_json.h"
#include "delivery/attachments.h"
#include "delivery/dispatcher_internal.h"
#include "delivery/event_recorder.h"
#include "delivery/message_status.h"
#include "delivery/tenant_keys.h"
#include "store/async.h"

namespace parley::delivery::internal {

namespace asio = boost::asio;

std::string LaneKey(const store::OutboxRecord& r) {
  return r.kind == store::OutboxKind::kWebhook ? "wh:" + r.target_id
                                               : "cs:" + r.target_id + "|" + r.conversation_id;
}

// Reschedules failed rows, or turns those past the retry age into dead letters.
Status RetryOrBury(store::Writer& w, const std::vector<store::OutboxRecord>& rows, TimePoint now,
                   const DispatcherOptions& options, std::string_view error,
                   const std::vector<Millis>& delays, std::vector<bool>* buried) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    int attempts = r.attempts + 1;
    if (now - r.created_at >= options.max_retry_age) {
      store::DeadLetterRecord dl;
      dl.id = DeadLetterId::New(now);
      dl.tenant = r.tenant;
      dl.kind = r.kind;
      dl.target_id = r.target_id;
      dl.ref_id = r.ref_id;
      dl.conversation_id = r.conversation_id;
      dl.attempts = attempts;
      dl.last_error = std::string(error);
      dl.created_at = r.created_at;
      dl.failed_at = now;
      PARLEY_RETURN_IF_ERROR(w.InsertDeadLetter(dl));
      PARLEY_RETURN_IF_ERROR(w.DeleteOutbox({r.seq}));
      if (buried) buried->push_back(true);
    } else {
      PARLEY_RETURN_IF_ERROR(w.RescheduleOutbox(r.seq, attempts, now + delays[i], error));
      if (buried) buried->push_back(false);
    }
  }
  return OkStatus();
}

namespace {

struct SendLoad {
  store::MessageRecord message;
  store::ConversationRecord conversation;
  store::CustomerRecord customer;
  store::ConnectionRecord connection;
  std::string reply_to_sealed;  // body of the message answered, if any and still held
  std::string reply_to_id;
};

}  // namespace

asio::awaitable<void> SendToChannel(std::shared_ptr<Dispatcher::Shared> sh,
                                    store::OutboxRecord row) {
  const DispatcherDeps& deps = sh->deps;
  const TenantId tenant = row.tenant;
  const std::string lane = LaneKey(row);
  auto finish = [&] {
    sh->busy.erase(row.seq);
    --sh->sends_in_flight;
    sh->Settle(lane);
  };
  const int64_t seq = row.seq;
  store::Store::WriteFn drop = [seq](store::Writer& w) { return w.DeleteOutbox({seq}); };

  auto key = co_await deps.keys->Get(tenant);
  if (!key.ok()) {
    co_await store::WriteRerunnable(*deps.store, std::move(drop));
    finish();
    co_return;
  }
  std::function<Result<SendLoad>(store::Reader&)> load_send =
      [tenant, row](store::Reader& r) -> Result<SendLoad> {
    SendLoad load;
    PARLEY_ASSIGN_OR_RETURN(load.message, r.GetMessage(tenant, MessageId::FromTrusted(row.ref_id)));
    PARLEY_ASSIGN_OR_RETURN(load.conversation,
                            r.GetConversation(tenant, load.message.conversation));
    PARLEY_ASSIGN_OR_RETURN(load.customer, r.GetCustomer(tenant, load.conversation.customer));
    PARLEY_ASSIGN_OR_RETURN(load.connection, r.GetConnection(tenant, load.conversation.connection));
    return load;
  };
  auto loaded = co_await store::Read<SendLoad>(*deps.store, std::move(load_send));
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) {
      // The message, customer or connection was deleted meanwhile.
      co_await store::WriteRerunnable(*deps.store, std::move(drop));
    } else {
      log::Warn("send.load_failed", {{"message", row.ref_id}});
    }
    finish();
    co_return;
  }
  const crypto::DataKey& k = **key;
  auto body = k.Open(loaded->message.body_sealed, place::MessageBody(tenant, row.ref_id));
  auto contact = k.Open(loaded->customer.contact_sealed,
                        place::CustomerContact(tenant, loaded->customer.id.str()));
  auto credentials = k.Open(loaded->connection.credentials_sealed,
                            place::ConnectionCredentials(tenant, loaded->connection.id.str()));
  Result<Message> message = body.ok() ? ParseMessage(*body) : Result<Message>(body.status());
  if (!message.ok() || !contact.ok() || !credentials.ok()) {
    log::Error("send.unseal_failed", {{"message", row.ref_id}});
    finish();
    co_return;
  }
  channels::ConnectionContext context;
  context.tenant = tenant;
  context.id = loaded->connection.id;
  context.kind = loaded->connection.kind;
  boost::system::error_code ec;
  auto settings = boost::json::parse(loaded->connection.settings_json, ec);
  if (!ec && settings.is_object()) context.settings = settings.get_object();
  auto creds = boost::json::parse(*credentials, ec);
  if (!ec && creds.is_object()) context.credentials = creds.get_object();

  channels::SendOutcome outcome;
  channels::ChannelAdapter* adapter = deps.registry->Find(context.kind);
  if (!adapter) {
    outcome.kind = channels::SendOutcome::Kind::kPermanentFailure;
    outcome.error = {"unknown_channel", "no adapter for this channel kind"};
  } else {
    channels::OutboundRequest request;
    request.message = *message;
    if (deps.attachments) deps.attachments->AddLinks(k, request.message, deps.clock->Now());
    request.contact_id = *contact;
    request.reply_to_provider_id = message->reply_to_provider_id;
    outcome = co_await adapter->Send(std::move(request), std::move(context));
  }

  using Kind = channels::SendOutcome::Kind;
  TimePoint now = deps.clock->Now();
  Millis delay = outcome.retry_after.count() > 0
                     ? outcome.retry_after
                     : Dispatcher::Backoff(row.attempts + 1, sh->options.initial_backoff,
                                           sh->options.max_backoff, sh->rng());
  if (outcome.kind == Kind::kSent) {
    sh->messages_out->Inc({loaded->connection.kind});
    sh->deliveries->Inc({"channel_send", "ok"});
  } else {
    sh->failures->Inc({"channel_send"});
    log::Warn("send.failed", {{"message", row.ref_id},
                              {"error", outcome.error.code},
                              {"attempt", static_cast<int64_t>(row.attempts + 1)}});
  }
  auto recorder = std::make_shared<EventRecorder>(*key, *deps.clock);
  DispatcherOptions options = sh->options;
  MessageId message_id = message->id;
  ConversationId conversation = message->conversation;
  ConnectionId connection_id = loaded->connection.id;
  // The provider's id, so that its status callbacks find this message (ApplyStatus).
  std::string provider_index =
      outcome.kind == Kind::kSent && !outcome.provider_message_id.empty()
          ? k.BlindIndex(SentProviderIdDomain(connection_id), outcome.provider_message_id)
          : std::string();
  std::shared_ptr<const crypto::DataKey> data_key = *key;
  store::Store::WriteFn record_outcome = [=](store::Writer& w) -> Status {
    recorder->Clear();
    MessageStatusData status;
    status.message = message_id;
    status.conversation = conversation;
    status.at = now;
    if (outcome.kind == Kind::kRetry) {
      std::vector<bool> buried;
      PARLEY_RETURN_IF_ERROR(
          RetryOrBury(w, {row}, now, options, outcome.error.code, {delay}, &buried));
      if (!buried.front()) return OkStatus();
      status.status = DeliveryStatus::kFailed;
      status.error = outcome.error;
    } else {
      PARLEY_RETURN_IF_ERROR(w.DeleteOutbox({row.seq}));
      if (outcome.kind == Kind::kSent) {
        status.status = DeliveryStatus::kSent;
        status.provider_message_id = outcome.provider_message_id;
        if (!provider_index.empty()) {
          PARLEY_RETURN_IF_ERROR(
              w.RecordInboundOnce(tenant, connection_id, provider_index, message_id, now).status());
        }
      } else {
        status.status = DeliveryStatus::kFailed;
        status.error = outcome.error;
      }
    }
    PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant, message_id, WireName(status.status), now));
    PARLEY_RETURN_IF_ERROR(recorder->Record(w, tenant, status, conversation).status());
    if (provider_index.empty() || status.status != DeliveryStatus::kSent) return OkStatus();
    // Statuses the provider posted before this write apply now.
    return ApplyPendingStatuses(w, *recorder, *data_key, tenant, connection_id, provider_index,
                                message_id, conversation, now);
  };
  Status s = co_await store::WriteRerunnable(*deps.store, std::move(record_outcome));
  if (s.ok()) {
    recorder->Publish(*deps.bus);
  } else {
    log::Error("send.record_failed", {{"message", row.ref_id}});
  }
  finish();
}

}  // namespace parley::delivery::internal

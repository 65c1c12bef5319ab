#include "delivery/message_status.h"

#include <boost/json.hpp>

#include "core/message_json.h"
#include "delivery/tenant_keys.h"

namespace parley::delivery {

namespace json = boost::json;

int StatusRank(std::string_view status) {
  if (status == "sent") return 1;
  if (status == "delivered") return 2;
  if (status == "read") return 3;
  return 0;  // received, queued, failed
}

bool StatusAdvances(std::string_view current, DeliveryStatus next) {
  if (next == DeliveryStatus::kFailed) return StatusRank(current) < 2;
  return StatusRank(WireName(next)) > StatusRank(current);
}

Result<bool> AdvanceMessageStatus(store::Writer& w, EventRecorder& recorder, const TenantId& tenant,
                                  const MessageStatusData& status, std::string_view current,
                                  TimePoint now) {
  if (!StatusAdvances(current, status.status)) return false;
  PARLEY_RETURN_IF_ERROR(
      w.UpdateMessageStatus(tenant, status.message, WireName(status.status), now));
  PARLEY_RETURN_IF_ERROR(recorder.Record(w, tenant, status, status.conversation).status());
  return true;
}

namespace {
crypto::SealPlace PendingStatusPlace(const TenantId& tenant, std::string_view key_index) {
  return {tenant.str(), "pending_statuses", "status", key_index};
}
}  // namespace

std::string SealPendingStatus(const crypto::DataKey& key, const TenantId& tenant,
                              std::string_view key_index, const MessageStatusData& status) {
  json::object o{{"status", WireName(status.status)},
                 {"provider_message_id", status.provider_message_id},
                 {"at", ToUnixMillis(status.at)}};
  if (status.error) {
    o["error"] = json::object{{"code", status.error->code}, {"message", status.error->message}};
  }
  return key.Seal(json::serialize(o), PendingStatusPlace(tenant, key_index));
}

Result<MessageStatusData> OpenPendingStatus(const crypto::DataKey& key, const TenantId& tenant,
                                            std::string_view key_index, std::string_view sealed) {
  PARLEY_ASSIGN_OR_RETURN(std::string plain,
                          key.Open(sealed, PendingStatusPlace(tenant, key_index)));
  PARLEY_ASSIGN_OR_RETURN(json::value doc, ParseBoundedJson(plain));
  const json::object* o = doc.if_object();
  const json::value* status = o ? o->if_contains("status") : nullptr;
  const json::value* at = o ? o->if_contains("at") : nullptr;
  std::optional<DeliveryStatus> parsed;
  if (status && status->is_string()) parsed = FromWireName<DeliveryStatus>(status->get_string());
  if (!parsed || !at || !at->is_int64()) return InvalidArgument("pending status: malformed");
  MessageStatusData data;
  data.status = *parsed;
  data.at = FromUnixMillis(at->as_int64());
  if (const json::value* id = o->if_contains("provider_message_id"); id && id->is_string()) {
    data.provider_message_id = std::string(id->get_string());
  }
  if (const json::value* e = o->if_contains("error"); e && e->is_object()) {
    const json::object& eo = e->get_object();
    ProviderError error;
    if (const json::value* c = eo.if_contains("code"); c && c->is_string())
      error.code = std::string(c->get_string());
    if (const json::value* m = eo.if_contains("message"); m && m->is_string())
      error.message = std::string(m->get_string());
    data.error = std::move(error);
  }
  return data;
}

Status ApplyPendingStatuses(store::Writer& w, EventRecorder& recorder, const crypto::DataKey& key,
                            const TenantId& tenant, const ConnectionId& connection,
                            const std::string& key_index, const MessageId& message,
                            const ConversationId& conversation, TimePoint now) {
  PARLEY_ASSIGN_OR_RETURN(std::vector<store::PendingStatusRecord> early,
                          w.TakePendingStatuses(tenant, connection, key_index));
  std::string current(WireName(DeliveryStatus::kSent));
  for (const store::PendingStatusRecord& p : early) {
    auto pending = OpenPendingStatus(key, tenant, key_index, p.status_sealed);
    if (!pending.ok()) continue;  // unreadable: dropped, like a status for no message
    pending->message = message;
    pending->conversation = conversation;
    PARLEY_ASSIGN_OR_RETURN(bool moved,
                            AdvanceMessageStatus(w, recorder, tenant, *pending, current, now));
    if (moved) current = WireName(pending->status);
  }
  return OkStatus();
}

}  // namespace parley::delivery

#include "api/sealed_message.h"

#include "core/message_json.h"
#include "delivery/tenant_keys.h"

namespace parley::api {

SealedMessage SealMessage(const crypto::DataKey& key, const Clock& clock, Message message,
                          std::string_view idempotency_key_hash) {
  SealedMessage out;
  const TenantId tenant = message.tenant;
  out.json = Serialize(message);
  out.body_sealed = key.Seal(out.json, delivery::place::MessageBody(tenant, message.id.str()));
  if (!idempotency_key_hash.empty()) {
    out.idempotency_sealed = key.Seal(
        out.json, delivery::place::IdempotencyResponse(tenant, std::string(idempotency_key_hash)));
  }
  out.message = std::make_shared<const Message>(std::move(message));
  out.event = delivery::EventRecorder::PrepareMessage(key, clock, out.message, out.json);
  return out;
}

}  // namespace parley::api

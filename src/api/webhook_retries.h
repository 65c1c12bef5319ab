// src/api/webhook_retries.h
//
// A provider webhook call kept for another try (store.h, InboundRetryRecord): when a media
// file it refers to cannot be fetched for now, the call is answered 2xx — some providers
// (Twilio) never send it again — and kept, sealed under the tenant's key, to be processed
// again later by the webhook path, with backoff, until its media comes or the tries run out.
//
//   std::string sealed = SealWebhookCall(*connection->key, tenant, connection_id, request);
//   PARLEY_ASSIGN_OR_RETURN(http::Request again, OpenWebhookCall(*key, tenant, id, sealed));
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/result.h"
#include "crypto/keys.h"
#include "http/message.h"

namespace parley::api {

// Tries in all, the first (when the call arrived) included. With the default backoff
// (delivery.initial_backoff_ms 1 s, doubling up to max_backoff_ms 1 h) the last try comes
// about 9 hours after the call; on it a media file still unavailable turns its message into
// `unsupported`, so the message itself is never lost.
inline constexpr int kMaxWebhookTries = 20;

// The call's method, targets, query, headers and body, sealed at (tenant, "inbound_retries",
// "request", connection).
std::string SealWebhookCall(const crypto::DataKey& key, const TenantId& tenant,
                            const ConnectionId& connection, const http::Request& request);
// Errors: kInvalidArgument when it does not open or decode.
Result<http::Request> OpenWebhookCall(const crypto::DataKey& key, const TenantId& tenant,
                                      const ConnectionId& connection, std::string_view sealed);

// The wait before try number `tries + 1`, after `tries` tries: initial × 2^(tries − 1), at most
// `max`.
std::chrono::milliseconds WebhookRetryDelay(int tries, std::chrono::milliseconds initial,
                                            std::chrono::milliseconds max);

}  // namespace parley::api

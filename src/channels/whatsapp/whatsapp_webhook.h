// src/channels/whatsapp/whatsapp_webhook.h
//
// Parsing of WhatsApp Cloud API webhook bodies (../shared/fixtures/PROVIDERS.md §1a) into an
// InboundBatch: every entry, change, message and status of one POST. Pure functions, no I/O.
//
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, whatsapp::ParseWebhookBody(request.body));
#pragma once

#include <cstddef>
#include <string_view>

#include "channels/channel_adapter.h"
#include "core/result.h"

namespace parley::channels::whatsapp {

// Largest webhook body accepted. Meta's batches are far smaller.
inline constexpr size_t kMaxWebhookBytes = 1024 * 1024;
// wamid, media id and other Meta ids.
inline constexpr size_t kMaxIdBytes = 256;
// wa_id (digits) or a business-scoped user id.
inline constexpr size_t kMaxContactIdBytes = 128;

// Parses a webhook body of object "whatsapp_business_account".
//   messages[] -> InboundMessage (provider_message_id = wamid, contact_id = from,
//                 client_identity = value.metadata.phone_number_id)
//   statuses[] -> InboundStatus (provider_message_id = wamid of Parley's message)
//   changes whose field is not "messages", value.errors[] and statuses Parley does not map
//   count in `ignored`.
// Errors: kInvalidArgument naming the field ("entry[0].changes[0].value.messages[1].id:
// required"); never quotes a value.
Result<InboundBatch> ParseWebhookBody(std::string_view body);

}  // namespace parley::channels::whatsapp

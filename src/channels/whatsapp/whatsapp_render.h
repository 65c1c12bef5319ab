// src/channels/whatsapp/whatsapp_render.h
//
// Outbound rendering for the WhatsApp Cloud API (../shared/fixtures/PROVIDERS.md §1c, §1e):
// the JSON body of POST /<version>/<phone_number_id>/messages for a common-format message,
// the read mark / typing indicator body, and the interpretation of Meta's answer. Pure
// functions, no I/O; docs/channels/whatsapp.md has the mapping table.
//
//   RenderedMessage r = RenderMessage(request);
//   if (r.failure) return FailedPermanently(r.failure->code, r.failure->message);
//   std::string body = boost::json::serialize(r.body);
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "channels/channel_adapter.h"
#include "http/client.h"

namespace parley::channels::whatsapp {

// Meta's limits, in characters (Unicode code points) unless named bytes.
inline constexpr size_t kMaxTextChars = 4096;
inline constexpr size_t kMaxCaptionChars = 1024;
inline constexpr size_t kMaxButtons = 3;
inline constexpr size_t kMaxButtonTitleChars = 20;
inline constexpr size_t kMaxButtonIdBytes = 256;
inline constexpr size_t kMaxButtonsBodyChars = 1024;
inline constexpr size_t kMaxHeaderChars = 60;  // header and footer text
inline constexpr size_t kMaxListRows = 10;     // over all sections
inline constexpr size_t kMaxListSections = 10;
inline constexpr size_t kMaxListButtonChars = 20;
inline constexpr size_t kMaxRowTitleChars = 24;
inline constexpr size_t kMaxSectionTitleChars = 24;
inline constexpr size_t kMaxRowDescriptionChars = 72;
inline constexpr size_t kMaxRowIdBytes = 200;
// The label of the button that opens a list made from more than kMaxButtons choices.
inline constexpr std::string_view kChoicesListButton = "Choose";

// The Graph API body for one message, or why it cannot be sent. `failure` is permanent:
//   too_long             text, caption or interactive body over Meta's limit, or a
//                        button/row id over its byte limit (nothing is split or cut)
//   public_url_required  an attachment or template media link that is not absolute http(s)
//   unsupported_content  a content type or shape WhatsApp cannot carry
//   invalid_recipient    no contact id
struct RenderedMessage {
  boost::json::object body;
  std::optional<ProviderError> failure;
};

RenderedMessage RenderMessage(const OutboundRequest& request);

// The body of a read mark (kRead) or typing indicator (kTypingOn, which WhatsApp shows while
// marking the customer's message read); nullopt when there is nothing to send (kTypingOff,
// or no provider_message_id).
std::optional<boost::json::object> RenderSignal(const SignalRequest& request);

// A send call's answer: 2xx -> SentAs(messages[0].id) (an id-less 2xx is still sent, with
// an empty id, so it is never sent twice); otherwise meta::ClassifyGraphError.
SendOutcome InterpretSendResponse(const http::ClientResponse& response);

// Number of Unicode code points in UTF-8 `text`.
size_t CharCount(std::string_view text);
// At most `max_chars` code points of `text`, cut on a code point boundary (and without the
// spaces the cut leaves at the end).
std::string TruncateChars(std::string_view text, size_t max_chars);

}  // namespace parley::channels::whatsapp

// src/api/web_chat_frames.h — internal to the web chat (web_chat*.cc).
//
// Building and reading widget frames (docs/channels/web.md), and loading a returning
// visitor's conversation with its history.
//
//   session.Send(ErrorFrame("malformed", "type: required string"));
//   json::object view = MessageView(stored_message_json_object, "sent");
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channels/web/web_adapter.h"
#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"
#include "crypto/keys.h"
#include "store/store.h"

namespace parley::delivery {
class Attachments;  // delivery/attachments.h
}  // namespace parley::delivery

namespace parley::api {

// {"type":"error","code","message","ref"?}
std::string ErrorFrame(std::string_view code, std::string_view message, std::string_view ref = {});

// Printable ASCII only (no control characters).
bool Printable(std::string_view s);

// The widget's view of a stored message (common format JSON, links already minted): no
// tenant, customer or connection ids. Allocated from `sp` (default: the heap).
boost::json::object MessageView(const boost::json::object& m, std::string_view status = {},
                                const boost::json::storage_ptr& sp = {});

// What a session remembers of a message it shows: its id, and whether it is the visitor's
// own (inbound).
struct ViewFacts {
  std::string id;
  bool inbound = false;
};
ViewFacts FactsOf(const boost::json::object& view);

// The widget's message frame for a stored message's JSON (links already minted):
// {"type":"message","message":view}, or with a non-empty `ack_of` (a client id, never empty)
// the ack of the visitor's message {"type":"ack","client_id":ack_of,"message":view}. `facts`,
// when given, receives the view's FactsOf. Reads and builds in an arena on the stack. "" when
// `message_json` is not a JSON object.
std::string MessageFrame(std::string_view message_json, std::string_view status,
                         std::string_view ack_of = {}, ViewFacts* facts = nullptr);
// The same for a message already read, building in `sp`.
std::string MessageFrame(const boost::json::object& m, std::string_view status,
                         std::string_view ack_of, ViewFacts* facts,
                         const boost::json::storage_ptr& sp);

// The same for a message in memory (links already minted), written directly without a
// parse or a tree: the frame MessageFrame(Serialize(m), …) gives (web_chat_frames_test.cc;
// that form is kept as the reference). Unlike it, this one does not check that the text is
// valid UTF-8 or within kMaxMessageJsonBytes: every message in memory was parsed from JSON
// or built by an adapter within message.h's limits.
std::string MessageFrame(const Message& m, std::string_view status, std::string_view ack_of = {},
                         ViewFacts* facts = nullptr);
// As above, a media message's attachments first given links minted at `now` (a copy: `m`
// is not changed), when `attachments` is given.
std::string MessageFrame(const Message& m, std::string_view status, std::string_view ack_of,
                         ViewFacts* facts, const delivery::Attachments* attachments,
                         const crypto::DataKey& key, TimePoint now);

// {"type":"ack","client_id","message":{"id"},"duplicate":true}: a message sent again, stored
// the first time as `message_id`.
std::string DuplicateAckFrame(std::string_view client_id, std::string_view message_id);

// The widget's typing frame for a typing event's data; "" for the customer's own typing.
std::string TypingFrame(const boost::json::object& data);

// A frame's text as a JSON object. Errors: kInvalidArgument ("frame: not valid JSON", …).
Result<boost::json::object> ParseObject(std::string_view text, size_t max_bytes);

// o[key] as a string of at most `max` bytes; "" when absent or null.
// Errors: kInvalidArgument naming the key.
Result<std::string> OptionalString(const boost::json::object& o, std::string_view key, size_t max);

// The listed cookies' values, as a JSON object text; "" when none.
std::string FilterCookies(const boost::json::value* cookies,
                          const channels::web::WebSettings& settings);

// An absolute http(s) URL of at most kMaxUrlBytes.
bool IsHttpUrl(std::string_view url);

// A returning visitor: their open conversation on the connection and its last messages.
struct WebVisit {
  std::optional<store::ConversationRecord> conversation;
  std::vector<store::MessageRecord> messages;  // oldest first, at most the history limit
};

// Finds the web customer by the blind index of their visitor id, then their open conversation
// on `connection` and its last `history_limit` messages. An unknown visitor or one without an
// open conversation is an empty visit.
Result<WebVisit> LoadVisit(store::Reader& r, const TenantId& tenant, const ConnectionId& connection,
                           const std::string& contact_index, int history_limit);

}  // namespace parley::api

// src/core/message_json.h
//
// The JSON codec of the common message format (DESIGN.md §3, docs/message-format.md,
// docs/schema/*.schema.json). The same shape is used in webhooks, the live stream, the REST
// API and the store.
//
//   std::string body = Serialize(message);
//   PARLEY_ASSIGN_OR_RETURN(Message m, ParseMessage(body));
//   PARLEY_ASSIGN_OR_RETURN(Content c, OutboundContentFromJson(request_json.at("content")));
//
// Writing: every field is written; an absent optional value is written as `null`, an empty
// list as `[]`, empty metadata as `{}`. Interactive content writes only the part of its kind.
// Reading: strict. A missing key and `null` both mean "absent"; unknown keys, wrong types,
// unknown enum names, malformed ids or timestamps, and anything ValidateMessage/ValidateEvent
// rejects give kInvalidArgument with a path-style message ("content.buttons[2].title:
// required") that never quotes the input's values. Of duplicate keys the last wins. Reading never
// throws and tolerates hostile input (deep nesting, huge arrays, truncated text).
//
// Thread safety: all functions are pure and may be called concurrently.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/message.h"
#include "core/result.h"

namespace parley {

// Largest JSON text ParseMessage/ParseEvent accept, and their nesting limit. A message at
// every limit of message.h fits well below this.
inline constexpr size_t kMaxMessageJsonBytes = 1024 * 1024;
inline constexpr size_t kMaxJsonDepth = 32;

// Parses JSON text of at most `max_bytes` with nesting at most kMaxJsonDepth, rejecting
// comments, trailing commas and invalid UTF-8. Errors: kInvalidArgument.
Result<boost::json::value> ParseBoundedJson(std::string_view text,
                                            size_t max_bytes = kMaxMessageJsonBytes);
// As above, every value allocated from `sp`, whose resource must outlive the value. For a
// tree read and dropped at once, an arena on the stack (json::monotonic_resource) makes the
// parse cheaper and the destruction free:
//   unsigned char buffer[8192];
//   json::monotonic_resource arena(buffer, sizeof(buffer));
//   auto v = ParseBoundedJson(text, kMaxMessageJsonBytes, json::storage_ptr(&arena));
Result<boost::json::value> ParseBoundedJson(std::string_view text, size_t max_bytes,
                                            const boost::json::storage_ptr& sp);

// The JSON trees of the common format; every value is allocated from `sp` (default: the
// heap).
boost::json::value ToJson(const Content& content, const boost::json::storage_ptr& sp = {});
boost::json::value ToJson(const Message& message, const boost::json::storage_ptr& sp = {});
boost::json::value ToJson(const Event& event, const boost::json::storage_ptr& sp = {});

// `path` prefixes error messages ("content.text: required").
Result<Content> ContentFromJson(const boost::json::value& json, std::string_view path = "content");
// What a client application may send ("send message" body): ContentFromJson, then rejects
// types a client cannot send (reply, system, unsupported — see docs/message-format.md).
Result<Content> OutboundContentFromJson(const boost::json::value& json,
                                        std::string_view path = "content");
Result<Message> MessageFromJson(const boost::json::value& json);
Result<Event> EventFromJson(const boost::json::value& json);

std::string Serialize(const Message& message);
std::string Serialize(const Event& event);
// Serialize(event) when its data is already serialized as `data_json` (event.data itself is
// not read): an inbound message is serialized once for its row and its message.created event.
std::string SerializeWithData(const Event& event, std::string_view data_json);
// Appends `s` as a JSON string, escaped as Serialize escapes: '"', '\\' and control
// characters only (\b \t \n \f \r short, the rest as \u00xx), UTF-8 as is.
void AppendJsonString(std::string& out, std::string_view s);
// Appends `content` as JSON, as Serialize(message) writes its "content" member.
void AppendContentJson(std::string& out, const Content& content);
Result<Message> ParseMessage(std::string_view text);
Result<Event> ParseEvent(std::string_view text);

}  // namespace parley

// Inbound webhooks of the Messenger Platform (Messenger and Instagram): entry[].messaging[]
// events to InboundMessage / InboundStatus. The mapping table is in docs/channels/messenger.md.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "channels/messenger/messenger_common.h"
#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::messenger {

namespace json = boost::json;

namespace {

std::string Field(std::string_view path, std::string_view key) {
  return fmt::format("{}.{}", path, key);
}

std::string Index(std::string_view path, size_t i) { return fmt::format("{}[{}]", path, i); }

// The object at `key`; nullptr when absent or null. Errors: present but not an object.
Result<const json::object*> ObjectAt(const json::object& o, std::string_view key,
                                     std::string_view path) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) {
    return InvalidArgument(fmt::format("{}: must be an object", Field(path, key)));
  }
  return &it->value().get_object();
}

// The array at `key`; nullptr when absent or null.
Result<const json::array*> ArrayAt(const json::object& o, std::string_view key,
                                   std::string_view path) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return static_cast<const json::array*>(nullptr);
  if (!it->value().is_array()) {
    return InvalidArgument(fmt::format("{}: must be an array", Field(path, key)));
  }
  return &it->value().get_array();
}

Result<std::string> StringAt(const json::object& o, std::string_view key, std::string_view path,
                             size_t max_bytes, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return InvalidArgument(fmt::format("{}: required", Field(path, key)));
    return std::string();
  }
  if (!it->value().is_string()) {
    return InvalidArgument(fmt::format("{}: must be a string", Field(path, key)));
  }
  const json::string& s = it->value().get_string();
  if (required && s.empty()) {
    return InvalidArgument(fmt::format("{}: must not be empty", Field(path, key)));
  }
  if (s.size() > max_bytes) {
    return InvalidArgument(fmt::format("{}: longer than {} bytes", Field(path, key), max_bytes));
  }
  return std::string(s);
}

bool BoolAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

// A Unix time in milliseconds (a non-negative JSON integer); nullopt when absent.
Result<std::optional<int64_t>> MillisAt(const json::object& o, std::string_view key,
                                        std::string_view path, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return InvalidArgument(fmt::format("{}: required", Field(path, key)));
    return std::optional<int64_t>();
  }
  int64_t v = -1;
  if (it->value().is_int64()) v = it->value().get_int64();
  if (it->value().is_uint64() && it->value().get_uint64() <= uint64_t(kMaxJsonSafeInteger)) {
    v = static_cast<int64_t>(it->value().get_uint64());
  }
  if (v < 0 || v > kMaxUnixMillis) {
    return InvalidArgument(
        fmt::format("{}: must be a non-negative integer (milliseconds)", Field(path, key)));
  }
  return std::optional<int64_t>(v);
}

Result<double> NumberAt(const json::object& o, std::string_view key, std::string_view path) {
  auto it = o.find(key);
  if (it == o.end()) return InvalidArgument(fmt::format("{}: required", Field(path, key)));
  const json::value& v = it->value();
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return InvalidArgument(fmt::format("{}: must be a number", Field(path, key)));
}

// What every event of one entry shares.
struct EventContext {
  std::string contact_id;       // sender.id
  std::string identity;         // recipient.id, else entry.id
  std::string timestamp_text;   // for derived ids
  std::optional<TimePoint> at;  // timestamp
};

// One attachment, classified.
struct ParsedAttachment {
  std::string type;                // Meta's type name
  std::optional<MediaKind> media;  // image/video/audio/file with a URL
  std::string url;
  std::optional<LocationContent> location;
};

std::optional<MediaKind> MediaKindOf(std::string_view type) {
  if (type == "image") return MediaKind::kImage;
  if (type == "video") return MediaKind::kVideo;
  if (type == "audio") return MediaKind::kAudio;
  if (type == "file") return MediaKind::kFile;
  return std::nullopt;
}

Status CheckHttpUrl(std::string_view url, std::string_view path) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty()) {
    return InvalidArgument(fmt::format("{}: must be an http(s) URL", path));
  }
  return OkStatus();
}

// The file name at the end of a CDN URL's path ("…/report.pdf?…" gives "report.pdf"), or "".
std::string FileNameOf(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {};
  std::string path = parsed->path();
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.find('.') == std::string::npos || name.size() > 255) return {};
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return {};
  }
  return name;
}

Result<ParsedAttachment> ParseAttachment(const json::object& a, std::string_view path) {
  ParsedAttachment out;
  PARLEY_ASSIGN_OR_RETURN(out.type, StringAt(a, "type", path, kMaxTokenBytes, true));
  PARLEY_ASSIGN_OR_RETURN(const json::object* payload, ObjectAt(a, "payload", path));
  std::string payload_path = Field(path, "payload");
  if (auto kind = MediaKindOf(out.type); kind && payload) {
    PARLEY_ASSIGN_OR_RETURN(out.url, StringAt(*payload, "url", payload_path, kMaxUrlBytes, false));
    if (!out.url.empty()) {
      PARLEY_RETURN_IF_ERROR(CheckHttpUrl(out.url, Field(payload_path, "url")));
      out.media = *kind;
      if (*kind == MediaKind::kImage && payload->contains("sticker_id")) {
        out.media = MediaKind::kSticker;
      }
    }
  } else if (out.type == "location" && payload) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* coordinates,
                            ObjectAt(*payload, "coordinates", payload_path));
    if (coordinates) {
      std::string cpath = Field(payload_path, "coordinates");
      LocationContent location;
      PARLEY_ASSIGN_OR_RETURN(location.latitude, NumberAt(*coordinates, "lat", cpath));
      PARLEY_ASSIGN_OR_RETURN(location.longitude, NumberAt(*coordinates, "long", cpath));
      PARLEY_ASSIGN_OR_RETURN(location.name, StringAt(a, "title", path, kMaxStringBytes, false));
      PARLEY_RETURN_IF_ERROR(ValidateContent(location, cpath));
      out.location = std::move(location);
    }
  }
  return out;
}

// Attachments to content: all media -> one MediaContent (mixed kinds become kFile); one
// location -> LocationContent; anything else -> UnsupportedContent named after the first
// attachment that is neither.
Result<Content> AttachmentsContent(const json::array& attachments, std::string_view path,
                                   const std::string& text, std::vector<MediaRef>& media) {
  std::vector<ParsedAttachment> parsed;
  for (size_t i = 0; i < attachments.size(); ++i) {
    std::string p = Index(path, i);
    if (!attachments[i].is_object())
      return InvalidArgument(fmt::format("{}: must be an object", p));
    PARLEY_ASSIGN_OR_RETURN(ParsedAttachment a, ParseAttachment(attachments[i].get_object(), p));
    parsed.push_back(std::move(a));
  }
  if (parsed.size() == 1 && parsed[0].location) return Content(*parsed[0].location);
  for (const ParsedAttachment& a : parsed) {
    if (!a.media) {
      // A media attachment without a URL (expired, or Instagram's unsupported media), a
      // location among others, fallback, template, share, story_mention, reel, …
      return Content(UnsupportedContent{
          .provider_type = a.type,
          .description = MediaKindOf(a.type) ? "an attachment without a URL" : ""});
    }
  }
  if (parsed.size() > kMaxListItems) {
    return Content(
        UnsupportedContent{.provider_type = "attachments",
                           .description = fmt::format("more than {} attachments", kMaxListItems)});
  }
  MediaContent content;
  content.kind = *parsed[0].media;
  for (const ParsedAttachment& a : parsed) {
    if (*a.media != content.kind) content.kind = MediaKind::kFile;
  }
  for (const ParsedAttachment& a : parsed) {
    std::string filename = content.kind == MediaKind::kFile ? FileNameOf(a.url) : std::string();
    Attachment attachment;
    attachment.filename = filename;
    content.attachments.push_back(std::move(attachment));
    MediaRef ref;
    ref.ref = a.url;
    ref.filename = std::move(filename);
    media.push_back(std::move(ref));
  }
  content.caption = text;
  return Content(std::move(content));
}

Status ParseMessage(const json::object& m, const EventContext& ctx, std::string_view path,
                    InboundBatch& batch) {
  // Echoes are Parley's own sends (or the page's from another app); Instagram reports an
  // unsent message as is_deleted. Neither is a customer message.
  if (BoolAt(m, "is_echo") || BoolAt(m, "is_deleted")) {
    ++batch.ignored;
    return OkStatus();
  }
  InboundMessage in;
  in.contact_id = ctx.contact_id;
  in.client_identity = ctx.identity;
  in.sent_at = ctx.at;
  PARLEY_ASSIGN_OR_RETURN(in.provider_message_id,
                          StringAt(m, "mid", path, kMaxProviderIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(std::string text, StringAt(m, "text", path, kMaxTextBytes, false));
  PARLEY_ASSIGN_OR_RETURN(const json::object* reply_to, ObjectAt(m, "reply_to", path));
  if (reply_to) {
    // Instagram's story replies carry reply_to.story instead of a mid: no message to link.
    PARLEY_ASSIGN_OR_RETURN(
        in.reply_to_provider_id,
        StringAt(*reply_to, "mid", Field(path, "reply_to"), kMaxProviderIdBytes, false));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::object* quick_reply, ObjectAt(m, "quick_reply", path));
  PARLEY_ASSIGN_OR_RETURN(const json::array* attachments, ArrayAt(m, "attachments", path));
  if (quick_reply) {
    ReplyContent reply;
    reply.source = ReplySource::kQuickReply;
    PARLEY_ASSIGN_OR_RETURN(
        reply.payload,
        StringAt(*quick_reply, "payload", Field(path, "quick_reply"), kMaxStringBytes, false));
    if (text.size() > kMaxStringBytes) {
      return InvalidArgument(
          fmt::format("{}: longer than {} bytes", Field(path, "text"), kMaxStringBytes));
    }
    reply.title = text.empty() ? reply.payload : text;
    if (reply.title.empty()) {
      return InvalidArgument(fmt::format("{}: required", Field(path, "quick_reply.payload")));
    }
    in.content = std::move(reply);
  } else if (attachments && !attachments->empty()) {
    PARLEY_ASSIGN_OR_RETURN(
        in.content, AttachmentsContent(*attachments, Field(path, "attachments"), text, in.media));
  } else if (!text.empty()) {
    in.content = TextContent{.text = std::move(text)};
  } else {
    in.content =
        UnsupportedContent{.provider_type = BoolAt(m, "is_unsupported") ? "unsupported" : "message",
                           .description = "a message without text or attachments"};
  }
  batch.messages.push_back(std::move(in));
  return OkStatus();
}

Status ParsePostback(const json::object& p, const EventContext& ctx, std::string_view path,
                     InboundBatch& batch) {
  InboundMessage in;
  in.contact_id = ctx.contact_id;
  in.client_identity = ctx.identity;
  in.sent_at = ctx.at;
  ReplyContent reply;
  reply.source = ReplySource::kPostback;
  PARLEY_ASSIGN_OR_RETURN(reply.title, StringAt(p, "title", path, kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(reply.payload, StringAt(p, "payload", path, kMaxStringBytes, false));
  if (reply.title.empty()) reply.title = reply.payload;
  if (reply.title.empty())
    return InvalidArgument(fmt::format("{}: required", Field(path, "title")));
  PARLEY_ASSIGN_OR_RETURN(std::string mid, StringAt(p, "mid", path, kMaxProviderIdBytes, false));
  // Older postbacks have no mid; Meta retries the same event, so derive a stable id from it.
  in.provider_message_id =
      !mid.empty() ? mid
                   : DerivedEventId("postback", {ctx.identity, ctx.contact_id, ctx.timestamp_text,
                                                 reply.payload, reply.title});
  in.content = std::move(reply);
  batch.messages.push_back(std::move(in));
  return OkStatus();
}

Status ParseReaction(const json::object& r, const EventContext& ctx, std::string_view path,
                     InboundBatch& batch) {
  PARLEY_ASSIGN_OR_RETURN(std::string mid, StringAt(r, "mid", path, kMaxProviderIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(std::string action, StringAt(r, "action", path, kMaxTokenBytes, false));
  PARLEY_ASSIGN_OR_RETURN(std::string emoji, StringAt(r, "emoji", path, kMaxTokenBytes, false));
  if (action.empty()) action = "react";
  if (action != "react" && action != "unreact") {
    return InvalidArgument(fmt::format("{}: must be react or unreact", Field(path, "action")));
  }
  InboundMessage in;
  in.contact_id = ctx.contact_id;
  in.client_identity = ctx.identity;
  in.sent_at = ctx.at;
  in.provider_message_id = DerivedEventId(
      "reaction", {ctx.identity, ctx.contact_id, ctx.timestamp_text, mid, action, emoji});
  if (action == "unreact" || !emoji.empty()) {
    ReactionContent reaction;
    if (action == "react") reaction.emoji = std::move(emoji);
    reaction.target_provider_message_id = std::move(mid);
    in.content = std::move(reaction);
  } else {
    in.content = UnsupportedContent{.provider_type = "reaction",
                                    .description = "a reaction without an emoji"};
  }
  batch.messages.push_back(std::move(in));
  return OkStatus();
}

InboundStatus WatermarkStatus(const EventContext& ctx, DeliveryStatus status, int64_t watermark) {
  InboundStatus s;
  s.status = status;
  s.at = ctx.at ? ctx.at : std::optional<TimePoint>(FromUnixMillis(watermark));
  s.client_identity = ctx.identity;
  s.watermark = FromUnixMillis(watermark);
  s.contact_id = ctx.contact_id;
  return s;
}

Status ParseDelivery(const json::object& d, const EventContext& ctx, std::string_view path,
                     InboundBatch& batch) {
  PARLEY_ASSIGN_OR_RETURN(const json::array* mids, ArrayAt(d, "mids", path));
  bool has_mids = mids && !mids->empty();
  PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> watermark,
                          MillisAt(d, "watermark", path, !has_mids));
  if (!has_mids) {
    batch.statuses.push_back(WatermarkStatus(ctx, DeliveryStatus::kDelivered, *watermark));
    return OkStatus();
  }
  if (mids->size() > kMaxDeliveryMids) {
    return InvalidArgument(
        fmt::format("{}: at most {} items", Field(path, "mids"), kMaxDeliveryMids));
  }
  for (size_t i = 0; i < mids->size(); ++i) {
    const json::value& v = (*mids)[i];
    std::string p = Index(Field(path, "mids"), i);
    if (!v.is_string() || v.get_string().empty() || v.get_string().size() > kMaxProviderIdBytes) {
      return InvalidArgument(fmt::format("{}: must be a message id", p));
    }
    InboundStatus s;
    s.provider_message_id = std::string(v.get_string());
    s.status = DeliveryStatus::kDelivered;
    s.at = ctx.at
               ? ctx.at
               : (watermark ? std::optional<TimePoint>(FromUnixMillis(*watermark)) : std::nullopt);
    s.client_identity = ctx.identity;
    batch.statuses.push_back(std::move(s));
  }
  return OkStatus();
}

Status ParseEvent(const json::object& event, const std::string& entry_id, std::string_view path,
                  InboundBatch& batch) {
  EventContext ctx;
  PARLEY_ASSIGN_OR_RETURN(const json::object* sender, ObjectAt(event, "sender", path));
  if (!sender) return InvalidArgument(fmt::format("{}: required", Field(path, "sender")));
  PARLEY_ASSIGN_OR_RETURN(
      ctx.contact_id, StringAt(*sender, "id", Field(path, "sender"), kMaxProviderIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(const json::object* recipient, ObjectAt(event, "recipient", path));
  if (recipient) {
    PARLEY_ASSIGN_OR_RETURN(ctx.identity, StringAt(*recipient, "id", Field(path, "recipient"),
                                                   kMaxProviderIdBytes, false));
  }
  if (ctx.identity.empty()) ctx.identity = entry_id;
  PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> timestamp,
                          MillisAt(event, "timestamp", path, false));
  if (timestamp) {
    ctx.at = FromUnixMillis(*timestamp);
    ctx.timestamp_text = std::to_string(*timestamp);
  }

  PARLEY_ASSIGN_OR_RETURN(const json::object* message, ObjectAt(event, "message", path));
  if (message) return ParseMessage(*message, ctx, Field(path, "message"), batch);
  PARLEY_ASSIGN_OR_RETURN(const json::object* postback, ObjectAt(event, "postback", path));
  if (postback) return ParsePostback(*postback, ctx, Field(path, "postback"), batch);
  PARLEY_ASSIGN_OR_RETURN(const json::object* reaction, ObjectAt(event, "reaction", path));
  if (reaction) return ParseReaction(*reaction, ctx, Field(path, "reaction"), batch);
  PARLEY_ASSIGN_OR_RETURN(const json::object* delivery, ObjectAt(event, "delivery", path));
  if (delivery) return ParseDelivery(*delivery, ctx, Field(path, "delivery"), batch);
  PARLEY_ASSIGN_OR_RETURN(const json::object* read, ObjectAt(event, "read", path));
  if (read) {
    PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> watermark,
                            MillisAt(*read, "watermark", Field(path, "read"), true));
    batch.statuses.push_back(WatermarkStatus(ctx, DeliveryStatus::kRead, *watermark));
    return OkStatus();
  }
  // optin, referral, account_linking, policy_enforcement, message_edit, … (not messages).
  ++batch.ignored;
  return OkStatus();
}

}  // namespace

std::string DerivedEventId(std::string_view prefix, std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view part : parts) {
    joined.append(part);
    joined.push_back('\n');
  }
  return fmt::format("{}.{}", prefix, crypto::HexEncode(crypto::Sha256(joined)).substr(0, 32));
}

Result<InboundBatch> ParseMessagingWebhook(std::string_view body, const Flavor& flavor) {
  // Read in an arena on the stack: the tree lives only until the batch is built from it.
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  PARLEY_ASSIGN_OR_RETURN(json::value parsed, ParseBoundedJson(body, kMaxMessageJsonBytes, &arena));
  if (!parsed.is_object()) return InvalidArgument("body: must be a JSON object");
  const json::object& root = parsed.get_object();
  auto object_it = root.find("object");
  if (object_it == root.end() || !object_it->value().is_string() ||
      object_it->value().get_string() != flavor.object) {
    return InvalidArgument(fmt::format("object: must be \"{}\"", flavor.object));
  }
  auto entries_it = root.find("entry");
  if (entries_it == root.end() || !entries_it->value().is_array()) {
    return InvalidArgument("entry: required array");
  }
  const json::array& entries = entries_it->value().get_array();
  InboundBatch batch;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string path = Index("entry", i);
    if (!entries[i].is_object()) return InvalidArgument(fmt::format("{}: must be an object", path));
    const json::object& entry = entries[i].get_object();
    PARLEY_ASSIGN_OR_RETURN(std::string entry_id,
                            StringAt(entry, "id", path, kMaxProviderIdBytes, false));
    PARLEY_ASSIGN_OR_RETURN(const json::array* messaging, ArrayAt(entry, "messaging", path));
    if (!messaging) {
      // `standby` (another app holds the thread) and `changes` (Instagram comments and
      // mentions) are not conversations Parley answers.
      for (std::string_view key : {"standby", "changes"}) {
        PARLEY_ASSIGN_OR_RETURN(const json::array* other, ArrayAt(entry, key, path));
        if (other) batch.ignored += static_cast<int>(other->size());
      }
      continue;
    }
    for (size_t j = 0; j < messaging->size(); ++j) {
      std::string event_path = Index(Field(path, "messaging"), j);
      if (!(*messaging)[j].is_object()) {
        return InvalidArgument(fmt::format("{}: must be an object", event_path));
      }
      PARLEY_RETURN_IF_ERROR(ParseEvent((*messaging)[j].get_object(), entry_id, event_path, batch));
    }
  }
  return batch;
}

}  // namespace parley::channels::messenger

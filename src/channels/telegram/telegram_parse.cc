// Inbound parsing for the telegram channel: one Update -> an InboundBatch
// (docs/channels/telegram.md, "Inbound"). Ids follow the scheme in telegram_adapter.h.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <tuple>

#include "channels/telegram/telegram_adapter.h"

namespace parley::channels::telegram {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNameBytes = 256;

std::string Path(std::string_view base, std::string_view key) {
  return base.empty() ? std::string(key) : fmt::format("{}.{}", base, key);
}

// An optional object member; kInvalidArgument when present with another type.
Result<const json::object*> OptionalObject(const json::object& o, std::string_view key,
                                           std::string_view path) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) {
    return InvalidArgument(fmt::format("{}: must be an object", Path(path, key)));
  }
  return &it->value().get_object();
}

Result<const json::object*> RequiredObject(const json::object& o, std::string_view key,
                                           std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::object* obj, OptionalObject(o, key, path));
  if (obj == nullptr) return InvalidArgument(fmt::format("{}: required", Path(path, key)));
  return obj;
}

// An integer that fits int64 (Telegram's chat ids reach 52 bits and are negative for groups).
Result<std::optional<int64_t>> OptionalInt(const json::object& o, std::string_view key,
                                           std::string_view path) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  if (it->value().is_int64()) return std::optional<int64_t>(it->value().get_int64());
  if (it->value().is_uint64() &&
      it->value().get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::optional<int64_t>(static_cast<int64_t>(it->value().get_uint64()));
  }
  return InvalidArgument(fmt::format("{}: must be an integer", Path(path, key)));
}

Result<int64_t> RequiredInt(const json::object& o, std::string_view key, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> v, OptionalInt(o, key, path));
  if (!v) return InvalidArgument(fmt::format("{}: required", Path(path, key)));
  return *v;
}

Result<std::string> String(const json::object& o, std::string_view key, std::string_view path,
                           size_t max, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return InvalidArgument(fmt::format("{}: required", Path(path, key)));
    return std::string();
  }
  if (!it->value().is_string()) {
    return InvalidArgument(fmt::format("{}: must be a string", Path(path, key)));
  }
  const json::string& s = it->value().get_string();
  if (required && s.empty()) return InvalidArgument(fmt::format("{}: required", Path(path, key)));
  if (s.size() > max) {
    return InvalidArgument(fmt::format("{}: longer than {} bytes", Path(path, key), max));
  }
  return std::string(s);
}

std::string FullName(std::string first, std::string_view last) {
  if (!last.empty()) {
    if (!first.empty()) first += " ";
    first += last;
  }
  return first;
}

Result<std::string> PersonName(const json::object& person, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(std::string first,
                          String(person, "first_name", path, kMaxNameBytes, false));
  PARLEY_ASSIGN_OR_RETURN(std::string last,
                          String(person, "last_name", path, kMaxNameBytes, false));
  return FullName(std::move(first), last);
}

// One file of a message: its file_id as the MediaRef, the declared type and name.
struct FileSpec {
  std::string_view key;  // "document", "voice", …
  MediaKind kind;
  std::string_view default_mime;  // when the message does not say
};

Result<InboundMessage> WithFile(InboundMessage m, const json::object& file, std::string_view path,
                                MediaKind kind, std::string mime, std::string caption) {
  PARLEY_ASSIGN_OR_RETURN(std::string file_id,
                          String(file, "file_id", path, kMaxFileIdBytes, true));
  if (!IsTokenChars(file_id)) {
    return InvalidArgument(fmt::format("{}.file_id: must be letters, digits, '-' or '_'", path));
  }
  PARLEY_ASSIGN_OR_RETURN(std::string filename,
                          String(file, "file_name", path, kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(std::string declared,
                          String(file, "mime_type", path, kMaxMimeTypeBytes, false));
  size_t slash = declared.find('/');
  if (slash != std::string::npos && slash > 0 && slash + 1 < declared.size() &&
      declared.find(' ') == std::string::npos) {
    mime = declared;
  }
  MediaContent media;
  media.kind = kind;
  media.caption = std::move(caption);
  Attachment a;
  a.mime_type = mime;
  a.filename = filename;
  media.attachments.push_back(std::move(a));
  m.media.push_back(
      MediaRef{.ref = file_id, .mime_type = mime, .filename = filename, .sha256 = {}});
  m.content = std::move(media);
  return m;
}

Result<LocationContent> Location(const json::object& o, std::string_view path) {
  LocationContent l;
  for (auto [key, limit, out] :
       {std::tuple{"latitude", 90.0, &l.latitude}, std::tuple{"longitude", 180.0, &l.longitude}}) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_number()) {
      return InvalidArgument(fmt::format("{}.{}: required number", path, key));
    }
    double d = it->value().to_number<double>();
    if (!(d >= -limit && d <= limit)) {
      return InvalidArgument(
          fmt::format("{}.{}: must be between -{} and {}", path, key, limit, limit));
    }
    *out = d;
  }
  return l;
}

// Service messages (members joining, titles changing, pins, …): not customer messages.
constexpr std::string_view kServiceKeys[] = {
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "write_access_allowed",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "users_shared",
    "chat_shared",
    "successful_payment",
    "refunded_payment",
    "connected_website",
};

// Customer content Parley does not map; the first found names the UnsupportedContent.
constexpr std::string_view kUnsupportedKeys[] = {
    "poll",       "dice",      "game",          "story", "invoice", "giveaway", "giveaway_winners",
    "paid_media", "checklist", "passport_data",
};

// The message at `path` of an update; nullopt for a service message (counted as ignored).
Result<std::optional<InboundMessage>> ParseMessage(const json::object& msg, std::string_view path,
                                                   bool edited) {
  InboundMessage m;
  PARLEY_ASSIGN_OR_RETURN(int64_t message_id, RequiredInt(msg, "message_id", path));
  PARLEY_ASSIGN_OR_RETURN(const json::object* chat, RequiredObject(msg, "chat", path));
  std::string chat_path = Path(path, "chat");
  PARLEY_ASSIGN_OR_RETURN(int64_t chat_id, RequiredInt(*chat, "id", chat_path));
  PARLEY_ASSIGN_OR_RETURN(const json::object* from, OptionalObject(msg, "from", path));
  for (std::string_view key : kServiceKeys) {
    if (msg.contains(key)) return std::optional<InboundMessage>();
  }
  m.contact_id = std::to_string(chat_id);
  PARLEY_ASSIGN_OR_RETURN(std::string chat_type,
                          String(*chat, "type", chat_path, kMaxTokenBytes, false));
  if (chat_type == "group" || chat_type == "supergroup" || chat_type == "channel") {
    // The conversation is the group's: name it after the group, not after one member.
    PARLEY_ASSIGN_OR_RETURN(m.contact_name,
                            String(*chat, "title", chat_path, kMaxNameBytes, false));
  } else if (from != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(m.contact_name, PersonName(*from, Path(path, "from")));
  } else {
    PARLEY_ASSIGN_OR_RETURN(m.contact_name, PersonName(*chat, chat_path));
  }
  PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> date, OptionalInt(msg, "date", path));
  if (edited) {
    PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> edit_date, OptionalInt(msg, "edit_date", path));
    // Telegram retries an edit with the same edit_date, so the id dedupes retries while each
    // new edit is a message of its own.
    m.provider_message_id =
        fmt::format("{}:{}:e{}", chat_id, message_id, edit_date.value_or(date.value_or(0)));
    if (edit_date) date = edit_date;
  } else {
    m.provider_message_id = fmt::format("{}:{}", chat_id, message_id);
  }
  if (date && *date > 0 && *date <= kMaxUnixMillis / 1000) m.sent_at = FromUnixMillis(*date * 1000);
  PARLEY_ASSIGN_OR_RETURN(const json::object* reply, OptionalObject(msg, "reply_to_message", path));
  if (reply != nullptr) {
    std::string reply_path = Path(path, "reply_to_message");
    PARLEY_ASSIGN_OR_RETURN(int64_t reply_id, RequiredInt(*reply, "message_id", reply_path));
    int64_t reply_chat = chat_id;
    PARLEY_ASSIGN_OR_RETURN(const json::object* rc, OptionalObject(*reply, "chat", reply_path));
    if (rc != nullptr) {
      PARLEY_ASSIGN_OR_RETURN(reply_chat, RequiredInt(*rc, "id", Path(reply_path, "chat")));
    }
    m.reply_to_provider_id = fmt::format("{}:{}", reply_chat, reply_id);
  }

  PARLEY_ASSIGN_OR_RETURN(std::string caption, String(msg, "caption", path, kMaxTextBytes, false));
  if (msg.contains("text")) {
    PARLEY_ASSIGN_OR_RETURN(std::string text, String(msg, "text", path, kMaxTextBytes, true));
    m.content = TextContent{std::move(text)};
    return std::optional<InboundMessage>(std::move(m));
  }
  if (auto it = msg.find("photo"); it != msg.end()) {
    std::string photo_path = Path(path, "photo");
    if (!it->value().is_array() || it->value().get_array().empty()) {
      return InvalidArgument(fmt::format("{}: must be a non-empty array", photo_path));
    }
    // The sizes come smallest first; pick the largest by area in case they do not.
    const json::object* best = nullptr;
    int64_t best_area = -1;
    for (const json::value& size : it->value().get_array()) {
      if (!size.is_object()) {
        return InvalidArgument(fmt::format("{}: must hold PhotoSize objects", photo_path));
      }
      PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> w,
                              OptionalInt(size.get_object(), "width", photo_path));
      PARLEY_ASSIGN_OR_RETURN(std::optional<int64_t> h,
                              OptionalInt(size.get_object(), "height", photo_path));
      // Bounded both ways: a negative size (hostile input) counts as none.
      int64_t area = std::clamp<int64_t>(w.value_or(0), 0, 1 << 20) *
                     std::clamp<int64_t>(h.value_or(0), 0, 1 << 20);
      if (area >= best_area) {
        best_area = area;
        best = &size.get_object();
      }
    }
    if (!best) return InvalidArgument(fmt::format("{}: must not be empty", photo_path));
    PARLEY_ASSIGN_OR_RETURN(InboundMessage out,
                            WithFile(std::move(m), *best, photo_path, MediaKind::kImage,
                                     "image/jpeg", std::move(caption)));
    return std::optional<InboundMessage>(std::move(out));
  }
  // An animation also carries the same file as `document`, so it is checked first.
  static constexpr FileSpec kFiles[] = {
      {"animation", MediaKind::kVideo, "video/mp4"},
      {"video", MediaKind::kVideo, "video/mp4"},
      {"video_note", MediaKind::kVideo, "video/mp4"},
      {"voice", MediaKind::kAudio, "audio/ogg"},
      {"audio", MediaKind::kAudio, "audio/mpeg"},
      {"document", MediaKind::kFile, "application/octet-stream"},
      {"sticker", MediaKind::kSticker, "image/webp"},
  };
  for (const FileSpec& spec : kFiles) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* file, OptionalObject(msg, spec.key, path));
    if (file == nullptr) continue;
    std::string mime(spec.default_mime);
    if (spec.key == "sticker") {
      auto flag = [&](std::string_view k) {
        auto f = file->find(k);
        return f != file->end() && f->value().is_bool() && f->value().get_bool();
      };
      if (flag("is_animated")) mime = "application/x-tgsticker";
      if (flag("is_video")) mime = "video/webm";
    }
    PARLEY_ASSIGN_OR_RETURN(InboundMessage out, WithFile(std::move(m), *file, Path(path, spec.key),
                                                         spec.kind, mime, std::move(caption)));
    return std::optional<InboundMessage>(std::move(out));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::object* venue, OptionalObject(msg, "venue", path));
  if (venue != nullptr) {
    std::string venue_path = Path(path, "venue");
    PARLEY_ASSIGN_OR_RETURN(const json::object* where,
                            RequiredObject(*venue, "location", venue_path));
    PARLEY_ASSIGN_OR_RETURN(LocationContent l, Location(*where, Path(venue_path, "location")));
    PARLEY_ASSIGN_OR_RETURN(l.name, String(*venue, "title", venue_path, kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(l.address,
                            String(*venue, "address", venue_path, kMaxStringBytes, false));
    m.content = std::move(l);
    return std::optional<InboundMessage>(std::move(m));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::object* location, OptionalObject(msg, "location", path));
  if (location != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(LocationContent l, Location(*location, Path(path, "location")));
    m.content = std::move(l);
    return std::optional<InboundMessage>(std::move(m));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::object* contact, OptionalObject(msg, "contact", path));
  if (contact != nullptr) {
    std::string contact_path = Path(path, "contact");
    ContactCard card;
    PARLEY_ASSIGN_OR_RETURN(card.name.first,
                            String(*contact, "first_name", contact_path, kMaxNameBytes, true));
    PARLEY_ASSIGN_OR_RETURN(card.name.last,
                            String(*contact, "last_name", contact_path, kMaxNameBytes, false));
    card.name.formatted = FullName(card.name.first, card.name.last);
    PARLEY_ASSIGN_OR_RETURN(std::string phone,
                            String(*contact, "phone_number", contact_path, kMaxNameBytes, false));
    if (!phone.empty()) card.phones.push_back(ContactPhone{phone, ""});
    m.content = ContactContent{{std::move(card)}};
    return std::optional<InboundMessage>(std::move(m));
  }
  std::string type = "message";
  for (std::string_view key : kUnsupportedKeys) {
    if (msg.contains(key)) {
      type = std::string(key);
      break;
    }
  }
  m.content = UnsupportedContent{type, caption.empty() ? "" : "with a caption"};
  return std::optional<InboundMessage>(std::move(m));
}

// The text of the inline button whose callback_data is `data`, in the message that carried it.
std::string ButtonText(const json::object* message, std::string_view data) {
  if (message == nullptr) return {};
  auto markup = message->find("reply_markup");
  if (markup == message->end() || !markup->value().is_object()) return {};
  auto keyboard = markup->value().get_object().find("inline_keyboard");
  if (keyboard == markup->value().get_object().end() || !keyboard->value().is_array()) return {};
  for (const json::value& row : keyboard->value().get_array()) {
    if (!row.is_array()) continue;
    for (const json::value& button : row.get_array()) {
      if (!button.is_object()) continue;
      const json::object& b = button.get_object();
      auto cd = b.find("callback_data");
      auto text = b.find("text");
      if (cd != b.end() && cd->value().is_string() && cd->value().get_string() == data &&
          text != b.end() && text->value().is_string() &&
          text->value().get_string().size() <= kMaxStringBytes) {
        return std::string(text->value().get_string());
      }
    }
  }
  return {};
}

Result<InboundMessage> ParseCallback(const json::object& q, std::string& ack_data) {
  constexpr std::string_view path = "callback_query";
  InboundMessage m;
  PARLEY_ASSIGN_OR_RETURN(std::string id, String(q, "id", path, kMaxFileIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(const json::object* from, RequiredObject(q, "from", path));
  PARLEY_ASSIGN_OR_RETURN(int64_t from_id, RequiredInt(*from, "id", "callback_query.from"));
  PARLEY_ASSIGN_OR_RETURN(m.contact_name, PersonName(*from, "callback_query.from"));
  PARLEY_ASSIGN_OR_RETURN(const json::object* message, OptionalObject(q, "message", path));
  int64_t chat_id = from_id;
  if (message != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* chat,
                            RequiredObject(*message, "chat", "callback_query.message"));
    PARLEY_ASSIGN_OR_RETURN(chat_id, RequiredInt(*chat, "id", "callback_query.message.chat"));
    PARLEY_ASSIGN_OR_RETURN(int64_t message_id,
                            RequiredInt(*message, "message_id", "callback_query.message"));
    m.reply_to_provider_id = fmt::format("{}:{}", chat_id, message_id);
  }
  m.contact_id = std::to_string(chat_id);
  // Callback query ids are unique, and a retried update carries the same one.
  m.provider_message_id = "cbq:" + id;
  PARLEY_ASSIGN_OR_RETURN(std::string data, String(q, "data", path, kMaxStringBytes, false));
  if (!data.empty()) {
    ReplyContent reply;
    reply.source = ReplySource::kButton;
    reply.payload = data;
    reply.title = ButtonText(message, data);
    if (reply.title.empty()) reply.title = data;
    m.content = std::move(reply);
  } else {
    m.content = UnsupportedContent{"callback_game", ""};
  }
  ack_data = id;
  return m;
}

}  // namespace

Result<InboundBatch> ParseUpdate(const json::object& update) {
  InboundBatch batch;
  PARLEY_ASSIGN_OR_RETURN(int64_t update_id, RequiredInt(update, "update_id", ""));
  (void)update_id;
  for (std::string_view key : {"message", "edited_message"}) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* msg, OptionalObject(update, key, ""));
    if (msg == nullptr) continue;
    PARLEY_ASSIGN_OR_RETURN(std::optional<InboundMessage> m,
                            ParseMessage(*msg, key, key == "edited_message"));
    if (m) {
      batch.messages.push_back(std::move(*m));
    } else {
      ++batch.ignored;
    }
    return batch;
  }
  PARLEY_ASSIGN_OR_RETURN(const json::object* query, OptionalObject(update, "callback_query", ""));
  if (query != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(InboundMessage m, ParseCallback(*query, batch.ack_data));
    batch.messages.push_back(std::move(m));
    return batch;
  }
  // channel_post (the bot's channel's own broadcasts), my_chat_member, chat_member,
  // inline_query, poll_answer, message_reaction, …: not customer messages of a conversation.
  ++batch.ignored;
  return batch;
}

}  // namespace parley::channels::telegram

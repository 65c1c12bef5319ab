// Outbound rendering for the telegram channel: each common content type becomes one Bot API
// call (docs/channels/telegram.md, "Outbound"); interactive content becomes a text message
// with an inline keyboard whose callback_data is the choice id.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "channels/telegram/telegram_adapter.h"
#include "core/message_json.h"

namespace parley::channels::telegram {

namespace json = boost::json;

namespace {

// Telegram measures text in UTF-16 code units.
size_t Utf16Units(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u & 0xc0) == 0x80) continue;
    n += u >= 0xf0 ? 2 : 1;
  }
  return n;
}

bool IsAbsoluteHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
         !parsed->host().empty();
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  s.resize(n);
  return s;
}

SendOutcome TooLong(std::string_view what, size_t units, size_t max) {
  return FailedPermanently(
      "too_long",
      fmt::format("the {} is {} characters; Telegram accepts at most {}", what, units, max));
}

SendOutcome Unsupported(std::string_view what) {
  return FailedPermanently("unsupported_content",
                           fmt::format("Telegram cannot send {} content", what));
}

std::string Paragraphs(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

// One inline keyboard row with one button; nullopt when the id is too long for
// callback_data.
std::optional<json::array> ButtonRow(std::string_view text, std::string_view id) {
  if (id.size() > kMaxCallbackDataBytes) return std::nullopt;
  return json::array{json::object{{"text", text}, {"callback_data", id}}};
}

SendOutcome PayloadTooLong() {
  return FailedPermanently(
      "payload_too_long",
      fmt::format("a choice id is longer than the {} bytes Telegram's callback_data holds",
                  kMaxCallbackDataBytes));
}

std::variant<ApiCall, SendOutcome> RenderInteractive(const InteractiveContent& c,
                                                     json::object params) {
  json::array keyboard;
  std::string extra;  // what the keyboard cannot show: section titles, descriptions, cards
  auto add = [&](std::string_view text, std::string_view id) {
    auto row = ButtonRow(text, id);
    if (!row) return false;
    keyboard.push_back(std::move(*row));
    return true;
  };
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      for (const Choice& choice : c.choices) {
        if (!add(choice.title, choice.id)) return PayloadTooLong();
      }
      break;
    case InteractiveKind::kList:
      for (const ListSection& section : c.list.sections) {
        std::string lines;
        for (const ListRow& row : section.rows) {
          if (!add(row.title, row.id)) return PayloadTooLong();
          if (!row.description.empty()) {
            lines += fmt::format("{}{}: {}", lines.empty() ? "" : "\n", row.title, row.description);
          }
        }
        std::string block = Paragraphs({section.title}) +
                            (section.title.empty() || lines.empty() ? "" : "\n") + lines;
        if (!block.empty()) extra += (extra.empty() ? "" : "\n\n") + block;
      }
      break;
    case InteractiveKind::kCarousel:
      for (const Card& card : c.cards) {
        std::string block = card.title;
        if (!card.subtitle.empty()) block += "\n" + card.subtitle;
        extra += (extra.empty() ? "" : "\n\n") + block;
        for (const Choice& button : card.buttons) {
          if (!add(fmt::format("{} – {}", card.title, button.title), button.id)) {
            return PayloadTooLong();
          }
        }
      }
      break;
  }
  std::string text = Paragraphs({c.header, c.body, extra, c.footer});
  if (size_t units = Utf16Units(text); units > kMaxTextUnits) {
    return TooLong("text", units, kMaxTextUnits);
  }
  params["text"] = text;
  if (!keyboard.empty()) params["reply_markup"] = json::object{{"inline_keyboard", keyboard}};
  return ApiCall{"sendMessage", std::move(params)};
}

std::string ContactsText(const ContactContent& c) {
  std::string out;
  for (const ContactCard& card : c.contacts) {
    if (!out.empty()) out += "\n\n";
    out += card.name.formatted;
    for (const ContactPhone& p : card.phones) out += "\n" + p.number;
    for (const ContactEmail& e : card.emails) out += "\n" + e.address;
  }
  return out;
}

// The method and parameter name for one file of `kind` ("sendPhoto", "photo").
std::pair<std::string_view, std::string_view> MediaMethod(MediaKind kind, std::string_view mime) {
  switch (kind) {
    case MediaKind::kImage:
      return {"sendPhoto", "photo"};
    case MediaKind::kVideo:
      return {"sendVideo", "video"};
    case MediaKind::kAudio:
      // Telegram plays OGG/Opus as a voice note; other audio is a music file.
      if (mime == "audio/ogg" || mime == "audio/opus") return {"sendVoice", "voice"};
      return {"sendAudio", "audio"};
    case MediaKind::kSticker:
      return {"sendSticker", "sticker"};
    case MediaKind::kFile:
      break;
  }
  return {"sendDocument", "document"};
}

std::variant<ApiCall, SendOutcome> RenderMedia(const MediaContent& media, json::object params) {
  for (const Attachment& a : media.attachments) {
    if (!IsAbsoluteHttpUrl(a.url)) {
      return FailedPermanently(
          "public_url_required",
          "Telegram fetches media from a public link; configure server.public_url");
    }
  }
  if (size_t units = Utf16Units(media.caption); units > kMaxCaptionUnits) {
    return TooLong("caption", units, kMaxCaptionUnits);
  }
  if (media.kind == MediaKind::kSticker && !media.caption.empty()) {
    return FailedPermanently("unsupported_content", "Telegram stickers carry no caption");
  }
  if (media.attachments.size() == 1) {
    auto [method, field] = MediaMethod(media.kind, media.attachments[0].mime_type);
    params[field] = media.attachments[0].url;
    if (!media.caption.empty()) params["caption"] = media.caption;
    return ApiCall{std::string(method), std::move(params)};
  }
  // Several files: one album (sendMediaGroup), the caption on its first item.
  if (media.kind == MediaKind::kSticker) {
    return FailedPermanently("unsupported_content", "Telegram sends one sticker per message");
  }
  json::array items;
  for (const Attachment& a : media.attachments) {
    auto [method, field] = MediaMethod(media.kind, a.mime_type);
    std::string_view type = field == "voice" ? "audio" : field;
    json::object item{{"type", type}, {"media", a.url}};
    if (items.empty() && !media.caption.empty()) item["caption"] = media.caption;
    items.push_back(std::move(item));
  }
  params["media"] = std::move(items);
  return ApiCall{"sendMediaGroup", std::move(params)};
}

}  // namespace

std::optional<std::pair<int64_t, int64_t>> SplitMessageId(std::string_view provider_id) {
  size_t colon = provider_id.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto chat = ParseInt(provider_id.substr(0, colon));
  auto message = ParseInt(provider_id.substr(colon + 1));
  if (!chat || !message) return std::nullopt;
  return std::make_pair(*chat, *message);
}

std::variant<ApiCall, SendOutcome> RenderCall(const OutboundRequest& request) {
  std::optional<int64_t> chat_id = ParseInt(request.contact_id);
  if (!chat_id) {
    return FailedPermanently("invalid_recipient", "the contact is not a Telegram chat id");
  }
  json::object params{{"chat_id", *chat_id}};
  if (auto reply = SplitMessageId(request.reply_to_provider_id);
      reply && reply->first == *chat_id) {
    params["reply_parameters"] =
        json::object{{"message_id", reply->second}, {"allow_sending_without_reply", true}};
  }
  const Content& content = request.message.content;
  auto text_message = [&](std::string text) -> std::variant<ApiCall, SendOutcome> {
    if (size_t units = Utf16Units(text); units > kMaxTextUnits) {
      return TooLong("text", units, kMaxTextUnits);
    }
    params["text"] = std::move(text);
    return ApiCall{"sendMessage", std::move(params)};
  };
  if (const auto* text = std::get_if<TextContent>(&content)) return text_message(text->text);
  if (const auto* media = std::get_if<MediaContent>(&content)) {
    return RenderMedia(*media, std::move(params));
  }
  if (const auto* location = std::get_if<LocationContent>(&content)) {
    params["latitude"] = location->latitude;
    params["longitude"] = location->longitude;
    if (!location->name.empty() && !location->address.empty()) {
      params["title"] = location->name;
      params["address"] = location->address;
      return ApiCall{"sendVenue", std::move(params)};
    }
    return ApiCall{"sendLocation", std::move(params)};
  }
  if (const auto* contacts = std::get_if<ContactContent>(&content)) {
    const ContactCard& card = contacts->contacts.at(0);
    if (contacts->contacts.size() == 1 && !card.phones.empty()) {
      params["phone_number"] = card.phones[0].number;
      params["first_name"] = card.name.first.empty() ? card.name.formatted : card.name.first;
      if (!card.name.first.empty() && !card.name.last.empty()) {
        params["last_name"] = card.name.last;
      }
      return ApiCall{"sendContact", std::move(params)};
    }
    // Several cards, or one without a phone: sendContact cannot carry them.
    return text_message(ContactsText(*contacts));
  }
  if (const auto* interactive = std::get_if<InteractiveContent>(&content)) {
    return RenderInteractive(*interactive, std::move(params));
  }
  if (const auto* system = std::get_if<SystemContent>(&content); system && !system->text.empty()) {
    return text_message(system->text);
  }
  return Unsupported(WireName(TypeOf(content)));
}

SendOutcome InterpretSendResponse(const http::ClientResponse& response, int64_t chat_id) {
  auto parsed = ParseBoundedJson(response.body, 256 * 1024);
  const json::object* body = parsed.ok() && parsed->is_object() ? &parsed->get_object() : nullptr;
  auto field = [&](const json::object* o, std::string_view key) -> const json::value* {
    if (o == nullptr) return nullptr;
    auto it = o->find(key);
    return it == o->end() ? nullptr : &it->value();
  };
  auto int_of = [](const json::value* v) -> int64_t {
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() < (uint64_t{1} << 62)) {
      return static_cast<int64_t>(v->get_uint64());
    }
    return 0;
  };
  const json::value* ok = field(body, "ok");
  if (response.status == 200 && ok != nullptr && ok->is_bool() && ok->get_bool()) {
    const json::value* result = field(body, "result");
    // sendMediaGroup answers with the album's messages: the first one stands for it.
    if (result != nullptr && result->is_array() && !result->get_array().empty()) {
      result = &result->get_array()[0];
    }
    const json::object* message =
        result != nullptr && result->is_object() ? &result->get_object() : nullptr;
    int64_t message_id = int_of(field(message, "message_id"));
    const json::value* chat = field(message, "chat");
    if (chat != nullptr && chat->is_object()) {
      if (int64_t id = int_of(field(&chat->get_object(), "id")); id != 0) chat_id = id;
    }
    if (message_id == 0) return SentAs("");
    return SentAs(fmt::format("{}:{}", chat_id, message_id));
  }
  int64_t code = int_of(field(body, "error_code"));
  std::string description;
  if (const json::value* d = field(body, "description"); d != nullptr && d->is_string()) {
    description = TruncateUtf8(std::string(d->get_string()), kMaxStringBytes);
  }
  const json::value* parameters = field(body, "parameters");
  const json::object* p =
      parameters != nullptr && parameters->is_object() ? &parameters->get_object() : nullptr;
  int64_t retry_after = int_of(field(p, "retry_after"));
  bool migrated = field(p, "migrate_to_chat_id") != nullptr;
  if (body == nullptr) {
    std::string wire = fmt::format("http_{}", response.status);
    std::string message = fmt::format("Telegram answered {}", response.status);
    if (response.status == 429 || response.status >= 500) {
      return RetryLater(std::move(wire), std::move(message),
                        RetryAfterHeader(response.Header("retry-after")));
    }
    return FailedPermanently(std::move(wire), std::move(message));
  }
  if (code == 0) code = response.status;
  std::string wire = fmt::format("telegram_{}", code);
  if (description.empty()) description = fmt::format("Telegram answered {}", response.status);
  if (retry_after > 0 || code == 429 || response.status == 429) {
    Millis wait = retry_after > 0 ? Millis(std::min<int64_t>(retry_after, 3600) * 1000)
                                  : RetryAfterHeader(response.Header("retry-after"));
    return RetryLater(std::move(wire), std::move(description), wait);
  }
  if (migrated) {
    return FailedPermanently(
        std::move(wire),
        "the group was upgraded to a supergroup with a new chat id (migrate_to_chat_id); "
        "messages to the old chat fail: " +
            description);
  }
  if (response.status >= 500 || code >= 500) {
    return RetryLater(std::move(wire), std::move(description));
  }
  return FailedPermanently(std::move(wire), std::move(description));
}

}  // namespace parley::channels::telegram

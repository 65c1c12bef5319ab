#include "channels/whatsapp/whatsapp_webhook.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "core/message_json.h"
#include "crypto/encoding.h"

namespace parley::channels::whatsapp {

namespace json = boost::json;

namespace {

// Year 9999 in unix seconds: anything later is not a timestamp.
constexpr int64_t kMaxUnixSeconds = kMaxUnixMillis / 1000;
constexpr size_t kMaxDigestChars = 128;

std::string Sub(std::string_view path, std::string_view key) {
  return fmt::format("{}.{}", path, key);
}

std::string At(std::string_view path, size_t i) { return fmt::format("{}[{}]", path, i); }

Status Bad(std::string_view path, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", path, what));
}

// The value under `key`, or nullptr when it is absent or null.
const json::value* Find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

Result<std::string> Str(const json::object& o, std::string_view key, std::string_view path,
                        size_t max, bool required) {
  const json::value* v = Find(o, key);
  std::string p = Sub(path, key);
  if (v == nullptr) {
    if (required) return Bad(p, "required");
    return std::string();
  }
  if (!v->is_string()) return Bad(p, "must be a string");
  const json::string& s = v->get_string();
  if (required && s.empty()) return Bad(p, "required");
  if (s.size() > max) return Bad(p, fmt::format("longer than {} bytes", max));
  return std::string(s);
}

// nullptr when absent (and not required).
Result<const json::object*> Obj(const json::object& o, std::string_view key, std::string_view path,
                                bool required) {
  const json::value* v = Find(o, key);
  if (v == nullptr) {
    if (required) return Bad(Sub(path, key), "required");
    return static_cast<const json::object*>(nullptr);
  }
  if (!v->is_object()) return Bad(Sub(path, key), "must be an object");
  return &v->get_object();
}

// nullptr when absent.
Result<const json::array*> Arr(const json::object& o, std::string_view key, std::string_view path) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return static_cast<const json::array*>(nullptr);
  if (!v->is_array()) return Bad(Sub(path, key), "must be an array");
  return &v->get_array();
}

Result<const json::object*> Element(const json::array& a, size_t i, std::string_view path) {
  if (!a[i].is_object()) return Bad(At(path, i), "must be an object");
  return &a[i].get_object();
}

// Meta sends unix seconds as a string ("1749416383"); a number is accepted too.
Result<std::optional<TimePoint>> Timestamp(const json::object& o, std::string_view key,
                                           std::string_view path) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return std::optional<TimePoint>();
  std::string p = Sub(path, key);
  int64_t seconds = -1;
  if (v->is_string()) {
    std::string_view s = v->get_string();
    if (s.empty() || s.size() > 12) return Bad(p, "must be unix seconds");
    seconds = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return Bad(p, "must be unix seconds");
      seconds = seconds * 10 + (c - '0');
    }
  } else if (v->is_int64()) {
    seconds = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(kMaxUnixSeconds)) {
    seconds = static_cast<int64_t>(v->get_uint64());
  } else {
    return Bad(p, "must be unix seconds");
  }
  if (seconds < 0 || seconds > kMaxUnixSeconds) return Bad(p, "out of range");
  return std::optional<TimePoint>(FromUnixMillis(seconds * 1000));
}

Result<double> Coordinate(const json::object& o, std::string_view key, std::string_view path,
                          double limit) {
  const json::value* v = Find(o, key);
  std::string p = Sub(path, key);
  if (v == nullptr) return Bad(p, "required");
  double d = 0;
  if (v->is_double()) {
    d = v->get_double();
  } else if (v->is_int64()) {
    d = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->get_uint64());
  } else {
    return Bad(p, "must be a number");
  }
  if (!std::isfinite(d) || d < -limit || d > limit) return Bad(p, "out of range");
  return d;
}

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > kMaxTokenBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// A declared MIME type worth keeping ("type/subtype…", printable ASCII); "" otherwise, and
// the type of the downloaded file is used.
std::string CleanMimeType(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size()) return {};
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return {};
  }
  return s;
}

// Meta's digests are base64 in webhooks (hex is accepted too); the common format keeps hex.
std::string DigestAsHex(std::string_view digest) {
  if (digest.size() == 64) {
    auto raw = crypto::HexDecode(digest);
    if (raw.ok()) return crypto::HexEncode(*raw);
  }
  auto raw = crypto::Base64Decode(digest);
  if (raw.ok() && raw->size() == 32) return crypto::HexEncode(*raw);
  return {};
}

struct ParsedContent {
  Content content;
  std::vector<MediaRef> media;
};

Result<ParsedContent> ParseMedia(const json::object& m, const std::string& type, MediaKind kind,
                                 std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::object* media, Obj(m, type, path, true));
  std::string p = Sub(path, type);
  MediaRef ref;
  PARLEY_ASSIGN_OR_RETURN(ref.ref, Str(*media, "id", p, kMaxIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(std::string mime, Str(*media, "mime_type", p, kMaxMimeTypeBytes, false));
  ref.mime_type = CleanMimeType(mime);
  PARLEY_ASSIGN_OR_RETURN(ref.sha256, Str(*media, "sha256", p, kMaxDigestChars, false));
  PARLEY_ASSIGN_OR_RETURN(ref.filename, Str(*media, "filename", p, kMaxStringBytes, false));
  MediaContent content;
  content.kind = kind;
  PARLEY_ASSIGN_OR_RETURN(content.caption, Str(*media, "caption", p, kMaxTextBytes, false));
  Attachment a;
  a.mime_type = ref.mime_type;
  a.filename = ref.filename;
  a.sha256 = DigestAsHex(ref.sha256);
  content.attachments.push_back(std::move(a));
  ParsedContent out{std::move(content), {}};
  out.media.push_back(std::move(ref));
  return out;
}

Result<Content> ParseLocation(const json::object& m, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::object* loc, Obj(m, "location", path, true));
  std::string p = Sub(path, "location");
  LocationContent c;
  PARLEY_ASSIGN_OR_RETURN(c.latitude, Coordinate(*loc, "latitude", p, 90));
  PARLEY_ASSIGN_OR_RETURN(c.longitude, Coordinate(*loc, "longitude", p, 180));
  PARLEY_ASSIGN_OR_RETURN(c.name, Str(*loc, "name", p, kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(c.address, Str(*loc, "address", p, kMaxStringBytes, false));
  return Content(std::move(c));
}

// One shared contact card; nullopt when it has neither a name nor a phone number.
Result<std::optional<ContactCard>> ParseContactCard(const json::object& o, std::string_view p) {
  ContactCard card;
  PARLEY_ASSIGN_OR_RETURN(const json::object* name, Obj(o, "name", p, false));
  if (name != nullptr) {
    std::string np = Sub(p, "name");
    PARLEY_ASSIGN_OR_RETURN(card.name.formatted,
                            Str(*name, "formatted_name", np, kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(card.name.first, Str(*name, "first_name", np, kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(card.name.last, Str(*name, "last_name", np, kMaxStringBytes, false));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::array* phones, Arr(o, "phones", p));
  for (size_t i = 0; phones != nullptr && i < phones->size(); ++i) {
    std::string pp = At(Sub(p, "phones"), i);
    PARLEY_ASSIGN_OR_RETURN(const json::object* phone, Element(*phones, i, Sub(p, "phones")));
    ContactPhone cp;
    PARLEY_ASSIGN_OR_RETURN(cp.number, Str(*phone, "phone", pp, kMaxStringBytes, false));
    if (cp.number.empty()) {
      PARLEY_ASSIGN_OR_RETURN(cp.number, Str(*phone, "wa_id", pp, kMaxContactIdBytes, false));
    }
    PARLEY_ASSIGN_OR_RETURN(std::string type, Str(*phone, "type", pp, kMaxTokenBytes, false));
    if (IsToken(type)) cp.type = Lower(type);
    // The common format holds kMaxListItems phones; a card with more keeps the first ones.
    if (!cp.number.empty() && card.phones.size() < kMaxListItems) {
      card.phones.push_back(std::move(cp));
    }
  }
  PARLEY_ASSIGN_OR_RETURN(const json::array* emails, Arr(o, "emails", p));
  for (size_t i = 0; emails != nullptr && i < emails->size(); ++i) {
    std::string ep = At(Sub(p, "emails"), i);
    PARLEY_ASSIGN_OR_RETURN(const json::object* email, Element(*emails, i, Sub(p, "emails")));
    ContactEmail ce;
    PARLEY_ASSIGN_OR_RETURN(ce.address, Str(*email, "email", ep, kMaxStringBytes, false));
    PARLEY_ASSIGN_OR_RETURN(std::string type, Str(*email, "type", ep, kMaxTokenBytes, false));
    if (IsToken(type)) ce.type = Lower(type);
    if (!ce.address.empty() && card.emails.size() < kMaxListItems) {
      card.emails.push_back(std::move(ce));
    }
  }
  if (card.name.formatted.empty()) {
    std::string joined = card.name.first;
    if (!joined.empty() && !card.name.last.empty()) joined += ' ';
    joined += card.name.last;
    if (joined.size() <= kMaxStringBytes) card.name.formatted = joined;
  }
  if (card.name.formatted.empty() && !card.phones.empty()) {
    card.name.formatted = card.phones.front().number;
  }
  if (card.name.formatted.empty()) return std::optional<ContactCard>();
  return std::optional<ContactCard>(std::move(card));
}

Result<Content> ParseContacts(const json::object& m, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::array* cards, Arr(m, "contacts", path));
  if (cards == nullptr) return Bad(Sub(path, "contacts"), "required");
  ContactContent c;
  for (size_t i = 0; i < cards->size() && c.contacts.size() < kMaxListItems; ++i) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* o, Element(*cards, i, Sub(path, "contacts")));
    PARLEY_ASSIGN_OR_RETURN(auto card, ParseContactCard(*o, At(Sub(path, "contacts"), i)));
    if (card) c.contacts.push_back(std::move(*card));
  }
  if (c.contacts.empty()) {
    return Content(UnsupportedContent{"contacts", "contact cards without name or phone"});
  }
  return Content(std::move(c));
}

// A choice the customer picked: `title` falls back to `id` when Meta leaves it out.
Result<Content> Reply(const json::object& o, std::string_view p, std::string_view id_key,
                      std::string_view title_key, ReplySource source) {
  ReplyContent r;
  r.source = source;
  PARLEY_ASSIGN_OR_RETURN(r.payload, Str(o, id_key, p, kMaxStringBytes, false));
  PARLEY_ASSIGN_OR_RETURN(r.title, Str(o, title_key, p, kMaxStringBytes, false));
  if (r.title.empty()) r.title = r.payload;
  if (r.title.empty()) return Bad(Sub(p, title_key), "required");
  return Content(std::move(r));
}

Result<Content> ParseInteractive(const json::object& m, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::object* in, Obj(m, "interactive", path, true));
  std::string p = Sub(path, "interactive");
  PARLEY_ASSIGN_OR_RETURN(std::string type, Str(*in, "type", p, kMaxTokenBytes, true));
  if (type == "button_reply" || type == "list_reply") {
    PARLEY_ASSIGN_OR_RETURN(const json::object* reply, Obj(*in, type, p, true));
    return Reply(*reply, Sub(p, type), "id", "title",
                 type == "button_reply" ? ReplySource::kButton : ReplySource::kList);
  }
  // nfm_reply (Flows) and whatever Meta adds next.
  UnsupportedContent u{"interactive", ""};
  if (IsToken(type)) u.description = "interactive type " + type;
  return Content(std::move(u));
}

Result<Content> ParseReaction(const json::object& m, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(const json::object* r, Obj(m, "reaction", path, true));
  std::string p = Sub(path, "reaction");
  ReactionContent c;
  PARLEY_ASSIGN_OR_RETURN(c.target_provider_message_id,
                          Str(*r, "message_id", p, kMaxIdBytes, true));
  // Meta sends no emoji (or "") when the customer removed the reaction.
  PARLEY_ASSIGN_OR_RETURN(c.emoji, Str(*r, "emoji", p, kMaxTokenBytes, false));
  return Content(std::move(c));
}

Result<ParsedContent> ParseContent(const json::object& m, const std::string& type,
                                   std::string_view path) {
  static const std::map<std::string, MediaKind, std::less<>> kMediaKinds = {
      {"image", MediaKind::kImage},     {"audio", MediaKind::kAudio},
      {"video", MediaKind::kVideo},     {"document", MediaKind::kFile},
      {"sticker", MediaKind::kSticker},
  };
  if (auto it = kMediaKinds.find(type); it != kMediaKinds.end()) {
    return ParseMedia(m, type, it->second, path);
  }
  ParsedContent out;
  if (type == "text") {
    PARLEY_ASSIGN_OR_RETURN(const json::object* text, Obj(m, "text", path, true));
    PARLEY_ASSIGN_OR_RETURN(std::string body,
                            Str(*text, "body", Sub(path, "text"), kMaxTextBytes, true));
    out.content = TextContent{std::move(body)};
  } else if (type == "location") {
    PARLEY_ASSIGN_OR_RETURN(out.content, ParseLocation(m, path));
  } else if (type == "contacts") {
    PARLEY_ASSIGN_OR_RETURN(out.content, ParseContacts(m, path));
  } else if (type == "interactive") {
    PARLEY_ASSIGN_OR_RETURN(out.content, ParseInteractive(m, path));
  } else if (type == "button") {
    // A quick-reply button of a template: {payload, text}.
    PARLEY_ASSIGN_OR_RETURN(const json::object* b, Obj(m, "button", path, true));
    PARLEY_ASSIGN_OR_RETURN(
        out.content, Reply(*b, Sub(path, "button"), "payload", "text", ReplySource::kQuickReply));
  } else if (type == "reaction") {
    PARLEY_ASSIGN_OR_RETURN(out.content, ParseReaction(m, path));
  } else {
    // order, system, unsupported, request_welcome, … : kept as a trace, never dropped.
    out.content = UnsupportedContent{type, ""};
  }
  return out;
}

using Names = std::map<std::string, std::string, std::less<>>;

Result<InboundMessage> ParseMessage(const json::object& m, std::string_view path,
                                    const Names& names, const std::string& identity) {
  InboundMessage in;
  in.client_identity = identity;
  PARLEY_ASSIGN_OR_RETURN(in.provider_message_id, Str(m, "id", path, kMaxIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(in.contact_id, Str(m, "from", path, kMaxContactIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(in.sent_at, Timestamp(m, "timestamp", path));
  PARLEY_ASSIGN_OR_RETURN(std::string type, Str(m, "type", path, kMaxTokenBytes, true));
  if (!IsToken(type)) return Bad(Sub(path, "type"), "must be a token");
  PARLEY_ASSIGN_OR_RETURN(const json::object* context, Obj(m, "context", path, false));
  if (context != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(in.reply_to_provider_id,
                            Str(*context, "id", Sub(path, "context"), kMaxIdBytes, false));
  }
  if (auto it = names.find(in.contact_id); it != names.end()) in.contact_name = it->second;
  PARLEY_ASSIGN_OR_RETURN(ParsedContent parsed, ParseContent(m, type, path));
  in.content = std::move(parsed.content);
  in.media = std::move(parsed.media);
  return in;
}

std::string Truncated(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

Result<ProviderError> ParseStatusError(const json::object& e, std::string_view p) {
  ProviderError error;
  const json::value* code = Find(e, "code");
  if (code != nullptr && code->is_int64()) {
    error.code = fmt::format("meta_{}", code->get_int64());
  } else if (code != nullptr && code->is_uint64()) {
    error.code = fmt::format("meta_{}", code->get_uint64());
  } else if (code != nullptr && code->is_string() && IsToken(code->get_string())) {
    error.code = fmt::format("meta_{}", std::string_view(code->get_string()));
  } else {
    error.code = "meta_unknown";
  }
  PARLEY_ASSIGN_OR_RETURN(std::string message, Str(e, "message", p, kMaxTextBytes, false));
  PARLEY_ASSIGN_OR_RETURN(std::string title, Str(e, "title", p, kMaxTextBytes, false));
  error.message =
      Truncated(message.empty() ? std::move(title) : std::move(message), kMaxStringBytes);
  return error;
}

// nullopt for a status Parley does not map (Meta's "deleted", "warning", …).
Result<std::optional<InboundStatus>> ParseStatus(const json::object& s, std::string_view path,
                                                 const std::string& identity) {
  InboundStatus st;
  st.client_identity = identity;
  PARLEY_ASSIGN_OR_RETURN(st.provider_message_id, Str(s, "id", path, kMaxIdBytes, true));
  PARLEY_ASSIGN_OR_RETURN(std::string status, Str(s, "status", path, kMaxTokenBytes, true));
  PARLEY_ASSIGN_OR_RETURN(st.at, Timestamp(s, "timestamp", path));
  PARLEY_ASSIGN_OR_RETURN(st.contact_id, Str(s, "recipient_id", path, kMaxContactIdBytes, false));
  if (status == "sent") {
    st.status = DeliveryStatus::kSent;
  } else if (status == "delivered") {
    st.status = DeliveryStatus::kDelivered;
  } else if (status == "read" || status == "played") {  // played: a voice message was heard
    st.status = DeliveryStatus::kRead;
  } else if (status == "failed") {
    st.status = DeliveryStatus::kFailed;
  } else {
    return std::optional<InboundStatus>();
  }
  PARLEY_ASSIGN_OR_RETURN(const json::array* errors, Arr(s, "errors", path));
  if (st.status == DeliveryStatus::kFailed) {
    if (errors != nullptr && !errors->empty()) {
      std::string ep = Sub(path, "errors");
      PARLEY_ASSIGN_OR_RETURN(const json::object* e, Element(*errors, 0, ep));
      PARLEY_ASSIGN_OR_RETURN(st.error, ParseStatusError(*e, At(ep, 0)));
    } else {
      st.error = ProviderError{"meta_unknown", "failed without an error"};
    }
  }
  return std::optional<InboundStatus>(std::move(st));
}

Status ParseValue(const json::object& value, std::string_view path, InboundBatch& batch) {
  std::string identity;
  PARLEY_ASSIGN_OR_RETURN(const json::object* metadata, Obj(value, "metadata", path, false));
  if (metadata != nullptr) {
    PARLEY_ASSIGN_OR_RETURN(
        identity, Str(*metadata, "phone_number_id", Sub(path, "metadata"), kMaxIdBytes, false));
  }
  Names names;
  PARLEY_ASSIGN_OR_RETURN(const json::array* contacts, Arr(value, "contacts", path));
  for (size_t i = 0; contacts != nullptr && i < contacts->size(); ++i) {
    std::string p = At(Sub(path, "contacts"), i);
    PARLEY_ASSIGN_OR_RETURN(const json::object* c, Element(*contacts, i, Sub(path, "contacts")));
    PARLEY_ASSIGN_OR_RETURN(std::string wa_id, Str(*c, "wa_id", p, kMaxContactIdBytes, false));
    PARLEY_ASSIGN_OR_RETURN(const json::object* profile, Obj(*c, "profile", p, false));
    if (wa_id.empty() || profile == nullptr) continue;
    PARLEY_ASSIGN_OR_RETURN(std::string name,
                            Str(*profile, "name", Sub(p, "profile"), kMaxStringBytes, false));
    if (!name.empty()) names[wa_id] = std::move(name);
  }
  PARLEY_ASSIGN_OR_RETURN(const json::array* messages, Arr(value, "messages", path));
  for (size_t i = 0; messages != nullptr && i < messages->size(); ++i) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* m, Element(*messages, i, Sub(path, "messages")));
    PARLEY_ASSIGN_OR_RETURN(InboundMessage in,
                            ParseMessage(*m, At(Sub(path, "messages"), i), names, identity));
    batch.messages.push_back(std::move(in));
  }
  PARLEY_ASSIGN_OR_RETURN(const json::array* statuses, Arr(value, "statuses", path));
  for (size_t i = 0; statuses != nullptr && i < statuses->size(); ++i) {
    PARLEY_ASSIGN_OR_RETURN(const json::object* s, Element(*statuses, i, Sub(path, "statuses")));
    PARLEY_ASSIGN_OR_RETURN(auto status, ParseStatus(*s, At(Sub(path, "statuses"), i), identity));
    if (status) {
      batch.statuses.push_back(std::move(*status));
    } else {
      ++batch.ignored;
    }
  }
  // Account-level errors (value.errors[]) are not about one message.
  PARLEY_ASSIGN_OR_RETURN(const json::array* errors, Arr(value, "errors", path));
  if (errors != nullptr) batch.ignored += static_cast<int>(errors->size());
  return OkStatus();
}

}  // namespace

Result<InboundBatch> ParseWebhookBody(std::string_view body) {
  // Read in an arena on the stack: the tree lives only until the batch is built from it.
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  PARLEY_ASSIGN_OR_RETURN(json::value root, ParseBoundedJson(body, kMaxWebhookBytes, &arena));
  if (!root.is_object()) return InvalidArgument("body: must be a JSON object");
  const json::object& top = root.get_object();
  const json::value* object = Find(top, "object");
  if (object == nullptr || !object->is_string() ||
      object->get_string() != "whatsapp_business_account") {
    return InvalidArgument("object: must be \"whatsapp_business_account\"");
  }
  const json::value* entries = Find(top, "entry");
  if (entries == nullptr || !entries->is_array()) return InvalidArgument("entry: required array");
  InboundBatch batch;
  for (size_t i = 0; i < entries->get_array().size(); ++i) {
    std::string ep = At("entry", i);
    PARLEY_ASSIGN_OR_RETURN(const json::object* entry, Element(entries->get_array(), i, "entry"));
    PARLEY_ASSIGN_OR_RETURN(const json::array* changes, Arr(*entry, "changes", ep));
    for (size_t j = 0; changes != nullptr && j < changes->size(); ++j) {
      std::string cp = At(Sub(ep, "changes"), j);
      PARLEY_ASSIGN_OR_RETURN(const json::object* change, Element(*changes, j, Sub(ep, "changes")));
      PARLEY_ASSIGN_OR_RETURN(std::string field, Str(*change, "field", cp, kMaxTokenBytes, true));
      if (field != "messages") {  // account_update, message_template_status_update, …
        ++batch.ignored;
        continue;
      }
      PARLEY_ASSIGN_OR_RETURN(const json::object* value, Obj(*change, "value", cp, true));
      PARLEY_RETURN_IF_ERROR(ParseValue(*value, Sub(cp, "value"), batch));
    }
  }
  return batch;
}

}  // namespace parley::channels::whatsapp

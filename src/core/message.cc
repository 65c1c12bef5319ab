#include "core/message.h"

#include <cmath>
#include <string>
#include <type_traits>

namespace parley {

static_assert(std::variant_size_v<Content> == EnumNames<ContentType>::kNames.size(),
              "ContentType and Content must list the same types in the same order");
static_assert(std::variant_size_v<EventData> == EnumNames<EventType>::kNames.size(),
              "EventType and EventData must list the same types in the same order");

bool ContentAllowedIn(ContentType type, Direction direction) {
  switch (type) {
    case ContentType::kInteractive:
    case ContentType::kTemplate:
      return direction == Direction::kOutbound;
    case ContentType::kReply:
    case ContentType::kUnsupported:
      return direction == Direction::kInbound;
    default:
      return true;
  }
}

namespace {

// Error messages name the field, never its value: values are customer data and errors end up
// in logs.
Status Err(std::string_view path, std::string_view what) {
  std::string m(path);
  m += ": ";
  m += what;
  return InvalidArgument(std::move(m));
}

std::string Field(std::string_view path, std::string_view key) {
  std::string p(path);
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Status TooLong(std::string_view path, size_t max) {
  return Err(path, "longer than " + std::to_string(max) + " bytes");
}

Status Required(const std::string& s, size_t max, std::string_view path) {
  if (s.empty()) return Err(path, "required");
  if (s.size() > max) return TooLong(path, max);
  return OkStatus();
}

Status Optional(const std::string& s, size_t max, std::string_view path) {
  if (s.size() > max) return TooLong(path, max);
  return OkStatus();
}

Status Count(size_t n, size_t min, size_t max, std::string_view path) {
  if (n < min) return Err(path, min == 1 ? "at least one item required" : "too few items");
  if (n > max) return Err(path, "at most " + std::to_string(max) + " items");
  return OkStatus();
}

template <typename IdT>
Status RequiredId(const IdT& id, std::string_view path) {
  if (id.empty()) return Err(path, "required");
  return OkStatus();
}

// Tokens are machine names (kinds, codes, types): ASCII letters, digits, '_', '-', '.'.
bool IsToken(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Status Token(const std::string& s, bool required, std::string_view path) {
  if (required && s.empty()) return Err(path, "required");
  if (s.size() > kMaxTokenBytes) return TooLong(path, kMaxTokenBytes);
  if (!IsToken(s)) return Err(path, "must contain only letters, digits, '_', '-', '.'");
  return OkStatus();
}

// Links are fetched or shown by someone else; anything but an absolute http(s) URL is a bug
// or an attempt to smuggle another scheme (file:, javascript:).
Status Url(const std::string& s, std::string_view path) {
  if (s.empty()) return OkStatus();
  if (s.size() > kMaxUrlBytes) return TooLong(path, kMaxUrlBytes);
  if (s.rfind("https://", 0) != 0 && s.rfind("http://", 0) != 0) {
    return Err(path, "must be an absolute http(s) URL");
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Err(path, "must be a URL");
  }
  return OkStatus();
}

Status MimeType(const std::string& s, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Required(s, kMaxMimeTypeBytes, path));
  size_t slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size()) {
    return Err(path, "must be type/subtype");
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Err(path, "must be printable ASCII");
    }
  }
  return OkStatus();
}

Status Sha256(const std::string& s, std::string_view path) {
  if (s.empty()) return OkStatus();
  if (s.size() != 64) return Err(path, "must be 64 lower-case hex characters");
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Err(path, "must be 64 lower-case hex characters");
    }
  }
  return OkStatus();
}

Status Choices(const std::vector<Choice>& choices, size_t min, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Count(choices.size(), min, kMaxListItems, path));
  for (size_t i = 0; i < choices.size(); ++i) {
    std::string p = Index(path, i);
    PARLEY_RETURN_IF_ERROR(Required(choices[i].id, kMaxStringBytes, Field(p, "id")));
    PARLEY_RETURN_IF_ERROR(Required(choices[i].title, kMaxStringBytes, Field(p, "title")));
  }
  return OkStatus();
}

Status Check(const TextContent& c, std::string_view path) {
  return Required(c.text, kMaxTextBytes, Field(path, "text"));
}

Status Check(const MediaContent& c, std::string_view path) {
  std::string ap = Field(path, "attachments");
  PARLEY_RETURN_IF_ERROR(Count(c.attachments.size(), 1, kMaxListItems, ap));
  for (size_t i = 0; i < c.attachments.size(); ++i) {
    const Attachment& a = c.attachments[i];
    std::string p = Index(ap, i);
    if ((!a.id || a.id->empty()) && a.url.empty()) return Err(p, "needs an id or a url");
    PARLEY_RETURN_IF_ERROR(Url(a.url, Field(p, "url")));
    if (!a.id || !a.mime_type.empty()) {  // a stored file's type is known
      PARLEY_RETURN_IF_ERROR(MimeType(a.mime_type, Field(p, "mime_type")));
    }
    if (a.size_bytes && (*a.size_bytes < 0 || *a.size_bytes > kMaxJsonSafeInteger)) {
      return Err(Field(p, "size_bytes"), "out of range");
    }
    PARLEY_RETURN_IF_ERROR(Optional(a.filename, kMaxStringBytes, Field(p, "filename")));
    PARLEY_RETURN_IF_ERROR(Sha256(a.sha256, Field(p, "sha256")));
  }
  return Optional(c.caption, kMaxTextBytes, Field(path, "caption"));
}

Status Check(const LocationContent& c, std::string_view path) {
  if (!std::isfinite(c.latitude) || c.latitude < -90 || c.latitude > 90) {
    return Err(Field(path, "latitude"), "must be between -90 and 90");
  }
  if (!std::isfinite(c.longitude) || c.longitude < -180 || c.longitude > 180) {
    return Err(Field(path, "longitude"), "must be between -180 and 180");
  }
  PARLEY_RETURN_IF_ERROR(Optional(c.name, kMaxStringBytes, Field(path, "name")));
  return Optional(c.address, kMaxStringBytes, Field(path, "address"));
}

Status Check(const ContactContent& c, std::string_view path) {
  std::string cp = Field(path, "contacts");
  PARLEY_RETURN_IF_ERROR(Count(c.contacts.size(), 1, kMaxListItems, cp));
  for (size_t i = 0; i < c.contacts.size(); ++i) {
    const ContactCard& card = c.contacts[i];
    std::string p = Index(cp, i);
    std::string np = Field(p, "name");
    PARLEY_RETURN_IF_ERROR(Required(card.name.formatted, kMaxStringBytes, Field(np, "formatted")));
    PARLEY_RETURN_IF_ERROR(Optional(card.name.first, kMaxStringBytes, Field(np, "first")));
    PARLEY_RETURN_IF_ERROR(Optional(card.name.last, kMaxStringBytes, Field(np, "last")));
    std::string pp = Field(p, "phones");
    PARLEY_RETURN_IF_ERROR(Count(card.phones.size(), 0, kMaxListItems, pp));
    for (size_t j = 0; j < card.phones.size(); ++j) {
      std::string q = Index(pp, j);
      PARLEY_RETURN_IF_ERROR(Required(card.phones[j].number, kMaxStringBytes, Field(q, "number")));
      PARLEY_RETURN_IF_ERROR(Token(card.phones[j].type, false, Field(q, "type")));
    }
    std::string ep = Field(p, "emails");
    PARLEY_RETURN_IF_ERROR(Count(card.emails.size(), 0, kMaxListItems, ep));
    for (size_t j = 0; j < card.emails.size(); ++j) {
      std::string q = Index(ep, j);
      PARLEY_RETURN_IF_ERROR(
          Required(card.emails[j].address, kMaxStringBytes, Field(q, "address")));
      PARLEY_RETURN_IF_ERROR(Token(card.emails[j].type, false, Field(q, "type")));
    }
  }
  return OkStatus();
}

Status Check(const ReplyContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Required(c.title, kMaxStringBytes, Field(path, "title")));
  return Optional(c.payload, kMaxStringBytes, Field(path, "payload"));
}

Status Check(const ReactionContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Optional(c.emoji, kMaxTokenBytes, Field(path, "emoji")));
  std::string tp = Field(path, "target");
  if ((!c.target_message || c.target_message->empty()) && c.target_provider_message_id.empty()) {
    return Err(tp, "needs message or provider_message_id");
  }
  return Optional(c.target_provider_message_id, kMaxStringBytes, Field(tp, "provider_message_id"));
}

Status Check(const InteractiveContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Optional(c.header, kMaxStringBytes, Field(path, "header")));
  PARLEY_RETURN_IF_ERROR(Optional(c.footer, kMaxStringBytes, Field(path, "footer")));
  if (c.kind == InteractiveKind::kCarousel) {
    PARLEY_RETURN_IF_ERROR(Optional(c.body, kMaxTextBytes, Field(path, "body")));
  } else {
    PARLEY_RETURN_IF_ERROR(Required(c.body, kMaxTextBytes, Field(path, "body")));
  }
  const bool choices =
      c.kind == InteractiveKind::kButtons || c.kind == InteractiveKind::kQuickReplies;
  const bool list_set = !c.list.button.empty() || !c.list.sections.empty();
  std::string_view kind_name = WireName(c.kind);
  if (!choices && !c.choices.empty()) {
    return Err(Field(path, "buttons"), "not allowed for this kind");
  }
  if (c.kind != InteractiveKind::kList && list_set) {
    return Err(Field(path, "list"), "not allowed for this kind");
  }
  if (c.kind != InteractiveKind::kCarousel && !c.cards.empty()) {
    return Err(Field(path, "cards"), "not allowed for this kind");
  }
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      return Choices(c.choices, 1, Field(path, kind_name));
    case InteractiveKind::kList: {
      std::string lp = Field(path, "list");
      PARLEY_RETURN_IF_ERROR(Required(c.list.button, kMaxStringBytes, Field(lp, "button")));
      std::string sp = Field(lp, "sections");
      PARLEY_RETURN_IF_ERROR(Count(c.list.sections.size(), 1, kMaxListItems, sp));
      for (size_t i = 0; i < c.list.sections.size(); ++i) {
        const ListSection& s = c.list.sections[i];
        std::string p = Index(sp, i);
        PARLEY_RETURN_IF_ERROR(Optional(s.title, kMaxStringBytes, Field(p, "title")));
        std::string rp = Field(p, "rows");
        PARLEY_RETURN_IF_ERROR(Count(s.rows.size(), 1, kMaxListItems, rp));
        for (size_t j = 0; j < s.rows.size(); ++j) {
          std::string q = Index(rp, j);
          PARLEY_RETURN_IF_ERROR(Required(s.rows[j].id, kMaxStringBytes, Field(q, "id")));
          PARLEY_RETURN_IF_ERROR(Required(s.rows[j].title, kMaxStringBytes, Field(q, "title")));
          PARLEY_RETURN_IF_ERROR(
              Optional(s.rows[j].description, kMaxStringBytes, Field(q, "description")));
        }
      }
      return OkStatus();
    }
    case InteractiveKind::kCarousel: {
      std::string cp = Field(path, "cards");
      PARLEY_RETURN_IF_ERROR(Count(c.cards.size(), 1, kMaxListItems, cp));
      for (size_t i = 0; i < c.cards.size(); ++i) {
        const Card& card = c.cards[i];
        std::string p = Index(cp, i);
        PARLEY_RETURN_IF_ERROR(Required(card.title, kMaxStringBytes, Field(p, "title")));
        PARLEY_RETURN_IF_ERROR(Optional(card.subtitle, kMaxStringBytes, Field(p, "subtitle")));
        PARLEY_RETURN_IF_ERROR(Url(card.image_url, Field(p, "image_url")));
        PARLEY_RETURN_IF_ERROR(Choices(card.buttons, 0, Field(p, "buttons")));
      }
      return OkStatus();
    }
  }
  return Err(Field(path, "kind"), "unknown");
}

Status Check(const TemplateContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Required(c.name, kMaxStringBytes, Field(path, "name")));
  std::string lp = Field(path, "language");
  PARLEY_RETURN_IF_ERROR(Token(c.language, true, lp));
  if (c.language.find('.') != std::string::npos) {
    return Err(lp, "must contain only letters, digits, '_', '-'");
  }
  std::string cp = Field(path, "components");
  PARLEY_RETURN_IF_ERROR(Count(c.components.size(), 0, kMaxListItems, cp));
  for (size_t i = 0; i < c.components.size(); ++i) {
    const TemplateComponent& comp = c.components[i];
    std::string p = Index(cp, i);
    PARLEY_RETURN_IF_ERROR(Token(comp.type, true, Field(p, "type")));
    std::string pp = Field(p, "parameters");
    PARLEY_RETURN_IF_ERROR(Count(comp.parameters.size(), 0, kMaxTemplateParameters, pp));
    for (size_t j = 0; j < comp.parameters.size(); ++j) {
      std::string q = Index(pp, j);
      PARLEY_RETURN_IF_ERROR(Token(comp.parameters[j].type, true, Field(q, "type")));
      PARLEY_RETURN_IF_ERROR(Optional(comp.parameters[j].text, kMaxStringBytes, Field(q, "text")));
    }
  }
  return OkStatus();
}

Status Check(const SystemContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Token(c.code, true, Field(path, "code")));
  return Optional(c.text, kMaxTextBytes, Field(path, "text"));
}

Status Check(const UnsupportedContent& c, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Required(c.provider_type, kMaxStringBytes, Field(path, "provider_type")));
  return Optional(c.description, kMaxStringBytes, Field(path, "description"));
}

Status Version(int v, std::string_view path) {
  if (v != kMessageFormatVersion) return Err(path, "unsupported version");
  return OkStatus();
}

Status Check(const Message& m, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(Version(m.v, Field(path, "v")));
  PARLEY_RETURN_IF_ERROR(RequiredId(m.id, Field(path, "id")));
  PARLEY_RETURN_IF_ERROR(RequiredId(m.tenant, Field(path, "tenant")));
  PARLEY_RETURN_IF_ERROR(RequiredId(m.conversation, Field(path, "conversation")));
  std::string chp = Field(path, "channel");
  PARLEY_RETURN_IF_ERROR(Token(m.channel.kind, true, Field(chp, "kind")));
  PARLEY_RETURN_IF_ERROR(RequiredId(m.channel.connection, Field(chp, "connection")));
  std::string ap = Field(path, "author");
  const bool has_customer = m.author.customer && !m.author.customer->empty();
  if (m.author.role == AuthorRole::kCustomer && !has_customer) {
    return Err(Field(ap, "customer"), "required for role customer");
  }
  if (m.author.role != AuthorRole::kCustomer && m.author.customer) {
    return Err(Field(ap, "customer"), "only for role customer");
  }
  PARLEY_RETURN_IF_ERROR(Optional(m.author.name, kMaxStringBytes, Field(ap, "name")));
  if (!m.author.agent_id.empty() && m.author.role != AuthorRole::kAgent &&
      m.author.role != AuthorRole::kBot) {
    return Err(Field(ap, "agent_id"), "only for role agent or bot");
  }
  PARLEY_RETURN_IF_ERROR(Optional(m.author.agent_id, kMaxStringBytes, Field(ap, "agent_id")));
  PARLEY_RETURN_IF_ERROR(
      Optional(m.provider_message_id, kMaxStringBytes, Field(path, "provider_message_id")));
  if (m.reply_to && m.reply_to->empty()) return Err(Field(path, "reply_to"), "empty id");
  PARLEY_RETURN_IF_ERROR(
      Optional(m.reply_to_provider_id, kMaxStringBytes, Field(path, "reply_to_provider_id")));
  std::string cp = Field(path, "content");
  if (!ContentAllowedIn(TypeOf(m.content), m.direction)) {
    return Err(Field(cp, "type"), "not allowed in this direction");
  }
  PARLEY_RETURN_IF_ERROR(ValidateContent(m.content, cp));
  std::string mp = Field(path, "metadata");
  if (m.metadata.size() > kMaxMetadataEntries) {
    return Err(mp, "at most " + std::to_string(kMaxMetadataEntries) + " entries");
  }
  for (const auto& [key, value] : m.metadata) {
    // The key is client-chosen: validate it before it can appear in a path.
    PARLEY_RETURN_IF_ERROR(Token(key, true, Field(mp, "<key>")));
    PARLEY_RETURN_IF_ERROR(Optional(value, kMaxStringBytes, Field(mp, key)));
  }
  return OkStatus();
}

Status Check(const MessageStatusData& d, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(RequiredId(d.message, Field(path, "message")));
  PARLEY_RETURN_IF_ERROR(RequiredId(d.conversation, Field(path, "conversation")));
  if (d.error) {
    std::string ep = Field(path, "error");
    if (d.status != DeliveryStatus::kFailed) return Err(ep, "only with status failed");
    PARLEY_RETURN_IF_ERROR(Required(d.error->code, kMaxTokenBytes, Field(ep, "code")));
    PARLEY_RETURN_IF_ERROR(Optional(d.error->message, kMaxStringBytes, Field(ep, "message")));
  }
  return Optional(d.provider_message_id, kMaxStringBytes, Field(path, "provider_message_id"));
}

Status Check(const TypingData& d, std::string_view path) {
  return RequiredId(d.conversation, Field(path, "conversation"));
}

Status Check(const ConversationStartedData& d, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(RequiredId(d.conversation, Field(path, "conversation")));
  PARLEY_RETURN_IF_ERROR(RequiredId(d.connection, Field(path, "connection")));
  return RequiredId(d.customer, Field(path, "customer"));
}

Status Check(const ConversationEndedData& d, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(RequiredId(d.conversation, Field(path, "conversation")));
  PARLEY_RETURN_IF_ERROR(RequiredId(d.connection, Field(path, "connection")));
  return RequiredId(d.customer, Field(path, "customer"));
}

Status Check(const CustomerUpdatedData& d, std::string_view path) {
  PARLEY_RETURN_IF_ERROR(RequiredId(d.customer, Field(path, "customer")));
  PARLEY_RETURN_IF_ERROR(RequiredId(d.connection, Field(path, "connection")));
  return Optional(d.name, kMaxStringBytes, Field(path, "name"));
}

}  // namespace

Status ValidateContent(const Content& content, std::string_view path) {
  return std::visit([&](const auto& c) { return Check(c, path); }, content);
}

Status ValidateMessage(const Message& message) { return Check(message, ""); }

Status ValidateEvent(const Event& event) {
  PARLEY_RETURN_IF_ERROR(Version(event.v, "v"));
  PARLEY_RETURN_IF_ERROR(RequiredId(event.id, "id"));
  PARLEY_RETURN_IF_ERROR(RequiredId(event.tenant, "tenant"));
  if (const auto* m = std::get_if<Message>(&event.data); m && m->tenant != event.tenant) {
    // An event must never carry another tenant's message to this tenant's application.
    return Err("data.tenant", "must equal the event's tenant");
  }
  return std::visit([](const auto& d) { return Check(d, "data"); }, event.data);
}

}  // namespace parley

// src/core/message_json_read.cc
//
// The reading half of the codec of message_json.h: ParseBoundedJson, the *FromJson functions,
// ParseMessage and ParseEvent. Writing is in message_json_write.cc.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include "core/message_json.h"

namespace parley {

namespace json = boost::json;

namespace {

constexpr std::string_view kTopLevel = "(top level)";
constexpr int kMinYear = 1970, kMaxYear = 2200;  // documented in docs/message-format.md

// Paths and messages never quote input values: they are customer data and errors get logged.
Status Err(std::string_view path, std::string_view what) {
  return InvalidArgument(std::string(path) + ": " + std::string(what));
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

template <typename E>
std::string OneOf() {
  std::string s = "must be one of";
  for (std::string_view n : EnumNames<E>::kNames) (s += s.back() == 'f' ? " " : ", ") += n;
  return s;
}

// The fields of one JSON object at `path`. Each accessor marks its key as known, so
// RejectUnknown() can refuse everything else. A missing key and `null` both read as absent.
class Fields {
 public:
  Fields(const json::object& obj, std::string path) : obj_(&obj), path_(std::move(path)) {}

  static Result<Fields> Of(const json::value& v, std::string path) {
    if (!v.is_object()) return Err(path.empty() ? kTopLevel : path, "must be an object");
    return Fields(v.as_object(), std::move(path));
  }

  std::string At(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const json::value* Find(std::string_view key) {
    known_.push_back(key);
    const json::value* v = obj_->if_contains(json::string_view(key.data(), key.size()));
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  Status RejectUnknown() const {
    for (const auto& kv : *obj_) {
      std::string_view key(kv.key().data(), kv.key().size());
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      // Name the key only when it is short and plain; it came from the sender.
      bool plain = !key.empty() && key.size() <= kMaxTokenBytes;
      for (char c : key)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
      return plain ? Err(At(key), "unknown field")
                   : Err(path_.empty() ? kTopLevel : path_, "unknown field");
    }
    return OkStatus();
  }

  Result<std::string> String(std::string_view key, bool required) {
    const json::value* v = Find(key);
    if (v == nullptr) {
      if (required) return Err(At(key), "required");
      return std::string();
    }
    if (!v->is_string()) return Err(At(key), "must be a string");
    return std::string(v->get_string().data(), v->get_string().size());
  }

  Result<double> Number(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr) return Err(At(key), "required");
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return Err(At(key), "must be a number");
  }

  Result<std::optional<int64_t>> OptInteger(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr) return std::optional<int64_t>();
    if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
    if (v->is_uint64()) return Err(At(key), "out of range");
    return Err(At(key), "must be an integer");
  }

  Result<std::optional<bool>> OptBool(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr || v->is_null()) return std::optional<bool>();
    if (!v->is_bool()) return Err(At(key), "must be true or false");
    return std::optional<bool>(v->get_bool());
  }

  Result<bool> Bool(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr) return Err(At(key), "required");
    if (!v->is_bool()) return Err(At(key), "must be true or false");
    return v->get_bool();
  }

  Result<int> Version(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr) return Err(At(key), "required");
    if (!v->is_int64() || v->get_int64() != kMessageFormatVersion) {
      return Err(At(key), "unsupported version");
    }
    return kMessageFormatVersion;
  }

  template <typename E>
  Result<E> Enum(std::string_view key) {
    PARLEY_ASSIGN_OR_RETURN(std::string s, String(key, true));
    std::optional<E> e = FromWireName<E>(s);
    if (!e) return Err(At(key), OneOf<E>());
    return *e;
  }

  // Unlike optional strings, an optional id or timestamp given as "" is malformed, not absent.
  template <typename IdT>
  Result<std::optional<IdT>> OptId(std::string_view key) {
    if (Find(key) == nullptr) return std::optional<IdT>();
    PARLEY_ASSIGN_OR_RETURN(std::string s, String(key, true));
    Result<IdT> id = IdT::Parse(s);
    if (!id.ok()) return Err(At(key), "malformed " + std::string(IdT::kPrefix) + "_ id");
    return std::optional<IdT>(*id);
  }

  template <typename IdT>
  Result<IdT> Id(std::string_view key) {
    PARLEY_ASSIGN_OR_RETURN(std::optional<IdT> id, OptId<IdT>(key));
    if (!id) return Err(At(key), "required");
    return *id;
  }

  Result<std::optional<TimePoint>> OptTime(std::string_view key) {
    if (Find(key) == nullptr) return std::optional<TimePoint>();
    PARLEY_ASSIGN_OR_RETURN(std::string s, String(key, true));
    // ParseRfc3339 accepts any 4-digit year, but system_clock counts nanoseconds in 64 bits and
    // overflows (undefined behaviour) past 2262: bound the year before converting.
    if (s.size() >= 4 &&
        std::all_of(s.begin(), s.begin() + 4, [](char c) { return c >= '0' && c <= '9'; })) {
      int year = std::stoi(s.substr(0, 4));
      if (year < kMinYear || year > kMaxYear) return Err(At(key), "year out of range");
    }
    Result<TimePoint> t = ParseRfc3339(s);
    if (!t.ok()) return Err(At(key), "must be an RFC 3339 timestamp");
    return std::optional<TimePoint>(*t);
  }

  Result<TimePoint> Time(std::string_view key) {
    PARLEY_ASSIGN_OR_RETURN(std::optional<TimePoint> t, OptTime(key));
    if (!t) return Err(At(key), "required");
    return *t;
  }

  // nullopt when absent and not required.
  Result<std::optional<Fields>> Object(std::string_view key, bool required) {
    const json::value* v = Find(key);
    if (v == nullptr) {
      if (required) return Err(At(key), "required");
      return std::optional<Fields>();
    }
    PARLEY_ASSIGN_OR_RETURN(Fields f, Of(*v, At(key)));
    return std::optional<Fields>(std::move(f));
  }

  // Parses each element of the array at `key` (absent = empty) with `item(Fields&)`. The count
  // is checked before any element is touched, so a huge array costs nothing.
  template <typename T, typename F>
  Result<std::vector<T>> List(std::string_view key, size_t max, F&& item) {
    std::vector<T> out;
    const json::value* v = Find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Err(At(key), "must be an array");
    const json::array& a = v->get_array();
    if (a.size() > max) return Err(At(key), "at most " + std::to_string(max) + " items");
    out.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      PARLEY_ASSIGN_OR_RETURN(Fields f, Of(a[i], Index(At(key), i)));
      PARLEY_ASSIGN_OR_RETURN(T t, item(f));
      PARLEY_RETURN_IF_ERROR(f.RejectUnknown());
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  const json::object* obj_;
  std::string path_;
  std::vector<std::string_view> known_;  // keys are string literals of this file
};

Result<Choice> ReadChoice(Fields& f) {
  Choice c;
  PARLEY_ASSIGN_OR_RETURN(c.id, f.String("id", true));
  PARLEY_ASSIGN_OR_RETURN(c.title, f.String("title", true));
  return c;
}

Result<Attachment> ReadAttachment(Fields& f) {
  Attachment a;
  PARLEY_ASSIGN_OR_RETURN(a.id, f.OptId<AttachmentId>("id"));
  PARLEY_ASSIGN_OR_RETURN(a.url, f.String("url", false));
  // Optional for a stored file (an id): Parley fills it in from the stored record.
  PARLEY_ASSIGN_OR_RETURN(a.mime_type, f.String("mime_type", false));
  PARLEY_ASSIGN_OR_RETURN(a.size_bytes, f.OptInteger("size_bytes"));
  PARLEY_ASSIGN_OR_RETURN(a.filename, f.String("filename", false));
  PARLEY_ASSIGN_OR_RETURN(a.sha256, f.String("sha256", false));
  return a;
}

Result<ContactCard> ReadContactCard(Fields& f) {
  ContactCard card;
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> name, f.Object("name", true));
  PARLEY_ASSIGN_OR_RETURN(card.name.formatted, name->String("formatted", true));
  PARLEY_ASSIGN_OR_RETURN(card.name.first, name->String("first", false));
  PARLEY_ASSIGN_OR_RETURN(card.name.last, name->String("last", false));
  PARLEY_RETURN_IF_ERROR(name->RejectUnknown());
  PARLEY_ASSIGN_OR_RETURN(
      card.phones,
      f.List<ContactPhone>("phones", kMaxListItems, [](Fields& p) -> Result<ContactPhone> {
        ContactPhone phone;
        PARLEY_ASSIGN_OR_RETURN(phone.number, p.String("number", true));
        PARLEY_ASSIGN_OR_RETURN(phone.type, p.String("type", false));
        return phone;
      }));
  PARLEY_ASSIGN_OR_RETURN(
      card.emails,
      f.List<ContactEmail>("emails", kMaxListItems, [](Fields& e) -> Result<ContactEmail> {
        ContactEmail email;
        PARLEY_ASSIGN_OR_RETURN(email.address, e.String("address", true));
        PARLEY_ASSIGN_OR_RETURN(email.type, e.String("type", false));
        return email;
      }));
  return card;
}

Result<InteractiveList> ReadList(Fields& f) {
  InteractiveList list;
  PARLEY_ASSIGN_OR_RETURN(list.button, f.String("button", true));
  PARLEY_ASSIGN_OR_RETURN(
      list.sections,
      f.List<ListSection>("sections", kMaxListItems, [](Fields& s) -> Result<ListSection> {
        ListSection section;
        PARLEY_ASSIGN_OR_RETURN(section.title, s.String("title", false));
        PARLEY_ASSIGN_OR_RETURN(
            section.rows, s.List<ListRow>("rows", kMaxListItems, [](Fields& r) -> Result<ListRow> {
              ListRow row;
              PARLEY_ASSIGN_OR_RETURN(row.id, r.String("id", true));
              PARLEY_ASSIGN_OR_RETURN(row.title, r.String("title", true));
              PARLEY_ASSIGN_OR_RETURN(row.description, r.String("description", false));
              return row;
            }));
        return section;
      }));
  return list;
}

Result<InteractiveContent> ReadInteractive(Fields& f) {
  InteractiveContent c;
  PARLEY_ASSIGN_OR_RETURN(c.kind, f.Enum<InteractiveKind>("kind"));
  PARLEY_ASSIGN_OR_RETURN(c.header, f.String("header", false));
  PARLEY_ASSIGN_OR_RETURN(c.body, f.String("body", false));
  PARLEY_ASSIGN_OR_RETURN(c.footer, f.String("footer", false));
  // Only the key of this kind is read; the others stay unknown and are rejected.
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies: {
      PARLEY_ASSIGN_OR_RETURN(c.choices,
                              f.List<Choice>(WireName(c.kind), kMaxListItems, ReadChoice));
      break;
    }
    case InteractiveKind::kList: {
      PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> list, f.Object("list", true));
      PARLEY_ASSIGN_OR_RETURN(c.list, ReadList(*list));
      PARLEY_RETURN_IF_ERROR(list->RejectUnknown());
      break;
    }
    case InteractiveKind::kCarousel: {
      PARLEY_ASSIGN_OR_RETURN(
          c.cards, f.List<Card>("cards", kMaxListItems, [](Fields& k) -> Result<Card> {
            Card card;
            PARLEY_ASSIGN_OR_RETURN(card.title, k.String("title", true));
            PARLEY_ASSIGN_OR_RETURN(card.subtitle, k.String("subtitle", false));
            PARLEY_ASSIGN_OR_RETURN(card.image_url, k.String("image_url", false));
            PARLEY_ASSIGN_OR_RETURN(card.buttons,
                                    k.List<Choice>("buttons", kMaxListItems, ReadChoice));
            return card;
          }));
      break;
    }
  }
  return c;
}

Result<TemplateContent> ReadTemplate(Fields& f) {
  TemplateContent c;
  PARLEY_ASSIGN_OR_RETURN(c.name, f.String("name", true));
  PARLEY_ASSIGN_OR_RETURN(c.language, f.String("language", true));
  PARLEY_ASSIGN_OR_RETURN(
      c.components, f.List<TemplateComponent>(
                        "components", kMaxListItems, [](Fields& k) -> Result<TemplateComponent> {
                          TemplateComponent comp;
                          PARLEY_ASSIGN_OR_RETURN(comp.type, k.String("type", true));
                          PARLEY_ASSIGN_OR_RETURN(
                              comp.parameters,
                              k.List<TemplateParameter>(
                                  "parameters", kMaxTemplateParameters,
                                  [](Fields& p) -> Result<TemplateParameter> {
                                    TemplateParameter param;
                                    PARLEY_ASSIGN_OR_RETURN(param.type, p.String("type", true));
                                    PARLEY_ASSIGN_OR_RETURN(param.text, p.String("text", false));
                                    return param;
                                  }));
                          return comp;
                        }));
  return c;
}

// Reads the fields of `f` (type and the type's own); the caller rejects unknown keys.
Result<Content> ReadContent(Fields& f) {
  PARLEY_ASSIGN_OR_RETURN(ContentType type, f.Enum<ContentType>("type"));
  switch (type) {
    case ContentType::kText: {
      TextContent c;
      PARLEY_ASSIGN_OR_RETURN(c.text, f.String("text", true));
      return Content(std::move(c));
    }
    case ContentType::kMedia: {
      MediaContent c;
      PARLEY_ASSIGN_OR_RETURN(c.kind, f.Enum<MediaKind>("kind"));
      PARLEY_ASSIGN_OR_RETURN(c.attachments,
                              f.List<Attachment>("attachments", kMaxListItems, ReadAttachment));
      PARLEY_ASSIGN_OR_RETURN(c.caption, f.String("caption", false));
      return Content(std::move(c));
    }
    case ContentType::kLocation: {
      LocationContent c;
      PARLEY_ASSIGN_OR_RETURN(c.latitude, f.Number("latitude"));
      PARLEY_ASSIGN_OR_RETURN(c.longitude, f.Number("longitude"));
      PARLEY_ASSIGN_OR_RETURN(c.name, f.String("name", false));
      PARLEY_ASSIGN_OR_RETURN(c.address, f.String("address", false));
      return Content(std::move(c));
    }
    case ContentType::kContact: {
      ContactContent c;
      PARLEY_ASSIGN_OR_RETURN(c.contacts,
                              f.List<ContactCard>("contacts", kMaxListItems, ReadContactCard));
      return Content(std::move(c));
    }
    case ContentType::kReply: {
      ReplyContent c;
      PARLEY_ASSIGN_OR_RETURN(c.source, f.Enum<ReplySource>("source"));
      PARLEY_ASSIGN_OR_RETURN(c.title, f.String("title", true));
      PARLEY_ASSIGN_OR_RETURN(c.payload, f.String("payload", false));
      return Content(std::move(c));
    }
    case ContentType::kReaction: {
      ReactionContent c;
      PARLEY_ASSIGN_OR_RETURN(c.emoji, f.String("emoji", true));
      PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> target, f.Object("target", true));
      PARLEY_ASSIGN_OR_RETURN(c.target_message, target->OptId<MessageId>("message"));
      PARLEY_ASSIGN_OR_RETURN(c.target_provider_message_id,
                              target->String("provider_message_id", false));
      PARLEY_RETURN_IF_ERROR(target->RejectUnknown());
      return Content(std::move(c));
    }
    case ContentType::kInteractive: {
      PARLEY_ASSIGN_OR_RETURN(InteractiveContent c, ReadInteractive(f));
      return Content(std::move(c));
    }
    case ContentType::kTemplate: {
      PARLEY_ASSIGN_OR_RETURN(TemplateContent c, ReadTemplate(f));
      return Content(std::move(c));
    }
    case ContentType::kSystem: {
      SystemContent c;
      PARLEY_ASSIGN_OR_RETURN(c.code, f.String("code", true));
      PARLEY_ASSIGN_OR_RETURN(c.text, f.String("text", false));
      return Content(std::move(c));
    }
    case ContentType::kUnsupported: {
      UnsupportedContent c;
      PARLEY_ASSIGN_OR_RETURN(c.provider_type, f.String("provider_type", true));
      PARLEY_ASSIGN_OR_RETURN(c.description, f.String("description", false));
      return Content(std::move(c));
    }
  }
  return Err(f.At("type"), OneOf<ContentType>());
}

// Reads a message without validating it (the caller validates with the right path).
Result<Message> ReadMessage(Fields& f) {
  Message m;
  PARLEY_ASSIGN_OR_RETURN(m.v, f.Version("v"));
  PARLEY_ASSIGN_OR_RETURN(m.id, f.Id<MessageId>("id"));
  PARLEY_ASSIGN_OR_RETURN(m.tenant, f.Id<TenantId>("tenant"));
  PARLEY_ASSIGN_OR_RETURN(m.conversation, f.Id<ConversationId>("conversation"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> channel, f.Object("channel", true));
  PARLEY_ASSIGN_OR_RETURN(m.channel.kind, channel->String("kind", true));
  PARLEY_ASSIGN_OR_RETURN(m.channel.connection, channel->Id<ConnectionId>("connection"));
  PARLEY_RETURN_IF_ERROR(channel->RejectUnknown());
  PARLEY_ASSIGN_OR_RETURN(m.direction, f.Enum<Direction>("direction"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> author, f.Object("author", true));
  PARLEY_ASSIGN_OR_RETURN(m.author.role, author->Enum<AuthorRole>("role"));
  PARLEY_ASSIGN_OR_RETURN(m.author.customer, author->OptId<CustomerId>("customer"));
  PARLEY_ASSIGN_OR_RETURN(m.author.name, author->String("name", false));
  PARLEY_ASSIGN_OR_RETURN(m.author.agent_id, author->String("agent_id", false));
  PARLEY_RETURN_IF_ERROR(author->RejectUnknown());
  PARLEY_ASSIGN_OR_RETURN(m.provider_message_id, f.String("provider_message_id", false));
  PARLEY_ASSIGN_OR_RETURN(m.reply_to, f.OptId<MessageId>("reply_to"));
  PARLEY_ASSIGN_OR_RETURN(m.reply_to_provider_id, f.String("reply_to_provider_id", false));
  PARLEY_ASSIGN_OR_RETURN(m.sent_at, f.OptTime("sent_at"));
  PARLEY_ASSIGN_OR_RETURN(m.received_at, f.Time("received_at"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> content, f.Object("content", true));
  PARLEY_ASSIGN_OR_RETURN(m.content, ReadContent(*content));
  PARLEY_RETURN_IF_ERROR(content->RejectUnknown());
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> meta, f.Object("metadata", false));
  if (meta) {
    const json::object& o = f.Find("metadata")->get_object();
    if (o.size() > kMaxMetadataEntries) {
      return Err(f.At("metadata"), "at most " + std::to_string(kMaxMetadataEntries) + " entries");
    }
    for (const auto& kv : o) {
      if (!kv.value().is_string()) return Err(f.At("metadata"), "values must be strings");
      m.metadata.emplace(
          std::string(kv.key().data(), kv.key().size()),
          std::string(kv.value().get_string().data(), kv.value().get_string().size()));
    }
  }
  PARLEY_RETURN_IF_ERROR(f.RejectUnknown());
  return m;
}

Result<EventData> ReadEventData(EventType type, Fields& d) {
  switch (type) {
    case EventType::kMessageCreated: {
      PARLEY_ASSIGN_OR_RETURN(Message m, ReadMessage(d));
      return EventData(std::move(m));
    }
    case EventType::kMessageStatus: {
      MessageStatusData s;
      PARLEY_ASSIGN_OR_RETURN(s.message, d.Id<MessageId>("message"));
      PARLEY_ASSIGN_OR_RETURN(s.conversation, d.Id<ConversationId>("conversation"));
      PARLEY_ASSIGN_OR_RETURN(s.status, d.Enum<DeliveryStatus>("status"));
      PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> error, d.Object("error", false));
      if (error) {
        ProviderError e;
        PARLEY_ASSIGN_OR_RETURN(e.code, error->String("code", true));
        PARLEY_ASSIGN_OR_RETURN(e.message, error->String("message", false));
        PARLEY_RETURN_IF_ERROR(error->RejectUnknown());
        s.error = std::move(e);
      }
      PARLEY_ASSIGN_OR_RETURN(s.provider_message_id, d.String("provider_message_id", false));
      PARLEY_ASSIGN_OR_RETURN(s.at, d.Time("at"));
      return EventData(std::move(s));
    }
    case EventType::kTyping: {
      TypingData t;
      PARLEY_ASSIGN_OR_RETURN(t.conversation, d.Id<ConversationId>("conversation"));
      PARLEY_ASSIGN_OR_RETURN(t.role, d.Enum<AuthorRole>("role"));
      PARLEY_ASSIGN_OR_RETURN(t.on, d.Bool("on"));
      return EventData(std::move(t));
    }
    case EventType::kConversationStarted: {
      ConversationStartedData c;
      PARLEY_ASSIGN_OR_RETURN(c.conversation, d.Id<ConversationId>("conversation"));
      PARLEY_ASSIGN_OR_RETURN(c.connection, d.Id<ConnectionId>("connection"));
      PARLEY_ASSIGN_OR_RETURN(c.customer, d.Id<CustomerId>("customer"));
      // Both absent in events recorded before they existed.
      PARLEY_ASSIGN_OR_RETURN(std::optional<bool> returning, d.OptBool("returning"));
      c.returning = returning.value_or(false);
      PARLEY_ASSIGN_OR_RETURN(c.customer_first_seen, d.OptTime("customer_first_seen"));
      return EventData(std::move(c));
    }
    case EventType::kConversationEnded: {
      ConversationEndedData c;
      PARLEY_ASSIGN_OR_RETURN(c.conversation, d.Id<ConversationId>("conversation"));
      PARLEY_ASSIGN_OR_RETURN(c.connection, d.Id<ConnectionId>("connection"));
      PARLEY_ASSIGN_OR_RETURN(c.customer, d.Id<CustomerId>("customer"));
      PARLEY_ASSIGN_OR_RETURN(c.reason, d.Enum<EndReason>("reason"));
      return EventData(std::move(c));
    }
    case EventType::kCustomerUpdated: {
      CustomerUpdatedData c;
      PARLEY_ASSIGN_OR_RETURN(c.customer, d.Id<CustomerId>("customer"));
      PARLEY_ASSIGN_OR_RETURN(c.connection, d.Id<ConnectionId>("connection"));
      PARLEY_ASSIGN_OR_RETURN(c.name, d.String("name", false));
      return EventData(std::move(c));
    }
  }
  return Err(d.At("type"), OneOf<EventType>());
}

}  // namespace

Result<json::value> ParseBoundedJson(std::string_view text, size_t max_bytes) {
  return ParseBoundedJson(text, max_bytes, {});
}

Result<json::value> ParseBoundedJson(std::string_view text, size_t max_bytes,
                                     const json::storage_ptr& sp) {
  if (text.size() > max_bytes) {
    return InvalidArgument("JSON: larger than " + std::to_string(max_bytes) + " bytes");
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  // The error_code overload reports syntax errors without throwing; only allocation can still
  // throw, and the request path must not.
  try {
    json::error_code ec;
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec, sp, options);
    if (ec) return InvalidArgument("JSON: malformed (" + ec.message() + ")");
    return v;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("JSON: out of memory");
  } catch (const std::exception&) {
    return InvalidArgument("JSON: malformed");
  }
}

Result<Content> ContentFromJson(const json::value& v, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(Fields f, Fields::Of(v, std::string(path)));
  PARLEY_ASSIGN_OR_RETURN(Content c, ReadContent(f));
  PARLEY_RETURN_IF_ERROR(f.RejectUnknown());
  PARLEY_RETURN_IF_ERROR(ValidateContent(c, path));
  return c;
}

Result<Content> OutboundContentFromJson(const json::value& v, std::string_view path) {
  PARLEY_ASSIGN_OR_RETURN(Content c, ContentFromJson(v, path));
  // system is Parley's own; reply and unsupported only ever come from a channel.
  ContentType type = TypeOf(c);
  if (type == ContentType::kSystem || !ContentAllowedIn(type, Direction::kOutbound)) {
    return Err(std::string(path) + ".type", "cannot be sent by a client application");
  }
  return c;
}

Result<Message> MessageFromJson(const json::value& v) {
  PARLEY_ASSIGN_OR_RETURN(Fields f, Fields::Of(v, ""));
  PARLEY_ASSIGN_OR_RETURN(Message m, ReadMessage(f));
  PARLEY_RETURN_IF_ERROR(ValidateMessage(m));
  return m;
}

Result<Event> EventFromJson(const json::value& v) {
  PARLEY_ASSIGN_OR_RETURN(Fields f, Fields::Of(v, ""));
  Event e;
  PARLEY_ASSIGN_OR_RETURN(e.v, f.Version("v"));
  PARLEY_ASSIGN_OR_RETURN(e.id, f.Id<EventId>("id"));
  PARLEY_ASSIGN_OR_RETURN(e.tenant, f.Id<TenantId>("tenant"));
  PARLEY_ASSIGN_OR_RETURN(EventType type, f.Enum<EventType>("type"));
  PARLEY_ASSIGN_OR_RETURN(e.created_at, f.Time("created_at"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<Fields> data, f.Object("data", true));
  PARLEY_ASSIGN_OR_RETURN(e.data, ReadEventData(type, *data));
  PARLEY_RETURN_IF_ERROR(data->RejectUnknown());
  PARLEY_RETURN_IF_ERROR(f.RejectUnknown());
  PARLEY_RETURN_IF_ERROR(ValidateEvent(e));
  return e;
}

Result<Message> ParseMessage(std::string_view text) {
  PARLEY_ASSIGN_OR_RETURN(json::value v, ParseBoundedJson(text));
  return MessageFromJson(v);
}

Result<Event> ParseEvent(std::string_view text) {
  PARLEY_ASSIGN_OR_RETURN(json::value v, ParseBoundedJson(text));
  return EventFromJson(v);
}

}  // namespace parley

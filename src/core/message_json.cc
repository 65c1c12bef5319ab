#include "core/message_json.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <exception>
#include <new>
#include <utility>
#include <vector>

namespace parley {

namespace json = boost::json;

namespace {

// ---- Writing -----------------------------------------------------------------------------

json::value Str(std::string_view s) { return json::value(json::string_view(s.data(), s.size())); }
json::value OptStr(const std::string& s) { return s.empty() ? json::value(nullptr) : Str(s); }
json::value Time(TimePoint t) { return Str(FormatRfc3339(t)); }
template <typename E>
json::value Enum(E e) {
  return Str(WireName(e));
}
template <typename IdT>
json::value OptId(const std::optional<IdT>& id) {
  return id ? Str(id->str()) : json::value(nullptr);
}

json::array ChoicesJson(const std::vector<Choice>& choices) {
  json::array a;
  for (const Choice& c : choices)
    a.push_back(json::object{{"id", Str(c.id)}, {"title", Str(c.title)}});
  return a;
}

// One overload per content type; each writes its fields after "type".
void Put(json::object& o, const TextContent& c) { o["text"] = Str(c.text); }

void Put(json::object& o, const MediaContent& c) {
  o["kind"] = Enum(c.kind);
  json::array atts;
  for (const Attachment& a : c.attachments) {
    json::object j;
    j["id"] = OptId(a.id);
    j["url"] = OptStr(a.url);
    j["mime_type"] = Str(a.mime_type);
    j["size_bytes"] = a.size_bytes ? json::value(*a.size_bytes) : json::value(nullptr);
    j["filename"] = OptStr(a.filename);
    j["sha256"] = OptStr(a.sha256);
    atts.push_back(std::move(j));
  }
  o["attachments"] = std::move(atts);
  o["caption"] = OptStr(c.caption);
}

void Put(json::object& o, const LocationContent& c) {
  o["latitude"] = c.latitude;
  o["longitude"] = c.longitude;
  o["name"] = OptStr(c.name);
  o["address"] = OptStr(c.address);
}

void Put(json::object& o, const ContactContent& c) {
  json::array contacts;
  for (const ContactCard& card : c.contacts) {
    json::object j;
    j["name"] = json::object{{"formatted", Str(card.name.formatted)},
                             {"first", OptStr(card.name.first)},
                             {"last", OptStr(card.name.last)}};
    json::array phones;
    for (const ContactPhone& p : card.phones) {
      phones.push_back(json::object{{"number", Str(p.number)}, {"type", OptStr(p.type)}});
    }
    j["phones"] = std::move(phones);
    json::array emails;
    for (const ContactEmail& e : card.emails) {
      emails.push_back(json::object{{"address", Str(e.address)}, {"type", OptStr(e.type)}});
    }
    j["emails"] = std::move(emails);
    contacts.push_back(std::move(j));
  }
  o["contacts"] = std::move(contacts);
}

void Put(json::object& o, const ReplyContent& c) {
  o["source"] = Enum(c.source);
  o["title"] = Str(c.title);
  o["payload"] = OptStr(c.payload);
}

void Put(json::object& o, const ReactionContent& c) {
  o["emoji"] = Str(c.emoji);
  o["target"] = json::object{{"message", OptId(c.target_message)},
                             {"provider_message_id", OptStr(c.target_provider_message_id)}};
}

void Put(json::object& o, const InteractiveContent& c) {
  o["kind"] = Enum(c.kind);
  o["header"] = OptStr(c.header);
  o["body"] = OptStr(c.body);
  o["footer"] = OptStr(c.footer);
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      o[WireName(c.kind)] = ChoicesJson(c.choices);
      break;
    case InteractiveKind::kList: {
      json::array sections;
      for (const ListSection& s : c.list.sections) {
        json::array rows;
        for (const ListRow& r : s.rows) {
          rows.push_back(json::object{
              {"id", Str(r.id)}, {"title", Str(r.title)}, {"description", OptStr(r.description)}});
        }
        sections.push_back(json::object{{"title", OptStr(s.title)}, {"rows", std::move(rows)}});
      }
      o["list"] = json::object{{"button", Str(c.list.button)}, {"sections", std::move(sections)}};
      break;
    }
    case InteractiveKind::kCarousel: {
      json::array cards;
      for (const Card& card : c.cards) {
        cards.push_back(json::object{{"title", Str(card.title)},
                                     {"subtitle", OptStr(card.subtitle)},
                                     {"image_url", OptStr(card.image_url)},
                                     {"buttons", ChoicesJson(card.buttons)}});
      }
      o["cards"] = std::move(cards);
      break;
    }
  }
}

void Put(json::object& o, const TemplateContent& c) {
  o["name"] = Str(c.name);
  o["language"] = Str(c.language);
  json::array comps;
  for (const TemplateComponent& comp : c.components) {
    json::array params;
    for (const TemplateParameter& p : comp.parameters) {
      params.push_back(json::object{{"type", Str(p.type)}, {"text", OptStr(p.text)}});
    }
    comps.push_back(json::object{{"type", Str(comp.type)}, {"parameters", std::move(params)}});
  }
  o["components"] = std::move(comps);
}

void Put(json::object& o, const SystemContent& c) {
  o["code"] = Str(c.code);
  o["text"] = OptStr(c.text);
}

void Put(json::object& o, const UnsupportedContent& c) {
  o["provider_type"] = Str(c.provider_type);
  o["description"] = OptStr(c.description);
}

json::value DataJson(const Message& m) { return ToJson(m); }

json::value DataJson(const MessageStatusData& d) {
  json::object o;
  o["message"] = Str(d.message.str());
  o["conversation"] = Str(d.conversation.str());
  o["status"] = Enum(d.status);
  o["error"] = d.error ? json::value(json::object{{"code", Str(d.error->code)},
                                                  {"message", OptStr(d.error->message)}})
                       : json::value(nullptr);
  o["provider_message_id"] = OptStr(d.provider_message_id);
  o["at"] = Time(d.at);
  return o;
}

json::value DataJson(const TypingData& d) {
  return json::object{
      {"conversation", Str(d.conversation.str())}, {"role", Enum(d.role)}, {"on", d.on}};
}

json::value DataJson(const ConversationStartedData& d) {
  return json::object{{"conversation", Str(d.conversation.str())},
                      {"connection", Str(d.connection.str())},
                      {"customer", Str(d.customer.str())}};
}

json::value DataJson(const ConversationEndedData& d) {
  return json::object{{"conversation", Str(d.conversation.str())},
                      {"connection", Str(d.connection.str())},
                      {"customer", Str(d.customer.str())},
                      {"reason", Enum(d.reason)}};
}

json::value DataJson(const CustomerUpdatedData& d) {
  return json::object{{"customer", Str(d.customer.str())},
                      {"connection", Str(d.connection.str())},
                      {"name", OptStr(d.name)}};
}

// ---- Reading -----------------------------------------------------------------------------

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
  PARLEY_ASSIGN_OR_RETURN(a.mime_type, f.String("mime_type", true));
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

json::value ToJson(const Content& content) {
  json::object o;
  o["type"] = Enum(TypeOf(content));
  std::visit([&](const auto& c) { Put(o, c); }, content);
  return o;
}

json::value ToJson(const Message& m) {
  json::object o;
  o["v"] = m.v;
  o["id"] = Str(m.id.str());
  o["tenant"] = Str(m.tenant.str());
  o["conversation"] = Str(m.conversation.str());
  o["channel"] =
      json::object{{"kind", Str(m.channel.kind)}, {"connection", Str(m.channel.connection.str())}};
  o["direction"] = Enum(m.direction);
  o["author"] = json::object{{"role", Enum(m.author.role)},
                             {"customer", OptId(m.author.customer)},
                             {"name", OptStr(m.author.name)},
                             {"agent_id", OptStr(m.author.agent_id)}};
  o["provider_message_id"] = OptStr(m.provider_message_id);
  o["reply_to"] = OptId(m.reply_to);
  o["reply_to_provider_id"] = OptStr(m.reply_to_provider_id);
  o["sent_at"] = m.sent_at ? Time(*m.sent_at) : json::value(nullptr);
  o["received_at"] = Time(m.received_at);
  o["content"] = ToJson(m.content);
  json::object meta;
  for (const auto& [k, v] : m.metadata) meta[k] = Str(v);
  o["metadata"] = std::move(meta);
  return o;
}

json::value ToJson(const Event& e) {
  json::object o;
  o["v"] = e.v;
  o["id"] = Str(e.id.str());
  o["tenant"] = Str(e.tenant.str());
  o["type"] = Enum(TypeOf(e));
  o["created_at"] = Time(e.created_at);
  o["data"] = std::visit([](const auto& d) { return DataJson(d); }, e.data);
  return o;
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

std::string Serialize(const Message& message) { return json::serialize(ToJson(message)); }
std::string Serialize(const Event& event) { return json::serialize(ToJson(event)); }

Result<json::value> ParseBoundedJson(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return InvalidArgument("JSON: larger than " + std::to_string(max_bytes) + " bytes");
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  // The error_code overload reports syntax errors without throwing; only allocation can still
  // throw, and the request path must not.
  try {
    json::error_code ec;
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
    if (ec) return InvalidArgument("JSON: malformed (" + ec.message() + ")");
    return v;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("JSON: out of memory");
  } catch (const std::exception&) {
    return InvalidArgument("JSON: malformed");
  }
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

// src/core/message_json_write.cc
//
// The writing half of the codec of message_json.h: ToJson and Serialize. Reading is in
// message_json_read.cc.
#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <utility>
#include <vector>

#include "core/json_scan.h"
#include "core/message_json.h"

namespace parley {

namespace json = boost::json;

namespace {

// Every value is built in one storage `sp`: Serialize passes a monotonic arena on its stack,
// so a message's tree costs no heap allocation and is released at once; ToJson's callers get
// the default heap. Objects are reserved to their size and filled with emplace, which
// constructs each member in the object's storage (assigning a value built elsewhere copies).
using Sp = const json::storage_ptr&;

json::string_view View(std::string_view s) { return {s.data(), s.size()}; }
json::value Null(Sp sp) { return json::value(nullptr, sp); }
json::value Str(std::string_view s, Sp sp) { return json::value(View(s), sp); }
json::value OptStr(const std::string& s, Sp sp) { return s.empty() ? Null(sp) : Str(s, sp); }
json::value Time(TimePoint t, Sp sp) { return Str(FormatRfc3339(t), sp); }
template <typename E>
json::value Enum(E e, Sp sp) {
  return Str(WireName(e), sp);
}
template <typename IdT>
json::value OptId(const std::optional<IdT>& id, Sp sp) {
  return id ? Str(id->str(), sp) : Null(sp);
}

json::object Object(size_t members, Sp sp) {
  json::object o(sp);
  o.reserve(members);
  return o;
}

json::array Array(size_t elements, Sp sp) {
  json::array a(sp);
  a.reserve(elements);
  return a;
}

json::array ChoicesJson(const std::vector<Choice>& choices, Sp sp) {
  json::array a = Array(choices.size(), sp);
  for (const Choice& c : choices) {
    json::object o = Object(2, sp);
    o.emplace("id", Str(c.id, sp));
    o.emplace("title", Str(c.title, sp));
    a.emplace_back(std::move(o));
  }
  return a;
}

// One overload per content type; each writes its fields after "type".
void Put(json::object& o, const TextContent& c, Sp sp) { o.emplace("text", Str(c.text, sp)); }

void Put(json::object& o, const MediaContent& c, Sp sp) {
  o.emplace("kind", Enum(c.kind, sp));
  json::array atts = Array(c.attachments.size(), sp);
  for (const Attachment& a : c.attachments) {
    json::object j = Object(6, sp);
    j.emplace("id", OptId(a.id, sp));
    j.emplace("url", OptStr(a.url, sp));
    j.emplace("mime_type", Str(a.mime_type, sp));
    j.emplace("size_bytes", a.size_bytes ? json::value(*a.size_bytes, sp) : Null(sp));
    j.emplace("filename", OptStr(a.filename, sp));
    j.emplace("sha256", OptStr(a.sha256, sp));
    atts.emplace_back(std::move(j));
  }
  o.emplace("attachments", std::move(atts));
  o.emplace("caption", OptStr(c.caption, sp));
}

void Put(json::object& o, const LocationContent& c, Sp sp) {
  o.emplace("latitude", c.latitude);
  o.emplace("longitude", c.longitude);
  o.emplace("name", OptStr(c.name, sp));
  o.emplace("address", OptStr(c.address, sp));
}

// {"<value_key>": value, "type": type or null}: a contact's phone or email.
json::object Typed(std::string_view value_key, const std::string& value, const std::string& type,
                   Sp sp) {
  json::object o = Object(2, sp);
  o.emplace(View(value_key), Str(value, sp));
  o.emplace("type", OptStr(type, sp));
  return o;
}

void Put(json::object& o, const ContactContent& c, Sp sp) {
  json::array contacts = Array(c.contacts.size(), sp);
  for (const ContactCard& card : c.contacts) {
    json::object j = Object(3, sp);
    json::object name = Object(3, sp);
    name.emplace("formatted", Str(card.name.formatted, sp));
    name.emplace("first", OptStr(card.name.first, sp));
    name.emplace("last", OptStr(card.name.last, sp));
    j.emplace("name", std::move(name));
    json::array phones = Array(card.phones.size(), sp);
    for (const ContactPhone& p : card.phones) {
      phones.emplace_back(Typed("number", p.number, p.type, sp));
    }
    j.emplace("phones", std::move(phones));
    json::array emails = Array(card.emails.size(), sp);
    for (const ContactEmail& e : card.emails) {
      emails.emplace_back(Typed("address", e.address, e.type, sp));
    }
    j.emplace("emails", std::move(emails));
    contacts.emplace_back(std::move(j));
  }
  o.emplace("contacts", std::move(contacts));
}

void Put(json::object& o, const ReplyContent& c, Sp sp) {
  o.emplace("source", Enum(c.source, sp));
  o.emplace("title", Str(c.title, sp));
  o.emplace("payload", OptStr(c.payload, sp));
}

void Put(json::object& o, const ReactionContent& c, Sp sp) {
  o.emplace("emoji", Str(c.emoji, sp));
  json::object target = Object(2, sp);
  target.emplace("message", OptId(c.target_message, sp));
  target.emplace("provider_message_id", OptStr(c.target_provider_message_id, sp));
  o.emplace("target", std::move(target));
}

void Put(json::object& o, const InteractiveContent& c, Sp sp) {
  o.emplace("kind", Enum(c.kind, sp));
  o.emplace("header", OptStr(c.header, sp));
  o.emplace("body", OptStr(c.body, sp));
  o.emplace("footer", OptStr(c.footer, sp));
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      o.emplace(View(WireName(c.kind)), ChoicesJson(c.choices, sp));
      break;
    case InteractiveKind::kList: {
      json::array sections = Array(c.list.sections.size(), sp);
      for (const ListSection& s : c.list.sections) {
        json::array rows = Array(s.rows.size(), sp);
        for (const ListRow& r : s.rows) {
          json::object row = Object(3, sp);
          row.emplace("id", Str(r.id, sp));
          row.emplace("title", Str(r.title, sp));
          row.emplace("description", OptStr(r.description, sp));
          rows.emplace_back(std::move(row));
        }
        json::object section = Object(2, sp);
        section.emplace("title", OptStr(s.title, sp));
        section.emplace("rows", std::move(rows));
        sections.emplace_back(std::move(section));
      }
      json::object list = Object(2, sp);
      list.emplace("button", Str(c.list.button, sp));
      list.emplace("sections", std::move(sections));
      o.emplace("list", std::move(list));
      break;
    }
    case InteractiveKind::kCarousel: {
      json::array cards = Array(c.cards.size(), sp);
      for (const Card& card : c.cards) {
        json::object j = Object(4, sp);
        j.emplace("title", Str(card.title, sp));
        j.emplace("subtitle", OptStr(card.subtitle, sp));
        j.emplace("image_url", OptStr(card.image_url, sp));
        j.emplace("buttons", ChoicesJson(card.buttons, sp));
        cards.emplace_back(std::move(j));
      }
      o.emplace("cards", std::move(cards));
      break;
    }
  }
}

void Put(json::object& o, const TemplateContent& c, Sp sp) {
  o.emplace("name", Str(c.name, sp));
  o.emplace("language", Str(c.language, sp));
  json::array comps = Array(c.components.size(), sp);
  for (const TemplateComponent& comp : c.components) {
    json::array params = Array(comp.parameters.size(), sp);
    for (const TemplateParameter& p : comp.parameters) {
      json::object param = Object(2, sp);
      param.emplace("type", Str(p.type, sp));
      param.emplace("text", OptStr(p.text, sp));
      params.emplace_back(std::move(param));
    }
    json::object j = Object(2, sp);
    j.emplace("type", Str(comp.type, sp));
    j.emplace("parameters", std::move(params));
    comps.emplace_back(std::move(j));
  }
  o.emplace("components", std::move(comps));
}

void Put(json::object& o, const SystemContent& c, Sp sp) {
  o.emplace("code", Str(c.code, sp));
  o.emplace("text", OptStr(c.text, sp));
}

void Put(json::object& o, const UnsupportedContent& c, Sp sp) {
  o.emplace("provider_type", Str(c.provider_type, sp));
  o.emplace("description", OptStr(c.description, sp));
}

json::value DataJson(const Message& m, Sp sp) { return ToJson(m, sp); }

json::value DataJson(const MessageStatusData& d, Sp sp) {
  json::object o = Object(6, sp);
  o.emplace("message", Str(d.message.str(), sp));
  o.emplace("conversation", Str(d.conversation.str(), sp));
  o.emplace("status", Enum(d.status, sp));
  if (d.error) {
    json::object error = Object(2, sp);
    error.emplace("code", Str(d.error->code, sp));
    error.emplace("message", OptStr(d.error->message, sp));
    o.emplace("error", std::move(error));
  } else {
    o.emplace("error", nullptr);
  }
  o.emplace("provider_message_id", OptStr(d.provider_message_id, sp));
  o.emplace("at", Time(d.at, sp));
  return o;
}

json::value DataJson(const TypingData& d, Sp sp) {
  json::object o = Object(3, sp);
  o.emplace("conversation", Str(d.conversation.str(), sp));
  o.emplace("role", Enum(d.role, sp));
  o.emplace("on", d.on);
  return o;
}

json::value DataJson(const ConversationStartedData& d, Sp sp) {
  json::object o = Object(5, sp);
  o.emplace("conversation", Str(d.conversation.str(), sp));
  o.emplace("connection", Str(d.connection.str(), sp));
  o.emplace("customer", Str(d.customer.str(), sp));
  o.emplace("returning", d.returning);
  if (d.customer_first_seen) o.emplace("customer_first_seen", Time(*d.customer_first_seen, sp));
  return o;
}

json::value DataJson(const ConversationEndedData& d, Sp sp) {
  json::object o = Object(4, sp);
  o.emplace("conversation", Str(d.conversation.str(), sp));
  o.emplace("connection", Str(d.connection.str(), sp));
  o.emplace("customer", Str(d.customer.str(), sp));
  o.emplace("reason", Enum(d.reason, sp));
  return o;
}

json::value DataJson(const CustomerUpdatedData& d, Sp sp) {
  json::object o = Object(3, sp);
  o.emplace("customer", Str(d.customer.str(), sp));
  o.emplace("connection", Str(d.connection.str(), sp));
  o.emplace("name", OptStr(d.name, sp));
  return o;
}

// Every member of the event but "data", in the order ToJson writes them.
json::object EventHeader(const Event& e, Sp sp) {
  json::object o = Object(6, sp);
  o.emplace("v", e.v);
  o.emplace("id", Str(e.id.str(), sp));
  o.emplace("tenant", Str(e.tenant.str(), sp));
  o.emplace("type", Enum(TypeOf(e), sp));
  o.emplace("created_at", Time(e.created_at, sp));
  return o;
}

// Serializes the tree `build` makes in an arena on the stack (a message's tree fits in a few
// KiB; a larger one continues on the heap and is freed with the arena).
template <typename Build>
std::string SerializeInArena(const Build& build) {
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  const json::storage_ptr sp(&arena);
  return json::serialize(build(sp));
}

// ---- Serialize(Message) without a tree ----
// A message is serialized once per message on every path (stored, sealed, sent as an
// event), and building its tree first cost more than writing it. The text written is byte
// for byte what json::serialize(ToJson(m)) writes (message_json_test.cc checks it on every
// sample): the same member order, and the same escaping: '"', '\\' and control characters
// only, with \b \t \n \f \r short and the rest as \u00xx, everything else (UTF-8
// included) as is. Contents other than text are written through their tree.

// `"key":` after a comma unless it is the object's first member.
void AppendKey(std::string& out, std::string_view key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;  // keys are fixed ASCII names or tokens
  out += "\":";
}

void AppendOptString(std::string& out, const std::string& s) {
  if (s.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, s);
  }
}

void AppendTime(std::string& out, TimePoint t) { AppendJsonString(out, FormatRfc3339(t)); }

// `{"v":…,"id":…,"tenant":…`: how a message and an event both begin.
void AppendOpening(std::string& out, int v, std::string_view id, std::string_view tenant) {
  out += '{';
  AppendKey(out, "v", true);
  out += std::to_string(v);
  AppendKey(out, "id");
  AppendJsonString(out, id);
  AppendKey(out, "tenant");
  AppendJsonString(out, tenant);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    size_t run = PlainJsonRun(s, i);
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[run]);
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\b':
        out += 'b';
        break;
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\f':
        out += 'f';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    i = run + 1;
  }
  out += '"';
}

json::value ToJson(const Content& content, const json::storage_ptr& sp) {
  json::object o = Object(8, sp);
  o.emplace("type", Enum(TypeOf(content), sp));
  std::visit([&](const auto& c) { Put(o, c, sp); }, content);
  return o;
}

json::value ToJson(const Message& m, const json::storage_ptr& sp) {
  json::object o = Object(15, sp);
  o.emplace("v", m.v);
  o.emplace("id", Str(m.id.str(), sp));
  o.emplace("tenant", Str(m.tenant.str(), sp));
  o.emplace("conversation", Str(m.conversation.str(), sp));
  json::object channel = Object(2, sp);
  channel.emplace("kind", Str(m.channel.kind, sp));
  channel.emplace("connection", Str(m.channel.connection.str(), sp));
  o.emplace("channel", std::move(channel));
  o.emplace("direction", Enum(m.direction, sp));
  json::object author = Object(4, sp);
  author.emplace("role", Enum(m.author.role, sp));
  author.emplace("customer", OptId(m.author.customer, sp));
  author.emplace("name", OptStr(m.author.name, sp));
  author.emplace("agent_id", OptStr(m.author.agent_id, sp));
  o.emplace("author", std::move(author));
  o.emplace("provider_message_id", OptStr(m.provider_message_id, sp));
  o.emplace("reply_to", OptId(m.reply_to, sp));
  o.emplace("reply_to_provider_id", OptStr(m.reply_to_provider_id, sp));
  o.emplace("sent_at", m.sent_at ? Time(*m.sent_at, sp) : Null(sp));
  o.emplace("received_at", Time(m.received_at, sp));
  o.emplace("content", ToJson(m.content, sp));
  json::object meta = Object(m.metadata.size(), sp);
  for (const auto& [k, v] : m.metadata) meta.emplace(View(k), Str(v, sp));
  o.emplace("metadata", std::move(meta));
  return o;
}

json::value ToJson(const Event& e, const json::storage_ptr& sp) {
  json::object o = EventHeader(e, sp);
  o.emplace("data", std::visit([&](const auto& d) { return DataJson(d, sp); }, e.data));
  return o;
}

void AppendContentJson(std::string& out, const Content& content) {
  if (const auto* text = std::get_if<TextContent>(&content)) {
    out += '{';
    AppendKey(out, "type", true);
    AppendJsonString(out, WireName(ContentType::kText));
    AppendKey(out, "text");
    AppendJsonString(out, text->text);
    out += '}';
  } else {
    out += SerializeInArena([&](Sp sp) { return ToJson(content, sp); });
  }
}

std::string Serialize(const Message& m) {
  const auto* text = std::get_if<TextContent>(&m.content);
  std::string out;
  out.reserve(640 + (text ? text->text.size() : 256));
  AppendOpening(out, m.v, m.id.str(), m.tenant.str());
  AppendKey(out, "conversation");
  AppendJsonString(out, m.conversation.str());
  AppendKey(out, "channel");
  out += '{';
  AppendKey(out, "kind", true);
  AppendJsonString(out, m.channel.kind);
  AppendKey(out, "connection");
  AppendJsonString(out, m.channel.connection.str());
  out += '}';
  AppendKey(out, "direction");
  AppendJsonString(out, WireName(m.direction));
  AppendKey(out, "author");
  out += '{';
  AppendKey(out, "role", true);
  AppendJsonString(out, WireName(m.author.role));
  AppendKey(out, "customer");
  if (m.author.customer) {
    AppendJsonString(out, m.author.customer->str());
  } else {
    out += "null";
  }
  AppendKey(out, "name");
  AppendOptString(out, m.author.name);
  AppendKey(out, "agent_id");
  AppendOptString(out, m.author.agent_id);
  out += '}';
  AppendKey(out, "provider_message_id");
  AppendOptString(out, m.provider_message_id);
  AppendKey(out, "reply_to");
  if (m.reply_to) {
    AppendJsonString(out, m.reply_to->str());
  } else {
    out += "null";
  }
  AppendKey(out, "reply_to_provider_id");
  AppendOptString(out, m.reply_to_provider_id);
  AppendKey(out, "sent_at");
  if (m.sent_at) {
    AppendTime(out, *m.sent_at);
  } else {
    out += "null";
  }
  AppendKey(out, "received_at");
  AppendTime(out, m.received_at);
  AppendKey(out, "content");
  AppendContentJson(out, m.content);
  AppendKey(out, "metadata");
  out += '{';
  bool first = true;
  for (const auto& [k, v] : m.metadata) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, k);
    out += ':';
    AppendJsonString(out, v);
  }
  out += "}}";
  return out;
}

std::string Serialize(const Event& event) {
  return SerializeInArena([&](Sp sp) { return ToJson(event, sp); });
}

std::string SerializeWithData(const Event& event, std::string_view data_json) {
  // EventHeader's members, written directly (as Serialize(Message)).
  std::string out;
  out.reserve(192 + data_json.size());
  AppendOpening(out, event.v, event.id.str(), event.tenant.str());
  AppendKey(out, "type");
  AppendJsonString(out, WireName(TypeOf(event)));
  AppendKey(out, "created_at");
  AppendTime(out, event.created_at);
  AppendKey(out, "data");
  out += data_json;
  out += '}';
  return out;
}

}  // namespace parley

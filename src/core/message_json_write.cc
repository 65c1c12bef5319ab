// src/core/message_json_write.cc
//
// The writing half of the codec of message_json.h: ToJson and Serialize. Reading is in
// message_json_read.cc.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <utility>
#include <vector>

#include "core/message_json.h"

namespace parley {

namespace json = boost::json;

namespace {

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
  json::object o{{"conversation", Str(d.conversation.str())},
                 {"connection", Str(d.connection.str())},
                 {"customer", Str(d.customer.str())},
                 {"returning", d.returning}};
  if (d.customer_first_seen) o["customer_first_seen"] = Str(FormatRfc3339(*d.customer_first_seen));
  return o;
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

namespace {

// Every member of the event but "data", in the order ToJson writes them.
json::object EventHeader(const Event& e) {
  json::object o;
  o["v"] = e.v;
  o["id"] = Str(e.id.str());
  o["tenant"] = Str(e.tenant.str());
  o["type"] = Enum(TypeOf(e));
  o["created_at"] = Time(e.created_at);
  return o;
}

}  // namespace

json::value ToJson(const Event& e) {
  json::object o = EventHeader(e);
  o["data"] = std::visit([](const auto& d) { return DataJson(d); }, e.data);
  return o;
}

std::string Serialize(const Message& message) { return json::serialize(ToJson(message)); }
std::string Serialize(const Event& event) { return json::serialize(ToJson(event)); }

std::string SerializeWithData(const Event& event, std::string_view data_json) {
  std::string out = json::serialize(EventHeader(event));
  out.pop_back();  // the header object's closing brace
  out.reserve(out.size() + data_json.size() + 10);
  out += ",\"data\":";
  out += data_json;
  out += '}';
  return out;
}

}  // namespace parley

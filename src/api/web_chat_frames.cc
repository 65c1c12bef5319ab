#include "api/web_chat_frames.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/url/parse.hpp>

#include "api/web_chat.h"
#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "delivery/attachments.h"

namespace parley::api {

namespace json = boost::json;

namespace {
constexpr std::string_view kSessionPrefix = "wst_";
constexpr size_t kSessionTokenChars = 43;  // 32 random bytes, base64url
}  // namespace

std::string NewSessionToken() { return std::string(kSessionPrefix) + crypto::RandomToken(32); }

std::string VisitorIdOf(std::string_view session_token) {
  std::string digest =
      crypto::Sha256(std::string("parley.web.session:") + std::string(session_token));
  return "wv_" + crypto::HexEncode(digest).substr(0, 32);
}

bool IsSessionToken(std::string_view token) {
  if (!token.starts_with(kSessionPrefix)) return false;
  std::string_view rest = token.substr(kSessionPrefix.size());
  return rest.size() == kSessionTokenChars && std::all_of(rest.begin(), rest.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

std::string ErrorFrame(std::string_view code, std::string_view message, std::string_view ref) {
  json::object o{{"type", "error"}, {"code", code}, {"message", message}};
  if (!ref.empty()) o["ref"] = ref;
  return json::serialize(o);
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

std::string TypingFrame(const json::object& data) {
  auto role = data.find("role");
  if (role == data.end() || role->value() == "customer") return {};
  auto on = data.find("on");
  return json::serialize(json::object{{"type", "typing"},
                                      {"on", on != data.end() && on->value() == true},
                                      {"role", role->value()}});
}

json::object MessageView(const json::object& m, std::string_view status,
                         const json::storage_ptr& sp) {
  json::object view(sp);
  for (std::string_view key : {"id", "direction", "content", "reply_to"}) {
    if (auto it = m.find(key); it != m.end() && !it->value().is_null()) view[key] = it->value();
  }
  json::object author(sp);
  if (auto it = m.find("author"); it != m.end() && it->value().is_object()) {
    const json::object& a = it->value().get_object();
    for (std::string_view key : {"role", "name"}) {
      if (auto f = a.find(key); f != a.end() && f->value().is_string()) author[key] = f->value();
    }
  }
  view["author"] = std::move(author);
  if (auto it = m.find("received_at"); it != m.end()) view["created_at"] = it->value();
  if (!status.empty()) view["status"] = status;
  return view;
}

ViewFacts FactsOf(const json::object& view) {
  ViewFacts facts;
  auto id = view.find("id");
  if (id != view.end() && id->value().is_string()) facts.id = id->value().get_string();
  auto direction = view.find("direction");
  facts.inbound = direction != view.end() && direction->value() == "inbound";
  return facts;
}

std::string MessageFrame(std::string_view message_json, std::string_view status,
                         std::string_view ack_of, ViewFacts* facts) {
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  const json::storage_ptr sp(&arena);
  auto parsed = ParseBoundedJson(message_json, kMaxMessageJsonBytes, sp);
  if (!parsed.ok() || !parsed->is_object()) return {};
  return MessageFrame(parsed->get_object(), status, ack_of, facts, sp);
}

std::string MessageFrame(const json::object& m, std::string_view status, std::string_view ack_of,
                         ViewFacts* facts, const json::storage_ptr& sp) {
  json::object view = MessageView(m, status, sp);
  if (facts) *facts = FactsOf(view);
  json::object frame(sp);
  if (ack_of.empty()) {
    frame.emplace("type", "message");
  } else {
    frame.emplace("type", "ack");
    frame.emplace("client_id", json::string_view(ack_of.data(), ack_of.size()));
  }
  frame.emplace("message", std::move(view));
  return json::serialize(frame);
}

std::string MessageFrame(const Message& m, std::string_view status, std::string_view ack_of,
                         ViewFacts* facts) {
  // MessageView's members in its order, written without a tree.
  const auto* text = std::get_if<TextContent>(&m.content);
  std::string out;
  out.reserve(256 + ack_of.size() + (text ? text->text.size() : 256));
  if (ack_of.empty()) {
    out += R"({"type":"message")";
  } else {
    out += R"({"type":"ack","client_id":)";
    AppendJsonString(out, ack_of);
  }
  out += R"(,"message":{"id":)";
  AppendJsonString(out, m.id.str());
  out += R"(,"direction":)";
  AppendJsonString(out, WireName(m.direction));
  out += R"(,"content":)";
  AppendContentJson(out, m.content);
  if (m.reply_to) {
    out += R"(,"reply_to":)";
    AppendJsonString(out, m.reply_to->str());
  }
  out += R"(,"author":{"role":)";
  AppendJsonString(out, WireName(m.author.role));
  if (!m.author.name.empty()) {
    out += R"(,"name":)";
    AppendJsonString(out, m.author.name);
  }
  out += R"(},"created_at":)";
  AppendJsonString(out, FormatRfc3339(m.received_at));
  if (!status.empty()) {
    out += R"(,"status":)";
    AppendJsonString(out, status);
  }
  out += "}}";
  if (facts) *facts = ViewFacts{m.id.str(), m.direction == Direction::kInbound};
  return out;
}

std::string MessageFrame(const Message& m, std::string_view status, std::string_view ack_of,
                         ViewFacts* facts, const delivery::Attachments* attachments,
                         const crypto::DataKey& key, TimePoint now) {
  if (attachments && std::holds_alternative<MediaContent>(m.content)) {
    Message linked = m;
    attachments->AddLinks(key, linked, now);
    return MessageFrame(linked, status, ack_of, facts);
  }
  return MessageFrame(m, status, ack_of, facts);
}

std::string DuplicateAckFrame(std::string_view client_id, std::string_view message_id) {
  return json::serialize(json::object{{"type", "ack"},
                                      {"client_id", client_id},
                                      {"message", json::object{{"id", message_id}}},
                                      {"duplicate", true}});
}

Result<json::object> ParseObject(std::string_view text, size_t max_bytes) {
  auto parsed = ParseBoundedJson(text, max_bytes);
  if (!parsed.ok()) return InvalidArgument("frame: not valid JSON");
  if (!parsed->is_object()) return InvalidArgument("frame: must be a JSON object");
  return std::move(parsed->get_object());
}

Result<std::string> OptionalString(const json::object& o, std::string_view key, size_t max) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) return InvalidArgument(fmt::format("{}: must be a string", key));
  if (it->value().get_string().size() > max) {
    return InvalidArgument(fmt::format("{}: longer than {} bytes", key, max));
  }
  return std::string(it->value().get_string());
}

std::string FilterCookies(const json::value* cookies, const channels::web::WebSettings& settings) {
  if (!cookies || !cookies->is_object()) return {};
  json::object kept;
  for (const std::string& name : settings.cookie_names) {
    auto it = cookies->get_object().find(name);
    if (it == cookies->get_object().end() || !it->value().is_string()) continue;
    std::string_view value = it->value().get_string();
    if (value.size() > channels::web::kMaxCookieValueBytes || !Printable(value)) continue;
    kept[name] = value;
  }
  return kept.empty() ? std::string() : json::serialize(kept);
}

bool IsHttpUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes) return false;
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https");
}

Result<WebVisit> LoadVisit(store::Reader& r, const TenantId& tenant, const ConnectionId& connection,
                           const std::string& contact_index, int history_limit) {
  WebVisit visit;
  auto customer = r.FindCustomerByContact(tenant, "web", contact_index);
  if (!customer.ok()) {
    if (customer.status().code() == StatusCode::kNotFound) return visit;
    return customer.status();
  }
  auto open = r.FindOpenConversation(tenant, connection, customer->id);
  if (!open.ok()) {
    if (open.status().code() == StatusCode::kNotFound) return visit;
    return open.status();
  }
  visit.conversation = std::move(*open);
  store::Page page;
  page.limit = 500;
  while (true) {
    PARLEY_ASSIGN_OR_RETURN(auto batch, r.ListMessages(tenant, visit.conversation->id, page));
    for (auto& m : batch) visit.messages.push_back(std::move(m));
    if (static_cast<int>(batch.size()) < page.limit) break;
    page.after = visit.messages.back().id.str();
  }
  if (static_cast<int>(visit.messages.size()) > history_limit) {
    visit.messages.erase(visit.messages.begin(), visit.messages.end() - history_limit);
  }
  return visit;
}

}  // namespace parley::api

#include "channels/whatsapp/whatsapp_render.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "channels/meta/meta_common.h"
#include "channels/whatsapp/whatsapp_webhook.h"
#include "core/message_json.h"

namespace parley::channels::whatsapp {

namespace json = boost::json;

namespace {

using Failure = std::optional<ProviderError>;

ProviderError TooLong(std::string_view field, size_t limit, std::string_view unit = "characters") {
  return {"too_long", fmt::format("{} is longer than WhatsApp's {} {}", field, limit, unit)};
}

ProviderError Unsupported(std::string_view what) {
  return {"unsupported_content", std::string(what)};
}

bool AbsoluteHttpUrl(std::string_view url) {
  return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
}

bool HasLink(std::string_view text) {
  return text.find("https://") != std::string_view::npos ||
         text.find("http://") != std::string_view::npos;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

Failure RenderText(const std::string& text, json::object& out) {
  if (CharCount(text) > kMaxTextChars) return TooLong("text", kMaxTextChars);
  out = {{"preview_url", HasLink(text)}, {"body", text}};
  return std::nullopt;
}

Failure RenderMedia(const MediaContent& c, std::string& type, json::object& out) {
  if (c.attachments.size() != 1) {
    return Unsupported("WhatsApp sends one attachment per message");
  }
  const Attachment& a = c.attachments.front();
  if (!AbsoluteHttpUrl(a.url)) {
    return ProviderError{"public_url_required",
                         "WhatsApp fetches media by link: configure server.public_url"};
  }
  switch (c.kind) {
    case MediaKind::kImage:
      type = "image";
      break;
    case MediaKind::kAudio:
      type = "audio";
      break;
    case MediaKind::kVideo:
      type = "video";
      break;
    case MediaKind::kFile:
      type = "document";
      break;
    case MediaKind::kSticker:
      type = "sticker";
      break;
  }
  out = {{"link", a.url}};
  if (!c.caption.empty()) {
    if (c.kind == MediaKind::kAudio || c.kind == MediaKind::kSticker) {
      return Unsupported("WhatsApp has no caption on audio or stickers");
    }
    if (CharCount(c.caption) > kMaxCaptionChars) return TooLong("caption", kMaxCaptionChars);
    out["caption"] = c.caption;
  }
  if (c.kind == MediaKind::kFile && !a.filename.empty()) out["filename"] = a.filename;
  return std::nullopt;
}

json::object RenderLocation(const LocationContent& c) {
  json::object out{{"latitude", c.latitude}, {"longitude", c.longitude}};
  if (!c.name.empty()) out["name"] = c.name;
  if (!c.address.empty()) out["address"] = c.address;
  return out;
}

json::array RenderContacts(const ContactContent& c) {
  json::array out;
  for (const ContactCard& card : c.contacts) {
    json::object name{{"formatted_name", card.name.formatted}};
    if (!card.name.first.empty()) name["first_name"] = card.name.first;
    if (!card.name.last.empty()) name["last_name"] = card.name.last;
    json::object o{{"name", std::move(name)}};
    if (!card.phones.empty()) {
      json::array phones;
      for (const ContactPhone& p : card.phones) {
        json::object phone{{"phone", p.number}};
        if (!p.type.empty()) phone["type"] = Upper(p.type);
        phones.push_back(std::move(phone));
      }
      o["phones"] = std::move(phones);
    }
    if (!card.emails.empty()) {
      json::array emails;
      for (const ContactEmail& e : card.emails) {
        json::object email{{"email", e.address}};
        if (!e.type.empty()) email["type"] = Upper(e.type);
        emails.push_back(std::move(email));
      }
      o["emails"] = std::move(emails);
    }
    out.push_back(std::move(o));
  }
  return out;
}

// Header and footer are decoration: cut to Meta's limit rather than refuse the message.
void AddHeaderFooter(const InteractiveContent& c, json::object& out) {
  if (!c.header.empty()) {
    out["header"] = {{"type", "text"}, {"text", TruncateChars(c.header, kMaxHeaderChars)}};
  }
  if (!c.footer.empty()) {
    out["footer"] = {{"text", TruncateChars(c.footer, kMaxHeaderChars)}};
  }
}

Failure Row(const std::string& id, const std::string& title, const std::string& description,
            json::array& rows) {
  if (id.size() > kMaxRowIdBytes) return TooLong("a list row id", kMaxRowIdBytes, "bytes");
  json::object row{{"id", id}, {"title", TruncateChars(title, kMaxRowTitleChars)}};
  if (!description.empty()) {
    row["description"] = TruncateChars(description, kMaxRowDescriptionChars);
  }
  rows.push_back(std::move(row));
  return std::nullopt;
}

Failure RenderChoices(const InteractiveContent& c, json::object& out) {
  if (c.choices.size() <= kMaxButtons) {
    if (CharCount(c.body) > kMaxButtonsBodyChars) {
      return TooLong("interactive body", kMaxButtonsBodyChars);
    }
    json::array buttons;
    for (const Choice& choice : c.choices) {
      if (choice.id.size() > kMaxButtonIdBytes) {
        return TooLong("a button id", kMaxButtonIdBytes, "bytes");
      }
      buttons.push_back(
          {{"type", "reply"},
           {"reply",
            {{"id", choice.id}, {"title", TruncateChars(choice.title, kMaxButtonTitleChars)}}}});
    }
    out = {{"type", "button"}};
    AddHeaderFooter(c, out);
    out["body"] = {{"text", c.body}};
    out["action"] = {{"buttons", std::move(buttons)}};
    return std::nullopt;
  }
  // More than three choices do not fit as buttons: a one-section list keeps them tappable.
  if (CharCount(c.body) > kMaxTextChars) return TooLong("interactive body", kMaxTextChars);
  json::array rows;
  for (const Choice& choice : c.choices) {
    if (auto f = Row(choice.id, choice.title, "", rows)) return f;
  }
  out = {{"type", "list"}};
  AddHeaderFooter(c, out);
  out["body"] = {{"text", c.body}};
  json::array sections;
  sections.push_back(json::object{{"rows", std::move(rows)}});
  out["action"] = {{"button", kChoicesListButton}, {"sections", std::move(sections)}};
  return std::nullopt;
}

// The common format's numbered-text degradation, for lists and carousels WhatsApp cannot
// show: the customer answers with a number (or the title) as plain text.
Failure NumberedText(const InteractiveContent& c, const std::vector<std::string>& items,
                     json::object& out) {
  std::string text;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!text.empty()) text += "\n\n";
    text += part;
  };
  add(c.header);
  add(c.body);
  std::string numbered;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) numbered += '\n';
    numbered += fmt::format("{}. {}", i + 1, items[i]);
  }
  add(numbered);
  add(c.footer);
  if (text.empty()) return Unsupported("an empty interactive message");
  return RenderText(text, out);
}

Failure RenderList(const InteractiveContent& c, std::string& type, json::object& out) {
  size_t total_rows = 0;
  for (const ListSection& s : c.list.sections) total_rows += s.rows.size();
  if (total_rows > kMaxListRows || c.list.sections.size() > kMaxListSections) {
    std::vector<std::string> items;
    for (const ListSection& s : c.list.sections) {
      for (const ListRow& r : s.rows) {
        items.push_back(r.description.empty() ? r.title
                                              : fmt::format("{} — {}", r.title, r.description));
      }
    }
    type = "text";
    return NumberedText(c, items, out);
  }
  if (CharCount(c.body) > kMaxTextChars) return TooLong("interactive body", kMaxTextChars);
  json::array sections;
  for (const ListSection& s : c.list.sections) {
    json::array rows;
    for (const ListRow& r : s.rows) {
      if (auto f = Row(r.id, r.title, r.description, rows)) return f;
    }
    json::object section;
    // Meta requires a title on every section when there are several.
    std::string title = s.title.empty() && c.list.sections.size() > 1 ? "Options" : s.title;
    if (!title.empty()) section["title"] = TruncateChars(title, kMaxSectionTitleChars);
    section["rows"] = std::move(rows);
    sections.push_back(std::move(section));
  }
  out = {{"type", "list"}};
  AddHeaderFooter(c, out);
  out["body"] = {{"text", c.body}};
  out["action"] = {{"button", TruncateChars(c.list.button, kMaxListButtonChars)},
                   {"sections", std::move(sections)}};
  return std::nullopt;
}

// WhatsApp's own carousels need approved templates with a media header per card, so a
// carousel degrades to numbered text: one entry per card with its subtitle, image link and
// button titles.
Failure RenderCarousel(const InteractiveContent& c, json::object& out) {
  std::vector<std::string> items;
  for (const Card& card : c.cards) {
    std::string item = card.title;
    if (!card.subtitle.empty()) item += "\n" + card.subtitle;
    if (!card.image_url.empty()) item += "\n" + card.image_url;
    for (const Choice& b : card.buttons) item += "\n   • " + b.title;
    items.push_back(std::move(item));
  }
  return NumberedText(c, items, out);
}

Failure RenderInteractive(const InteractiveContent& c, std::string& type, json::object& out) {
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      type = "interactive";
      return RenderChoices(c, out);
    case InteractiveKind::kList:
      type = "interactive";
      return RenderList(c, type, out);
    case InteractiveKind::kCarousel:
      type = "text";
      return RenderCarousel(c, out);
  }
  return Unsupported("unknown interactive kind");
}

Failure TemplateParameterJson(const TemplateParameter& p, json::object& out) {
  if (p.type == "image" || p.type == "video" || p.type == "document") {
    if (!AbsoluteHttpUrl(p.text)) {
      return ProviderError{"public_url_required",
                           "a template media parameter needs an absolute http(s) link"};
    }
    out = {{"type", p.type}, {p.type, {{"link", p.text}}}};
  } else if (p.type == "payload" || p.type == "coupon_code") {
    out = {{"type", p.type}, {p.type, p.text}};
  } else {
    // text, and currency/date_time given as their display text (Meta accepts text for any
    // body variable).
    out = {{"type", "text"}, {"text", p.text}};
  }
  return std::nullopt;
}

// A button component is one Graph component per parameter, at that parameter's index:
// "payload" -> quick_reply, "coupon_code" -> copy_code, anything else -> url (text suffix).
Failure RenderTemplate(const TemplateContent& c, json::object& out) {
  out = {{"name", c.name}, {"language", {{"code", c.language}}}};
  json::array components;
  for (const TemplateComponent& comp : c.components) {
    if (comp.type == "button") {
      for (size_t i = 0; i < comp.parameters.size(); ++i) {
        const TemplateParameter& p = comp.parameters[i];
        json::object param;
        if (auto f = TemplateParameterJson(p, param)) return f;
        std::string sub_type = p.type == "payload"       ? "quick_reply"
                               : p.type == "coupon_code" ? "copy_code"
                                                         : "url";
        components.push_back({{"type", "button"},
                              {"sub_type", sub_type},
                              {"index", std::to_string(i)},
                              {"parameters", json::array{std::move(param)}}});
      }
      continue;
    }
    json::array params;
    for (const TemplateParameter& p : comp.parameters) {
      json::object param;
      if (auto f = TemplateParameterJson(p, param)) return f;
      params.push_back(std::move(param));
    }
    components.push_back({{"type", comp.type}, {"parameters", std::move(params)}});
  }
  if (!components.empty()) out["components"] = std::move(components);
  return std::nullopt;
}

// Fills `type` and `payload` (the object under the type's key) for `content`.
Failure RenderContent(const Content& content, std::string& type, json::value& payload) {
  json::object obj;
  Failure failure;
  if (const auto* t = std::get_if<TextContent>(&content)) {
    type = "text";
    failure = RenderText(t->text, obj);
  } else if (const auto* m = std::get_if<MediaContent>(&content)) {
    failure = RenderMedia(*m, type, obj);
  } else if (const auto* l = std::get_if<LocationContent>(&content)) {
    type = "location";
    obj = RenderLocation(*l);
  } else if (const auto* c = std::get_if<ContactContent>(&content)) {
    type = "contacts";
    payload = RenderContacts(*c);
    return std::nullopt;
  } else if (const auto* r = std::get_if<ReactionContent>(&content)) {
    if (r->target_provider_message_id.empty()) {
      return ProviderError{"unsupported_content", "the reacted-to message has no WhatsApp id"};
    }
    type = "reaction";
    obj = {{"message_id", r->target_provider_message_id}, {"emoji", r->emoji}};
  } else if (const auto* i = std::get_if<InteractiveContent>(&content)) {
    failure = RenderInteractive(*i, type, obj);
  } else if (const auto* tp = std::get_if<TemplateContent>(&content)) {
    type = "template";
    failure = RenderTemplate(*tp, obj);
  } else if (const auto* s = std::get_if<SystemContent>(&content); s && !s->text.empty()) {
    type = "text";
    failure = RenderText(s->text, obj);
  } else {
    return Unsupported(fmt::format("WhatsApp cannot send {} content", WireName(TypeOf(content))));
  }
  payload = std::move(obj);
  return failure;
}

}  // namespace

size_t CharCount(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string TruncateChars(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) {
        std::string_view cut = text.substr(0, i);
        while (!cut.empty() && cut.back() == ' ') cut.remove_suffix(1);
        return std::string(cut);
      }
      ++chars;
    }
  }
  return std::string(text);
}

RenderedMessage RenderMessage(const OutboundRequest& request) {
  RenderedMessage out;
  if (request.contact_id.empty()) {
    out.failure = ProviderError{"invalid_recipient", "the customer has no WhatsApp id"};
    return out;
  }
  std::string type;
  json::value payload;
  if (auto failure = RenderContent(request.message.content, type, payload)) {
    out.failure = std::move(failure);
    return out;
  }
  out.body = {{"messaging_product", "whatsapp"},
              {"recipient_type", "individual"},
              {"to", request.contact_id},
              {"type", type}};
  out.body[type] = std::move(payload);
  if (!request.reply_to_provider_id.empty() && type != "reaction") {
    out.body["context"] = {{"message_id", request.reply_to_provider_id}};
  }
  return out;
}

std::optional<json::object> RenderSignal(const SignalRequest& request) {
  if (request.provider_message_id.empty() || request.kind == SignalRequest::Kind::kTypingOff) {
    return std::nullopt;
  }
  json::object body{{"messaging_product", "whatsapp"},
                    {"status", "read"},
                    {"message_id", request.provider_message_id}};
  if (request.kind == SignalRequest::Kind::kTypingOn) {
    body["typing_indicator"] = {{"type", "text"}};
  }
  return body;
}

SendOutcome InterpretSendResponse(const http::ClientResponse& response) {
  if (response.status < 200 || response.status >= 300) {
    return meta::ClassifyGraphError(response);
  }
  auto parsed = ParseBoundedJson(response.body, 64 * 1024);
  if (parsed.ok() && parsed->is_object()) {
    auto messages = parsed->get_object().find("messages");
    if (messages != parsed->get_object().end() && messages->value().is_array() &&
        !messages->value().get_array().empty() && messages->value().get_array()[0].is_object()) {
      std::string id = meta::StringField(messages->value().get_array()[0].get_object(), "id");
      if (id.size() <= kMaxIdBytes) return SentAs(std::move(id));
    }
  }
  return SentAs("");
}

}  // namespace parley::channels::whatsapp

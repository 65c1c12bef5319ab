// Outbound: the common format to a Send API body, degrading what the Messenger Platform lacks
// (docs/channels/messenger.md has the table). One Send is one provider message: nothing here
// splits a message in two, so what does not fit fails permanently instead.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <variant>

#include "channels/messenger/messenger_common.h"
#include "channels/meta/meta_common.h"
#include "core/message_json.h"

namespace parley::channels::messenger {

namespace json = boost::json;

namespace {

RenderedMessage Fail(std::string code, std::string message) {
  RenderedMessage r;
  r.error = {std::move(code), std::move(message)};
  return r;
}

RenderedMessage Ok(json::object message) {
  RenderedMessage r;
  r.body = std::move(message);
  return r;
}

bool IsAbsoluteHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
         !parsed->host().empty();
}

RenderedMessage PublicUrlRequired(std::string_view what) {
  return Fail("public_url_required",
              fmt::format("{} must be an absolute http(s) URL the provider can fetch; configure "
                          "the server's public URL",
                          what));
}

// Header, body and footer as one text, separated by blank lines (the Send API has no header
// or footer fields).
std::string Compose(std::string_view header, std::string_view body, std::string_view footer) {
  std::string out;
  for (std::string_view part : {header, body, footer}) {
    if (part.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += part;
  }
  return out;
}

RenderedMessage TooLong(const Flavor& flavor, size_t limit, std::string_view what) {
  return Fail("too_long",
              fmt::format("{} {} is limited to {} characters", flavor.display_name, what, limit));
}

RenderedMessage TextMessage(std::string text, const Flavor& flavor) {
  if (CountChars(text) > kMaxTextChars) return TooLong(flavor, kMaxTextChars, "text");
  return Ok(json::object{{"text", std::move(text)}});
}

struct Option {
  std::string_view id;
  std::string_view title;
};

// {"text":…,"quick_replies":[{"content_type":"text","title":…,"payload":…}]}.
RenderedMessage QuickReplies(std::string text, const std::vector<Option>& options,
                             const Flavor& flavor) {
  if (CountChars(text) > kMaxTextChars) return TooLong(flavor, kMaxTextChars, "text");
  if (options.size() > kMaxQuickReplies) {
    return Fail("unsupported_content", fmt::format("{} allows at most {} quick replies",
                                                   flavor.display_name, kMaxQuickReplies));
  }
  json::array replies;
  for (const Option& o : options) {
    if (CountChars(o.id) > kMaxPayloadChars) {
      return TooLong(flavor, kMaxPayloadChars, "quick reply payload");
    }
    replies.push_back(json::object{{"content_type", "text"},
                                   {"title", TruncateChars(o.title, kMaxQuickReplyTitleChars)},
                                   {"payload", o.id}});
  }
  return Ok(json::object{{"text", std::move(text)}, {"quick_replies", std::move(replies)}});
}

Result<json::array> PostbackButtons(const std::vector<Choice>& choices) {
  json::array buttons;
  for (const Choice& c : choices) {
    if (CountChars(c.id) > kMaxPayloadChars) return InvalidArgument("postback payload");
    buttons.push_back(json::object{{"type", "postback"},
                                   {"title", TruncateChars(c.title, kMaxButtonTitleChars)},
                                   {"payload", c.id}});
  }
  return buttons;
}

json::object TemplateAttachment(json::object payload) {
  return json::object{
      {"attachment", json::object{{"type", "template"}, {"payload", std::move(payload)}}}};
}

RenderedMessage Buttons(const InteractiveContent& c, const Flavor& flavor) {
  std::string text = Compose(c.header, c.body, c.footer);
  if (flavor.button_template && c.choices.size() <= kMaxTemplateButtons &&
      CountChars(text) <= kMaxButtonTemplateTextChars) {
    auto buttons = PostbackButtons(c.choices);
    if (!buttons.ok()) return TooLong(flavor, kMaxPayloadChars, "button payload");
    return Ok(TemplateAttachment(json::object{
        {"template_type", "button"}, {"text", std::move(text)}, {"buttons", std::move(*buttons)}}));
  }
  // No button template on this channel, more than three buttons or a longer text: the same
  // choices as quick replies (a pick arrives as a quick_reply instead of a postback).
  std::vector<Option> options;
  for (const Choice& choice : c.choices) options.push_back({choice.id, choice.title});
  return QuickReplies(std::move(text), options, flavor);
}

RenderedMessage List(const InteractiveContent& c, const Flavor& flavor) {
  std::vector<Option> options;
  for (const ListSection& s : c.list.sections) {
    for (const ListRow& row : s.rows) options.push_back({row.id, row.title});
  }
  if (options.size() <= kMaxQuickReplies) {
    return QuickReplies(Compose(c.header, c.body, c.footer), options, flavor);
  }
  // Too many rows for quick replies: a numbered list the customer answers in text.
  std::string numbered;
  size_t n = 0;
  for (const ListSection& s : c.list.sections) {
    if (!numbered.empty()) numbered += "\n";
    if (!s.title.empty()) numbered += s.title + "\n";
    for (const ListRow& row : s.rows) {
      numbered += fmt::format("{}. {}", ++n, row.title);
      if (!row.description.empty()) numbered += " - " + row.description;
      numbered += "\n";
    }
  }
  if (!numbered.empty() && numbered.back() == '\n') numbered.pop_back();
  return TextMessage(Compose(c.header, Compose({}, c.body, numbered), c.footer), flavor);
}

RenderedMessage Carousel(const InteractiveContent& c, const Flavor& flavor) {
  if (!c.header.empty() || !c.body.empty() || !c.footer.empty()) {
    return Fail("unsupported_content",
                fmt::format("a {} carousel (generic template) has no header, body or footer; "
                            "send the text as its own message",
                            flavor.display_name));
  }
  if (c.cards.size() > kMaxGenericElements) {
    return Fail("unsupported_content", fmt::format("{} allows at most {} carousel cards",
                                                   flavor.display_name, kMaxGenericElements));
  }
  json::array elements;
  for (const Card& card : c.cards) {
    json::object element{{"title", TruncateChars(card.title, kMaxElementTextChars)}};
    if (!card.subtitle.empty()) {
      element["subtitle"] = TruncateChars(card.subtitle, kMaxElementTextChars);
    }
    if (!card.image_url.empty()) {
      if (!IsAbsoluteHttpUrl(card.image_url)) return PublicUrlRequired("a card's image_url");
      element["image_url"] = card.image_url;
    }
    if (card.buttons.size() > kMaxTemplateButtons) {
      return Fail("unsupported_content",
                  fmt::format("{} allows at most {} buttons per carousel card", flavor.display_name,
                              kMaxTemplateButtons));
    }
    if (!card.buttons.empty()) {
      auto buttons = PostbackButtons(card.buttons);
      if (!buttons.ok()) return TooLong(flavor, kMaxPayloadChars, "button payload");
      element["buttons"] = std::move(*buttons);
    }
    elements.push_back(std::move(element));
  }
  return Ok(TemplateAttachment(
      json::object{{"template_type", "generic"}, {"elements", std::move(elements)}}));
}

RenderedMessage Media(const MediaContent& c, const Flavor& flavor) {
  if (c.attachments.size() != 1) {
    return Fail("unsupported_content",
                fmt::format("{} sends one attachment per message", flavor.display_name));
  }
  if (!c.caption.empty()) {
    return Fail("unsupported_content",
                fmt::format("{} attachments have no caption; send the caption as its own text "
                            "message",
                            flavor.display_name));
  }
  const Attachment& a = c.attachments[0];
  if (!IsAbsoluteHttpUrl(a.url)) return PublicUrlRequired("the attachment's link");
  std::string_view type = "file";
  switch (c.kind) {
    case MediaKind::kImage:
    case MediaKind::kSticker:
      type = "image";
      break;
    case MediaKind::kVideo:
      type = "video";
      break;
    case MediaKind::kAudio:
      type = "audio";
      break;
    case MediaKind::kFile:
      type = "file";
      break;
  }
  return Ok(json::object{
      {"attachment", json::object{{"type", type}, {"payload", json::object{{"url", a.url}}}}}});
}

std::string LocationText(const LocationContent& c) {
  std::string text = Compose(c.name, c.address, {});
  if (!text.empty()) text += "\n";
  text += fmt::format("{}, {}\nhttps://maps.google.com/?q={},{}", c.latitude, c.longitude,
                      c.latitude, c.longitude);
  return text;
}

std::string ContactsText(const ContactContent& c) {
  std::string text;
  for (const ContactCard& card : c.contacts) {
    if (!text.empty()) text += "\n\n";
    text += card.name.formatted;
    for (const ContactPhone& p : card.phones) {
      text += "\n" + p.number;
      if (!p.type.empty()) text += " (" + p.type + ")";
    }
    for (const ContactEmail& e : card.emails) {
      text += "\n" + e.address;
      if (!e.type.empty()) text += " (" + e.type + ")";
    }
  }
  return text;
}

bool IsHeart(std::string_view emoji) { return emoji == "\u2764" || emoji == "\u2764\ufe0f"; }

// Instagram's reaction: a sender action on the customer's message, with "love" (❤) the only
// reaction the API takes.
RenderedMessage Reaction(const ReactionContent& c, const OutboundRequest& request,
                         const Flavor& flavor) {
  if (!flavor.react_action) {
    return Fail("unsupported_content",
                fmt::format("{} cannot send reactions through the Send API", flavor.display_name));
  }
  if (c.target_provider_message_id.empty()) {
    return Fail("unsupported_content", "a reaction needs the provider id of the reacted message");
  }
  if (!c.emoji.empty() && !IsHeart(c.emoji)) {
    return Fail("unsupported_content",
                fmt::format("{} reacts only with \u2764 (love)", flavor.display_name));
  }
  json::object payload{{"message_id", c.target_provider_message_id}};
  if (!c.emoji.empty()) payload["reaction"] = "love";
  return Ok(json::object{{"recipient", json::object{{"id", request.contact_id}}},
                         {"sender_action", c.emoji.empty() ? "unreact" : "react"},
                         {"payload", std::move(payload)}});
}

RenderedMessage MessageOf(const Content& content, const Flavor& flavor) {
  switch (TypeOf(content)) {
    case ContentType::kText:
      return TextMessage(std::get<TextContent>(content).text, flavor);
    case ContentType::kMedia:
      return Media(std::get<MediaContent>(content), flavor);
    case ContentType::kLocation:
      return TextMessage(LocationText(std::get<LocationContent>(content)), flavor);
    case ContentType::kContact:
      return TextMessage(ContactsText(std::get<ContactContent>(content)), flavor);
    case ContentType::kInteractive: {
      const auto& c = std::get<InteractiveContent>(content);
      switch (c.kind) {
        case InteractiveKind::kButtons:
          return Buttons(c, flavor);
        case InteractiveKind::kQuickReplies: {
          std::vector<Option> options;
          for (const Choice& choice : c.choices) options.push_back({choice.id, choice.title});
          return QuickReplies(Compose(c.header, c.body, c.footer), options, flavor);
        }
        case InteractiveKind::kList:
          return List(c, flavor);
        case InteractiveKind::kCarousel:
          return Carousel(c, flavor);
      }
      break;
    }
    case ContentType::kTemplate:
      return Fail("unsupported_content",
                  fmt::format("templates are WhatsApp-only; {} has none", flavor.display_name));
    case ContentType::kReaction:  // handled by RenderSendBody
    case ContentType::kReply:
    case ContentType::kSystem:
    case ContentType::kUnsupported:
      break;
  }
  return Fail("unsupported_content", fmt::format("{} content cannot be sent on {}",
                                                 WireName(TypeOf(content)), flavor.display_name));
}

}  // namespace

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string TruncateChars(std::string_view s, size_t max_chars) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n++ == max_chars) {
      return std::string(s.substr(0, i));
    }
  }
  return std::string(s);
}

RenderedMessage RenderSendBody(const OutboundRequest& request, const Flavor& flavor) {
  if (request.contact_id.empty() || request.contact_id.size() > kMaxProviderIdBytes) {
    return Fail("invalid_recipient", "the recipient's contact id is missing or malformed");
  }
  const Content& content = request.message.content;
  if (const auto* reaction = std::get_if<ReactionContent>(&content)) {
    return Reaction(*reaction, request, flavor);
  }
  RenderedMessage message = MessageOf(content, flavor);
  if (!message.ok()) return message;
  // A quoted reply (reply_to) is not sent: the Send API documents no such field for pages.
  return Ok(json::object{{"recipient", json::object{{"id", request.contact_id}}},
                         {"messaging_type", "RESPONSE"},
                         {"message", std::move(message.body)}});
}

json::object RenderSenderAction(std::string_view contact_id, SignalRequest::Kind kind) {
  std::string_view action = "typing_on";
  if (kind == SignalRequest::Kind::kTypingOff) action = "typing_off";
  if (kind == SignalRequest::Kind::kRead) action = "mark_seen";
  return json::object{{"recipient", json::object{{"id", contact_id}}}, {"sender_action", action}};
}

http::ClientRequest BuildGraphPost(const ConnectionContext& connection, const Flavor& flavor,
                                   const json::object& body, Millis timeout) {
  std::string account = meta::StringField(connection.settings, flavor.id_setting);
  std::string token = meta::StringField(connection.credentials, "access_token");
  http::ClientRequest request;
  request.method = "POST";
  request.url = meta::GraphUrl(connection, account + "/messages");
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
  request.body = json::serialize(body);
  request.timeout = timeout;
  return request;
}

SendOutcome InterpretSendResponse(const http::ClientResponse& response) {
  if (response.status < 200 || response.status > 299) return meta::ClassifyGraphError(response);
  // Sent: never retry from here on, even when the answer is odd (a retry would send twice).
  auto parsed = ParseBoundedJson(response.body, 64 * 1024);
  if (parsed.ok() && parsed->is_object()) {
    std::string id = meta::StringField(parsed->get_object(), "message_id");
    if (id.size() <= kMaxProviderIdBytes) return SentAs(std::move(id));
  }
  return SentAs("");
}

}  // namespace parley::channels::messenger

// Outbound rendering for the twilio channel: Twilio's Messages resource takes text (Body),
// media links (MediaUrl) and, for WhatsApp templates, a Content API sid; everything richer
// degrades to text here (docs/channels/twilio.md, "Outbound").
#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "channels/twilio/twilio_adapter.h"
#include "core/message_json.h"
#include "crypto/encoding.h"

namespace parley::channels::twilio {

namespace json = boost::json;

namespace {

std::string StringSetting(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool IsAbsoluteHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
         !parsed->host().empty();
}

bool IsContentSid(std::string_view name) {
  if (name.size() != 34 || name.substr(0, 2) != "HX") return false;
  for (char c : name.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

SendOutcome Unsupported(std::string_view what) {
  return FailedPermanently("unsupported_content",
                           fmt::format("Twilio cannot send {} content", what));
}

// Joins the non-empty parts with a blank line between them.
std::string Paragraphs(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

std::string NumberedChoices(const std::vector<Choice>& choices, int& number) {
  std::string out;
  for (const Choice& c : choices) {
    if (!out.empty()) out += "\n";
    out += fmt::format("{}. {}", number++, c.title);
  }
  return out;
}

std::string InteractiveText(const InteractiveContent& c) {
  int number = 1;
  std::string options;
  switch (c.kind) {
    case InteractiveKind::kButtons:
    case InteractiveKind::kQuickReplies:
      options = NumberedChoices(c.choices, number);
      break;
    case InteractiveKind::kList:
      for (const ListSection& section : c.list.sections) {
        if (!options.empty()) options += "\n";
        if (!section.title.empty()) options += section.title + "\n";
        for (size_t i = 0; i < section.rows.size(); ++i) {
          const ListRow& row = section.rows[i];
          if (i > 0) options += "\n";
          options += fmt::format("{}. {}", number++, row.title);
          if (!row.description.empty()) options += " - " + row.description;
        }
      }
      break;
    case InteractiveKind::kCarousel:
      for (const Card& card : c.cards) {
        std::string block = card.title;
        if (!card.subtitle.empty()) block += "\n" + card.subtitle;
        if (!card.buttons.empty()) {
          // Appended in two steps: `"\n" + std::string` trips g++ 12's -Wrestrict at -O3.
          block += '\n';
          block += NumberedChoices(card.buttons, number);
        }
        if (!options.empty()) options += "\n\n";
        options += block;
      }
      break;
  }
  return Paragraphs({c.header, c.body, options, c.footer});
}

std::string LocationText(const LocationContent& c) {
  std::string out;
  for (std::string_view part : {std::string_view(c.name), std::string_view(c.address)}) {
    if (!part.empty()) out += std::string(part) + "\n";
  }
  out += fmt::format("{}, {}\nhttps://maps.google.com/?q={},{}", c.latitude, c.longitude,
                     c.latitude, c.longitude);
  return out;
}

std::string ContactsText(const ContactContent& c) {
  std::string out;
  for (const ContactCard& card : c.contacts) {
    if (!out.empty()) out += "\n\n";
    out += card.name.formatted;
    for (const ContactPhone& p : card.phones) {
      out += "\n" + p.number;
      if (!p.type.empty()) out += " (" + p.type + ")";
    }
    for (const ContactEmail& e : card.emails) {
      out += "\n" + e.address;
      if (!e.type.empty()) out += " (" + e.type + ")";
    }
  }
  return out;
}

std::variant<FormParams, SendOutcome> BodyOnly(std::string body) {
  size_t chars = CodePoints(body);
  if (chars > kMaxBodyChars) {
    return FailedPermanently(
        "too_long", fmt::format("the text is {} characters; Twilio sends at most {} in one message",
                                chars, kMaxBodyChars));
  }
  return FormParams{{"Body", std::move(body)}};
}

}  // namespace

std::variant<FormParams, SendOutcome> RenderContent(const Content& content) {
  if (const auto* text = std::get_if<TextContent>(&content)) return BodyOnly(text->text);
  if (const auto* media = std::get_if<MediaContent>(&content)) {
    if (media->attachments.size() > kMaxMediaUrls) {
      return FailedPermanently("too_many_attachments",
                               fmt::format("Twilio sends at most {} media", kMaxMediaUrls));
    }
    FormParams params;
    if (!media->caption.empty()) {
      auto body = BodyOnly(media->caption);
      if (auto* failed = std::get_if<SendOutcome>(&body)) return std::move(*failed);
      params = std::get<FormParams>(std::move(body));
    }
    for (const Attachment& a : media->attachments) {
      if (!IsAbsoluteHttpUrl(a.url)) {
        return FailedPermanently(
            "public_url_required",
            "Twilio fetches media from a public link; configure server.public_url");
      }
      params.emplace_back("MediaUrl", a.url);
    }
    return params;
  }
  if (const auto* location = std::get_if<LocationContent>(&content)) {
    return BodyOnly(LocationText(*location));
  }
  if (const auto* contacts = std::get_if<ContactContent>(&content)) {
    return BodyOnly(ContactsText(*contacts));
  }
  if (const auto* interactive = std::get_if<InteractiveContent>(&content)) {
    return BodyOnly(InteractiveText(*interactive));
  }
  if (const auto* tmpl = std::get_if<TemplateContent>(&content)) {
    if (!IsContentSid(tmpl->name)) {
      return FailedPermanently(
          "unsupported_content",
          "Twilio sends templates through the Content API: the template name must be a "
          "ContentSid (\"HX\" followed by 32 hex digits)");
    }
    FormParams params{{"ContentSid", tmpl->name}};
    json::object variables;
    for (const TemplateComponent& component : tmpl->components) {
      if (component.type != "body") continue;
      for (const TemplateParameter& p : component.parameters) {
        variables[std::to_string(variables.size() + 1)] = p.text;
      }
    }
    if (!variables.empty()) params.emplace_back("ContentVariables", json::serialize(variables));
    return params;
  }
  if (const auto* system = std::get_if<SystemContent>(&content); system && !system->text.empty()) {
    return BodyOnly(system->text);
  }
  return Unsupported(WireName(TypeOf(content)));
}

Rendered RenderSend(const OutboundRequest& request, const ConnectionContext& connection,
                    std::string_view public_url) {
  std::string sid = StringSetting(connection.settings, "account_sid");
  std::string token = StringSetting(connection.credentials, "auth_token");
  std::string from = StringSetting(connection.settings, "from");
  std::string service = StringSetting(connection.settings, "messaging_service_sid");
  if (sid.empty() || token.empty() || (from.empty() && service.empty())) {
    return FailedPermanently("connection_misconfigured",
                             "the connection has no account_sid, auth_token or sender");
  }
  if (request.contact_id.empty()) {
    return FailedPermanently("invalid_recipient", "the message has no recipient");
  }
  auto content = RenderContent(request.message.content);
  if (auto* failed = std::get_if<SendOutcome>(&content)) return std::move(*failed);
  FormParams params{{"To", request.contact_id}};
  if (!service.empty()) {
    params.emplace_back("MessagingServiceSid", service);
  } else {
    params.emplace_back("From", from);
  }
  for (auto& p : std::get<FormParams>(content)) params.push_back(std::move(p));
  std::string callback = StatusCallbackUrl(connection, public_url);
  if (!callback.empty()) params.emplace_back("StatusCallback", callback);

  std::string base = StringSetting(connection.settings, "api_base_url");
  if (base.empty()) base = kDefaultApiBaseUrl;
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = fmt::format("{}/2010-04-01/Accounts/{}/Messages.json", base, sid);
  http_request.headers = {
      {"Authorization", "Basic " + crypto::Base64Encode(sid + ":" + token)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
  };
  http_request.body = EncodeForm(params);
  return http_request;
}

SendOutcome InterpretSendResponse(const http::ClientResponse& response) {
  json::object body;
  if (auto parsed = ParseBoundedJson(response.body, 64 * 1024);
      parsed.ok() && parsed->is_object()) {
    body = std::move(parsed->get_object());
  }
  if (response.status >= 200 && response.status < 300) {
    std::string sid = StringSetting(body, "sid");
    // Accepted without a usable sid: the message is on its way, so it is not sent again;
    // its statuses simply cannot be matched.
    if (sid.size() > kMaxSidBytes) sid.clear();
    return SentAs(std::move(sid));
  }
  int64_t code = 0;
  if (auto it = body.find("code"); it != body.end()) {
    if (it->value().is_int64()) code = it->value().get_int64();
    if (it->value().is_uint64()) code = static_cast<int64_t>(it->value().get_uint64());
  }
  std::string message = StringSetting(body, "message");
  if (message.empty()) message = StringSetting(body, "detail");
  message = TruncateUtf8(std::move(message), kMaxStringBytes);
  if (message.empty()) message = fmt::format("Twilio answered {}", response.status);
  std::string wire_code =
      code > 0 ? fmt::format("twilio_{}", code) : fmt::format("http_{}", response.status);
  if (response.status == 429 || response.status >= 500 || code == 20429) {
    return RetryLater(std::move(wire_code), std::move(message),
                      RetryAfterHeader(response.Header("retry-after")));
  }
  return FailedPermanently(std::move(wire_code), std::move(message));
}

}  // namespace parley::channels::twilio

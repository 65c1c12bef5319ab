#include "channels/whatsapp/whatsapp_simulator.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::whatsapp {

namespace json = boost::json;

namespace {

std::string GraphError(int64_t code, std::string_view message, std::string_view details = "") {
  json::object error{
      {"message", message},
      {"type", "OAuthException"},
      {"code", code},
      {"error_data",
       {{"messaging_product", "whatsapp"}, {"details", details.empty() ? message : details}}},
      {"fbtrace_id", "AsimulatedTraceId"}};
  return json::serialize(json::object{{"error", std::move(error)}});
}

http::Response GraphErrorResponse(int status, int64_t code, std::string_view message) {
  return sim::JsonAnswer(status, GraphError(code, message));
}

std::string Signed(std::string_view secret, std::string_view body) {
  return "sha256=" + crypto::HexEncode(crypto::HmacSha256(secret, body));
}

// Meta's envelope around one change value.
http::ClientRequest Envelope(const WebhookTarget& target, json::object value) {
  json::object root{{"object", "whatsapp_business_account"},
                    {"entry", json::array{json::object{
                                  {"id", target.waba_id},
                                  {"changes", json::array{json::object{{"value", std::move(value)},
                                                                       {"field", "messages"}}}}}}}};
  http::ClientRequest request;
  request.method = "POST";
  request.url = target.url;
  request.body = EscapeNonAscii(json::serialize(root));
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Hub-Signature-256", Signed(target.app_secret, request.body)}};
  return request;
}

json::object MessageValue(const WebhookTarget& target, const SimulatedCustomer& customer,
                          json::object message) {
  json::object value{
      {"messaging_product", "whatsapp"},
      {"metadata",
       {{"display_phone_number", target.display_phone_number},
        {"phone_number_id", target.phone_number_id}}},
      {"contacts", json::array{json::object{{"profile", {{"name", customer.name}}},
                                            {"wa_id", customer.wa_id}}}},
  };
  value["messages"] = json::array{std::move(message)};
  return value;
}

}  // namespace

std::string EscapeNonAscii(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto escape = [&](uint32_t unit) { out += fmt::format("\\u{:04x}", unit); };
  for (size_t i = 0; i < in.size();) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0F : 0x1F);
    for (int k = 1; k <= extra && i + k < in.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(in[i + k]) & 0x3F);
    }
    i += 1 + extra;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      escape(0xD800 + (cp >> 10));
      escape(0xDC00 + (cp & 0x3FF));
    } else {
      escape(cp);
    }
  }
  return out;
}

sim::Fault WhatsAppSimulator::RateLimited() {
  return {.status = 400,
          .body = GraphError(130429, "(#130429) Rate limit hit",
                             "Cloud API message throughput has been reached.")};
}

sim::Fault WhatsAppSimulator::ServerError() {
  return {.status = 500, .body = GraphError(2, "Service temporarily unavailable")};
}

sim::Fault WhatsAppSimulator::Slow(std::chrono::milliseconds delay) {
  return {.status = 500, .body = GraphError(2, "Service temporarily unavailable"), .delay = delay};
}

sim::Fault WhatsAppSimulator::Rejected(int64_t code, std::string message) {
  return {.status = 400, .body = GraphError(code, message)};
}

std::string WhatsAppSimulator::NewWamid() {
  // Real wamids are base64 of a protobuf; the prefix is what matters to readers.
  return fmt::format("wamid.SIM{:012d}", state_.NextId());
}

int64_t WhatsAppSimulator::NowSeconds() const {
  TimePoint now = options_.clock != nullptr ? options_.clock->Now() : SystemClock().Now();
  return ToUnixSeconds(now);
}

bool WhatsAppSimulator::Authorized(const http::Request& request) const {
  std::string_view header = request.Header("authorization").value_or("");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) != kBearer || header.size() == kBearer.size()) {
    return false;
  }
  return options_.access_token.empty() ||
         crypto::ConstantTimeEqual(crypto::Sha256(header.substr(kBearer.size())),
                                   crypto::Sha256(options_.access_token));
}

void WhatsAppSimulator::Register(http::Router& router) {
  router.Add("POST", "/{version}/{id}/messages",
             [this](http::Request r) { return HandleSend(std::move(r)); });
  router.Add("GET", "/{version}/{id}",
             [this](http::Request r) { return HandleMediaInfo(std::move(r)); });
  router.Add("GET", "/whatsapp_business/attachments",
             [this](http::Request r) { return HandleDownload(std::move(r)); });
}

boost::asio::awaitable<http::Response> WhatsAppSimulator::HandleSend(http::Request request) {
  state_.Record(request);
  if (std::optional<sim::Fault> fault = state_.TakeFault()) {
    sim::Fault f = std::move(*fault);
    co_return co_await sim::Answer(std::move(f));
  }
  if (!Authorized(request)) {
    co_return GraphErrorResponse(401, 190,
                                 "Invalid OAuth access token - Cannot parse access token");
  }
  auto parsed = ParseBoundedJson(request.body, 256 * 1024);
  if (!parsed.ok() || !parsed->is_object()) {
    co_return GraphErrorResponse(400, 100, "(#100) Invalid parameter");
  }
  const json::object& body = parsed->get_object();
  auto field = [&](std::string_view key) -> std::string {
    auto it = body.find(key);
    return it != body.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                       : std::string();
  };
  if (field("messaging_product") != "whatsapp") {
    co_return GraphErrorResponse(400, 100, "(#100) The parameter messaging_product is required.");
  }
  if (field("status") == "read") {
    if (field("message_id").empty()) {
      co_return GraphErrorResponse(400, 100, "(#100) The parameter message_id is required.");
    }
    co_return sim::JsonAnswer(200, R"({"success":true})");
  }
  std::string to = field("to");
  std::string type = field("type");
  if (to.empty() || type.empty() || !body.contains(type)) {
    co_return GraphErrorResponse(400, 100, "(#100) Invalid parameter");
  }
  std::string wa_id = to.front() == '+' ? to.substr(1) : to;
  json::object answer{
      {"messaging_product", "whatsapp"},
      {"contacts", json::array{json::object{{"input", to}, {"wa_id", wa_id}}}},
      {"messages", json::array{json::object{{"id", NewWamid()}}}},
  };
  co_return sim::JsonAnswer(200, json::serialize(answer));
}

boost::asio::awaitable<http::Response> WhatsAppSimulator::HandleMediaInfo(http::Request request) {
  state_.Record(request);
  if (std::optional<sim::Fault> fault = state_.TakeFault()) {
    sim::Fault f = std::move(*fault);
    co_return co_await sim::Answer(std::move(f));
  }
  if (!Authorized(request)) {
    co_return GraphErrorResponse(401, 190,
                                 "Invalid OAuth access token - Cannot parse access token");
  }
  std::string id = request.path_params["id"];
  std::optional<sim::MediaFile> file = state_.Media(id);
  if (!file) {
    co_return GraphErrorResponse(400, 100,
                                 "Unsupported get request. Object with ID does not exist.");
  }
  std::string base = options_.public_base_url;
  if (base.empty()) {
    base = "http://" + std::string(request.Header("host").value_or("127.0.0.1"));
  }
  json::object answer{
      {"messaging_product", "whatsapp"},
      {"url", fmt::format("{}/whatsapp_business/attachments?mid={}", base, id)},
      {"mime_type", file->mime_type},
      {"sha256", crypto::HexEncode(crypto::Sha256(file->bytes))},
      {"file_size", std::to_string(file->bytes.size())},
      {"id", id},
  };
  co_return sim::JsonAnswer(200, json::serialize(answer));
}

boost::asio::awaitable<http::Response> WhatsAppSimulator::HandleDownload(http::Request request) {
  state_.Record(request);
  if (std::optional<sim::Fault> fault = state_.TakeFault()) {
    sim::Fault f = std::move(*fault);
    co_return co_await sim::Answer(std::move(f));
  }
  // The real lookaside host answers an unauthenticated download with 401 (or an HTML page).
  if (!Authorized(request)) co_return GraphErrorResponse(401, 190, "Authentication required");
  auto mid = request.query.find("mid");
  std::optional<sim::MediaFile> file =
      mid == request.query.end() ? std::nullopt : state_.Media(mid->second);
  if (!file) co_return GraphErrorResponse(404, 100, "Media not found");
  http::Response response;
  response.status = 200;
  response.content_type = file->mime_type.empty() ? "application/octet-stream" : file->mime_type;
  response.body = std::move(file->bytes);
  co_return response;
}

http::ClientRequest WhatsAppSimulator::CustomerText(const WebhookTarget& target,
                                                    std::string_view text,
                                                    const SimulatedCustomer& customer,
                                                    std::string wamid) {
  if (wamid.empty()) wamid = NewWamid();
  json::object message{{"from", customer.wa_id},
                       {"id", wamid},
                       {"timestamp", std::to_string(NowSeconds())},
                       {"type", "text"},
                       {"text", {{"body", text}}}};
  return Envelope(target, MessageValue(target, customer, std::move(message)));
}

http::ClientRequest WhatsAppSimulator::CustomerImage(const WebhookTarget& target,
                                                     sim::MediaFile file, std::string_view caption,
                                                     const SimulatedCustomer& customer,
                                                     std::string wamid) {
  if (wamid.empty()) wamid = NewWamid();
  // Webhooks carry the digest in base64 (the media lookup answers hex).
  std::string sha256 = crypto::Base64Encode(crypto::Sha256(file.bytes));
  std::string mime_type = file.mime_type;
  std::string media_id = state_.AddMedia(std::move(file));
  json::object image{{"mime_type", mime_type}, {"sha256", sha256}, {"id", media_id}};
  if (!caption.empty()) image["caption"] = caption;
  json::object message{{"from", customer.wa_id},
                       {"id", wamid},
                       {"timestamp", std::to_string(NowSeconds())},
                       {"type", "image"},
                       {"image", std::move(image)}};
  return Envelope(target, MessageValue(target, customer, std::move(message)));
}

http::ClientRequest WhatsAppSimulator::StatusUpdate(const WebhookTarget& target,
                                                    std::string_view wamid, std::string_view status,
                                                    std::string_view recipient,
                                                    int64_t error_code) {
  json::object s{{"id", wamid},
                 {"status", status},
                 {"timestamp", std::to_string(NowSeconds())},
                 {"recipient_id", recipient}};
  if (status == "failed") {
    s["errors"] = json::array{json::object{
        {"code", error_code},
        {"title", "Message undeliverable"},
        {"message", "Message undeliverable"},
        {"error_data", {{"details", "Message could not be delivered."}}},
        {"href", "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}};
  }
  json::object value{
      {"messaging_product", "whatsapp"},
      {"metadata",
       {{"display_phone_number", target.display_phone_number},
        {"phone_number_id", target.phone_number_id}}},
      {"statuses", json::array{std::move(s)}},
  };
  return Envelope(target, std::move(value));
}

}  // namespace parley::channels::whatsapp

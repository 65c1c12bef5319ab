#include "channels/messenger/messenger_simulator.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::messenger {

namespace json = boost::json;

namespace {

std::string GraphError(int code, std::string_view message, std::string_view type) {
  return json::serialize(json::object{
      {"error",
       json::object{
           {"message", message}, {"type", type}, {"code", code}, {"fbtrace_id", "SimTrace0001"}}}});
}

http::Response GraphErrorResponse(int status, int code, std::string_view message) {
  return sim::JsonAnswer(status, GraphError(code, message, "OAuthException"));
}

}  // namespace

MessagingSimulator::MessagingSimulator(const Flavor& flavor, const Clock& clock)
    : flavor_(flavor), clock_(clock) {}

void MessagingSimulator::Register(http::Router& router) {
  router.Add("POST", "/{version}/{account}/messages",
             [this](http::Request request) { return HandleSend(std::move(request)); });
  router.Add("GET", "/cdn/{media}",
             [this](http::Request request) { return HandleMedia(std::move(request)); });
}

void MessagingSimulator::SetRootUrl(std::string root_url) {
  std::lock_guard lock(mu_);
  root_url_ = std::move(root_url);
}

void MessagingSimulator::RequireAccessToken(std::string token) {
  std::lock_guard lock(mu_);
  access_token_ = std::move(token);
}

std::vector<sim::RecordedRequest> MessagingSimulator::Sent() const {
  std::vector<sim::RecordedRequest> out;
  for (auto& r : state_.Received()) {
    std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (r.method == "POST" && path.ends_with("/messages")) out.push_back(std::move(r));
  }
  return out;
}

sim::Fault MessagingSimulator::RateLimitFault() {
  return sim::Fault{
      .status = 400,
      .body = GraphError(613, "Calls to this api have exceeded the rate limit.", "OAuthException")};
}

sim::Fault MessagingSimulator::ServerErrorFault() {
  return sim::Fault{.status = 500,
                    .body = GraphError(2,
                                       "An unexpected error has occurred. Please retry your "
                                       "request later.",
                                       "OAuthException")};
}

sim::Fault MessagingSimulator::DelayFault(std::chrono::milliseconds delay) {
  return sim::Fault{.status = 200,
                    .body = R"({"recipient_id":"0","message_id":"m_sim.delayed"})",
                    .delay = delay};
}

sim::Fault MessagingSimulator::PermanentFault(int code, std::string message) {
  return sim::Fault{.status = 400, .body = GraphError(code, message, "OAuthException")};
}

std::string MessagingSimulator::AddMedia(sim::MediaFile file) {
  std::string id = state_.AddMedia(std::move(file));
  std::lock_guard lock(mu_);
  return fmt::format("{}/cdn/{}", root_url_, id);
}

std::string MessagingSimulator::NewMid() {
  return fmt::format("m_sim.{}.{}", flavor_.kind, state_.NextId());
}

boost::asio::awaitable<http::Response> MessagingSimulator::HandleSend(http::Request request) {
  state_.Record(request);
  if (auto fault = state_.TakeFault()) {
    http::Response answer = co_await sim::Answer(std::move(*fault));
    co_return answer;
  }
  std::string token;
  {
    std::lock_guard lock(mu_);
    token = access_token_;
  }
  if (!token.empty()) {
    auto query_token = request.query.find("access_token");
    bool ok =
        request.Header("authorization") == std::optional<std::string_view>("Bearer " + token) ||
        (query_token != request.query.end() && query_token->second == token);
    if (!ok) co_return GraphErrorResponse(400, 190, "Invalid OAuth access token.");
  }
  auto parsed = ParseBoundedJson(request.body);
  if (!parsed.ok() || !parsed->is_object()) {
    co_return GraphErrorResponse(400, 100, "(#100) The request body is not a JSON object");
  }
  const json::object& body = parsed->get_object();
  const json::value* recipient = body.if_contains("recipient");
  const json::value* recipient_id =
      recipient && recipient->is_object() ? recipient->get_object().if_contains("id") : nullptr;
  if (!recipient_id || !recipient_id->is_string() || recipient_id->get_string().empty()) {
    co_return GraphErrorResponse(400, 100, "(#100) The parameter recipient is required");
  }
  json::object answer{{"recipient_id", recipient_id->get_string()}};
  if (body.contains("message")) {
    if (!body.at("message").is_object()) {
      co_return GraphErrorResponse(400, 100, "(#100) Param message must be an object");
    }
    answer["message_id"] = NewMid();
  } else if (!body.contains("sender_action")) {
    co_return GraphErrorResponse(400, 100, "(#100) Must send either message or sender_action");
  }
  co_return sim::JsonAnswer(200, json::serialize(answer));
}

boost::asio::awaitable<http::Response> MessagingSimulator::HandleMedia(http::Request request) {
  state_.Record(request);
  if (auto fault = state_.TakeFault()) co_return co_await sim::Answer(std::move(*fault));
  auto file = state_.Media(request.path_params["media"]);
  if (!file) co_return http::ErrorResponse(404, "not_found", "no such media");
  http::Response response;
  response.status = 200;
  response.content_type = file->mime_type.empty() ? "application/octet-stream" : file->mime_type;
  response.body = std::move(file->bytes);
  co_return response;
}

http::ClientRequest MessagingSimulator::SignedWebhook(const WebhookTarget& target,
                                                      std::string body) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Hub-Signature-256",
                      "sha256=" + crypto::HexEncode(crypto::HmacSha256(target.app_secret, body))}};
  request.body = std::move(body);
  return request;
}

http::ClientRequest MessagingSimulator::Webhook(const WebhookTarget& target,
                                                std::string_view contact_id,
                                                std::string_view event_key,
                                                json::object event_body) {
  int64_t now = ToUnixMillis(clock_.Now());
  json::object event{{"sender", json::object{{"id", contact_id}}},
                     {"recipient", json::object{{"id", target.account_id}}},
                     {"timestamp", now},
                     {event_key, std::move(event_body)}};
  json::object entry{
      {"id", target.account_id}, {"time", now}, {"messaging", json::array{std::move(event)}}};
  json::object envelope{{"object", flavor_.object}, {"entry", json::array{std::move(entry)}}};
  return SignedWebhook(target, json::serialize(envelope));
}

http::ClientRequest MessagingSimulator::CustomerText(const WebhookTarget& target,
                                                     std::string_view contact_id,
                                                     std::string_view text) {
  return Webhook(target, contact_id, "message", json::object{{"mid", NewMid()}, {"text", text}});
}

http::ClientRequest MessagingSimulator::CustomerImage(const WebhookTarget& target,
                                                      std::string_view contact_id,
                                                      std::string_view media_url) {
  json::array attachments{
      json::object{{"type", "image"}, {"payload", json::object{{"url", media_url}}}}};
  return Webhook(target, contact_id, "message",
                 json::object{{"mid", NewMid()}, {"attachments", std::move(attachments)}});
}

http::ClientRequest MessagingSimulator::CustomerPostback(const WebhookTarget& target,
                                                         std::string_view contact_id,
                                                         std::string_view title,
                                                         std::string_view payload) {
  return Webhook(target, contact_id, "postback",
                 json::object{{"mid", NewMid()}, {"title", title}, {"payload", payload}});
}

http::ClientRequest MessagingSimulator::CustomerQuickReply(const WebhookTarget& target,
                                                           std::string_view contact_id,
                                                           std::string_view text,
                                                           std::string_view payload) {
  return Webhook(
      target, contact_id, "message",
      json::object{
          {"mid", NewMid()}, {"text", text}, {"quick_reply", json::object{{"payload", payload}}}});
}

http::ClientRequest MessagingSimulator::Delivery(const WebhookTarget& target,
                                                 std::string_view contact_id,
                                                 std::string_view mid) {
  return Webhook(target, contact_id, "delivery",
                 json::object{{"mids", json::array{json::string(mid)}},
                              {"watermark", ToUnixMillis(clock_.Now())}});
}

http::ClientRequest MessagingSimulator::ReadWatermark(const WebhookTarget& target,
                                                      std::string_view contact_id,
                                                      TimePoint watermark) {
  return Webhook(target, contact_id, "read", json::object{{"watermark", ToUnixMillis(watermark)}});
}

}  // namespace parley::channels::messenger

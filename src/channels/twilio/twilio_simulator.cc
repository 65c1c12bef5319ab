#include "channels/twilio/twilio_simulator.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::twilio {

namespace json = boost::json;

namespace {

std::string TwilioError(int code, std::string_view message, int status) {
  json::object o;
  o["code"] = code;
  o["message"] = message;
  o["more_info"] = fmt::format("https://www.twilio.com/docs/errors/{}", code);
  o["status"] = status;
  return json::serialize(o);
}

}  // namespace

TwilioSimulator::TwilioSimulator(std::string account_sid, std::string auth_token)
    : account_sid_(std::move(account_sid)), auth_token_(std::move(auth_token)) {}

void TwilioSimulator::Register(http::Router& router) {
  router.Add("POST", "/2010-04-01/Accounts/{account}/Messages.json",
             [this](http::Request r) { return HandleSend(std::move(r)); });
  router.Add("GET", "/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}",
             [this](http::Request r) { return HandleMedia(std::move(r)); });
  router.Add("GET", "/cdn/{media}", [this](http::Request r) { return HandleCdn(std::move(r)); });
}

std::string TwilioSimulator::NewSid(std::string_view prefix) {
  return fmt::format("{}{:032x}", prefix, state_.NextId());
}

boost::asio::awaitable<http::Response> TwilioSimulator::HandleSend(http::Request request) {
  state_.Record(request);
  if (auto fault = state_.TakeFault()) co_return co_await sim::Answer(std::move(*fault));
  std::string expected = "Basic " + crypto::Base64Encode(account_sid_ + ":" + auth_token_);
  auto authorization = request.Header("authorization");
  if (!authorization || !crypto::ConstantTimeEqual(*authorization, expected) ||
      request.path_params["account"] != account_sid_) {
    co_return sim::JsonAnswer(401, TwilioError(20003, "Authenticate", 401));
  }
  auto params = ParseForm(request.body);
  if (!params.ok()) co_return sim::JsonAnswer(400, TwilioError(20001, "Bad request", 400));
  const std::string* to = FindParam(*params, "To");
  const std::string* from = FindParam(*params, "From");
  const std::string* service = FindParam(*params, "MessagingServiceSid");
  const std::string* body = FindParam(*params, "Body");
  if (to == nullptr || to->empty()) {
    co_return sim::JsonAnswer(400, TwilioError(21604, "A 'To' phone number is required.", 400));
  }
  if (from == nullptr && service == nullptr) {
    co_return sim::JsonAnswer(400, TwilioError(21603, "A 'From' phone number is required.", 400));
  }
  if (body == nullptr && FindParam(*params, "MediaUrl") == nullptr &&
      FindParam(*params, "ContentSid") == nullptr) {
    co_return sim::JsonAnswer(400, TwilioError(21602, "Message body is required.", 400));
  }
  std::string sid = NewSid("SM");
  json::object o;
  o["account_sid"] = account_sid_;
  o["api_version"] = "2010-04-01";
  o["body"] = body != nullptr ? *body : "";
  o["direction"] = "outbound-api";
  o["error_code"] = nullptr;
  o["error_message"] = nullptr;
  o["from"] = from != nullptr ? *from : "";
  if (service != nullptr) o["messaging_service_sid"] = *service;
  o["num_segments"] = "1";
  o["sid"] = sid;
  o["status"] = service != nullptr ? "accepted" : "queued";
  o["to"] = *to;
  o["uri"] = fmt::format("/2010-04-01/Accounts/{}/Messages/{}.json", account_sid_, sid);
  co_return sim::JsonAnswer(201, json::serialize(o));
}

boost::asio::awaitable<http::Response> TwilioSimulator::HandleMedia(http::Request request) {
  state_.Record(request);
  if (auto fault = state_.TakeFault()) co_return co_await sim::Answer(std::move(*fault));
  std::string expected = "Basic " + crypto::Base64Encode(account_sid_ + ":" + auth_token_);
  auto authorization = request.Header("authorization");
  if (!authorization || !crypto::ConstantTimeEqual(*authorization, expected)) {
    co_return sim::JsonAnswer(401, TwilioError(20003, "Authenticate", 401));
  }
  std::string id = request.path_params["media"];
  if (!state_.Media(id)) {
    co_return sim::JsonAnswer(404, TwilioError(20404, "The requested resource was not found", 404));
  }
  // Twilio answers from its API host with a redirect to a short-lived CDN link.
  http::Response response;
  response.status = 302;
  response.content_type = "text/plain";
  auto host = request.Header("host");
  std::string location = fmt::format("/cdn/{}", id);
  if (host) location = fmt::format("http://{}{}", *host, location);
  response.headers.emplace_back("Location", location);
  co_return response;
}

boost::asio::awaitable<http::Response> TwilioSimulator::HandleCdn(http::Request request) {
  state_.Record(request);
  auto file = state_.Media(request.path_params["media"]);
  if (!file) co_return sim::JsonAnswer(404, R"({"message":"not found"})");
  http::Response response;
  response.status = 200;
  response.content_type = file->mime_type;
  response.body = file->bytes;
  co_return response;
}

http::ClientRequest TwilioSimulator::SignedWebhook(std::string_view webhook_url,
                                                   const FormParams& params) const {
  http::ClientRequest request;
  request.method = "POST";
  request.url = std::string(webhook_url);
  request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"},
      {"X-Twilio-Signature", ComputeSignature(auth_token_, webhook_url, params)},
      {"User-Agent", "TwilioProxy/1.1"},
  };
  request.body = EncodeForm(params);
  return request;
}

http::ClientRequest TwilioSimulator::InboundSms(std::string_view webhook_url, std::string_view from,
                                                std::string_view to, std::string_view body) {
  std::string sid = NewSid("SM");
  FormParams params{{"ToCountry", "US"},         {"SmsMessageSid", sid},
                    {"NumMedia", "0"},           {"SmsSid", sid},
                    {"SmsStatus", "received"},   {"Body", std::string(body)},
                    {"To", std::string(to)},     {"NumSegments", "1"},
                    {"MessageSid", sid},         {"AccountSid", account_sid_},
                    {"From", std::string(from)}, {"ApiVersion", "2010-04-01"}};
  if (from.substr(0, 9) == "whatsapp:") {
    params.emplace_back("ProfileName", "Simulated Customer");
    params.emplace_back("WaId", std::string(from.substr(10)));
  }
  return SignedWebhook(webhook_url, params);
}

http::ClientRequest TwilioSimulator::InboundMms(std::string_view webhook_url,
                                                std::string_view simulator_url,
                                                std::string_view from, std::string_view to,
                                                std::string_view caption, sim::MediaFile file) {
  std::string mime = file.mime_type;
  std::string media_id = state_.AddMedia(std::move(file));
  std::string sid = NewSid("MM");
  FormParams params{
      {"MediaContentType0", mime},
      {"SmsMessageSid", sid},
      {"NumMedia", "1"},
      {"SmsSid", sid},
      {"SmsStatus", "received"},
      {"Body", std::string(caption)},
      {"To", std::string(to)},
      {"NumSegments", "1"},
      {"MessageSid", sid},
      {"AccountSid", account_sid_},
      {"From", std::string(from)},
      {"MediaUrl0", fmt::format("{}/2010-04-01/Accounts/{}/Messages/{}/Media/{}", simulator_url,
                                account_sid_, sid, media_id)},
      {"ApiVersion", "2010-04-01"},
  };
  return SignedWebhook(webhook_url, params);
}

http::ClientRequest TwilioSimulator::StatusCallback(std::string_view webhook_url,
                                                    std::string_view message_sid,
                                                    std::string_view status, std::string_view from,
                                                    std::string_view to,
                                                    std::string_view error_code) {
  FormParams params{{"AccountSid", account_sid_},
                    {"From", std::string(from)},
                    {"MessageSid", std::string(message_sid)},
                    {"MessageStatus", std::string(status)},
                    {"SmsSid", std::string(message_sid)},
                    {"SmsStatus", std::string(status)},
                    {"To", std::string(to)},
                    {"ApiVersion", "2010-04-01"}};
  if (!error_code.empty()) params.emplace_back("ErrorCode", std::string(error_code));
  return SignedWebhook(webhook_url, params);
}

sim::Fault TwilioSimulator::RateLimited(int retry_after_seconds) {
  sim::Fault f;
  f.status = 429;
  f.body = TwilioError(20429, "Too Many Requests", 429);
  f.headers = {{"Retry-After", std::to_string(retry_after_seconds)}};
  return f;
}

sim::Fault TwilioSimulator::ServerError() {
  sim::Fault f;
  f.status = 500;
  f.body = TwilioError(20500, "Internal Server Error", 500);
  return f;
}

sim::Fault TwilioSimulator::Timeout(std::chrono::milliseconds delay) {
  sim::Fault f;
  f.status = 200;
  f.body = "{}";
  f.delay = delay;
  return f;
}

sim::Fault TwilioSimulator::Rejected(int code, std::string message) {
  sim::Fault f;
  f.status = 400;
  f.body = TwilioError(code, message, 400);
  return f;
}

}  // namespace parley::channels::twilio

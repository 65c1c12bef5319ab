#include "channels/telegram/telegram_simulator.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <ctime>

#include "core/message_json.h"
#include "crypto/hash.h"

namespace parley::channels::telegram {

namespace json = boost::json;

namespace {

http::Response Error(int code, std::string_view description) {
  json::object o{{"ok", false}, {"error_code", code}, {"description", description}};
  return sim::JsonAnswer(code, json::serialize(o));
}

http::Response Ok(json::value result) {
  json::object o{{"ok", true}, {"result", std::move(result)}};
  return sim::JsonAnswer(200, json::serialize(o));
}

bool IsSendMethod(std::string_view m) {
  for (std::string_view s :
       {"sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice",
        "sendSticker", "sendLocation", "sendVenue", "sendContact", "sendAnimation"}) {
    if (m == s) return true;
  }
  return false;
}

}  // namespace

TelegramSimulator::TelegramSimulator(std::string bot_token, std::string secret_token)
    : bot_token_(std::move(bot_token)), secret_token_(std::move(secret_token)) {}

void TelegramSimulator::Register(http::Router& router) {
  router.Add("POST", "/{bot}/{method}",
             [this](http::Request r) { return HandleMethod(std::move(r)); });
  router.Add("GET", "/file/{bot}/{dir}/{name}",
             [this](http::Request r) { return HandleFile(std::move(r)); });
}

boost::asio::awaitable<http::Response> TelegramSimulator::HandleMethod(http::Request request) {
  state_.Record(request);
  if (auto fault = state_.TakeFault()) co_return co_await sim::Answer(std::move(*fault));
  if (!crypto::ConstantTimeEqual(request.path_params["bot"], "bot" + bot_token_)) {
    co_return Error(401, "Unauthorized");
  }
  std::string method = request.path_params["method"];
  auto parsed = ParseBoundedJson(request.body.empty() ? "{}" : request.body);
  if (!parsed.ok() || !parsed->is_object()) {
    co_return Error(400, "Bad Request: can't parse JSON");
  }
  const json::object& params = parsed->get_object();
  auto chat = params.find("chat_id");
  bool has_chat = chat != params.end() && chat->value().is_int64();
  if (method == "getFile") {
    auto id = params.find("file_id");
    std::string file_id = id != params.end() && id->value().is_string()
                              ? std::string(id->value().get_string())
                              : std::string();
    auto file = state_.Media(file_id);
    if (!file) co_return Error(400, "Bad Request: invalid file_id");
    co_return Ok(json::object{{"file_id", file_id},
                              {"file_unique_id", "u" + file_id},
                              {"file_size", file->bytes.size()},
                              {"file_path", "files/" + file_id}});
  }
  if (method == "answerCallbackQuery" || method == "setWebhook") co_return Ok(true);
  if (method == "sendChatAction") {
    if (!has_chat) co_return Error(400, "Bad Request: chat_id is empty");
    co_return Ok(true);
  }
  if (method == "sendMediaGroup") {
    auto media = params.find("media");
    if (!has_chat || media == params.end() || !media->value().is_array()) {
      co_return Error(400, "Bad Request: parameters are missing");
    }
    json::array messages;
    for (size_t i = 0; i < media->value().get_array().size(); ++i) {
      messages.push_back(Message(chat->value().get_int64(), "Simulated Bot"));
    }
    co_return Ok(std::move(messages));
  }
  if (!IsSendMethod(method)) co_return Error(404, "Not Found");
  if (!has_chat) co_return Error(400, "Bad Request: chat not found");
  if (method == "sendMessage" && !params.contains("text")) {
    co_return Error(400, "Bad Request: message text is empty");
  }
  json::object message = Message(chat->value().get_int64(), "Simulated Bot");
  if (auto text = params.find("text"); text != params.end()) message["text"] = text->value();
  co_return Ok(std::move(message));
}

boost::asio::awaitable<http::Response> TelegramSimulator::HandleFile(http::Request request) {
  state_.Record(request);
  if (!crypto::ConstantTimeEqual(request.path_params["bot"], "bot" + bot_token_)) {
    co_return Error(401, "Unauthorized");
  }
  auto file = request.path_params["dir"] == "files" ? state_.Media(request.path_params["name"])
                                                    : std::nullopt;
  if (!file) co_return Error(404, "Not Found");
  http::Response response;
  response.status = 200;
  // Telegram's file server does not say what a file is.
  response.content_type = "application/octet-stream";
  response.body = file->bytes;
  co_return response;
}

json::object TelegramSimulator::Message(int64_t chat_id, std::string_view first_name) {
  return json::object{
      {"message_id", state_.NextId()},
      {"from", json::object{{"id", chat_id}, {"is_bot", false}, {"first_name", first_name}}},
      {"chat", json::object{{"id", chat_id}, {"first_name", first_name}, {"type", "private"}}},
      {"date", static_cast<int64_t>(std::time(nullptr))},
  };
}

http::ClientRequest TelegramSimulator::WebhookFor(std::string_view webhook_url,
                                                  json::object update) const {
  http::ClientRequest request;
  request.method = "POST";
  request.url = std::string(webhook_url);
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Telegram-Bot-Api-Secret-Token", secret_token_}};
  request.body = json::serialize(update);
  return request;
}

http::ClientRequest TelegramSimulator::TextUpdate(std::string_view webhook_url, int64_t chat_id,
                                                  std::string_view first_name,
                                                  std::string_view text) {
  json::object message = Message(chat_id, first_name);
  message["text"] = text;
  return WebhookFor(webhook_url,
                    json::object{{"update_id", state_.NextId()}, {"message", std::move(message)}});
}

http::ClientRequest TelegramSimulator::PhotoUpdate(std::string_view webhook_url, int64_t chat_id,
                                                   std::string_view first_name,
                                                   std::string_view caption, sim::MediaFile file) {
  size_t size = file.bytes.size();
  std::string thumb = state_.AddMedia(sim::MediaFile{file.bytes.substr(0, 16), file.mime_type, ""});
  std::string full = state_.AddMedia(std::move(file));
  json::object message = Message(chat_id, first_name);
  message["photo"] = json::array{
      json::object{{"file_id", thumb},
                   {"file_unique_id", "u" + thumb},
                   {"file_size", 16},
                   {"width", 90},
                   {"height", 90}},
      json::object{{"file_id", full},
                   {"file_unique_id", "u" + full},
                   {"file_size", size},
                   {"width", 1280},
                   {"height", 960}},
  };
  if (!caption.empty()) message["caption"] = caption;
  return WebhookFor(webhook_url,
                    json::object{{"update_id", state_.NextId()}, {"message", std::move(message)}});
}

http::ClientRequest TelegramSimulator::CallbackQueryUpdate(std::string_view webhook_url,
                                                           int64_t chat_id, int64_t message_id,
                                                           std::string_view button_text,
                                                           std::string_view data) {
  json::object bot_message{
      {"message_id", message_id},
      {"from", json::object{{"id", 1}, {"is_bot", true}, {"first_name", "Parley Bot"}}},
      {"chat", json::object{{"id", chat_id}, {"type", "private"}}},
      {"date", static_cast<int64_t>(std::time(nullptr))},
      {"text", "Choose"},
      {"reply_markup",
       json::object{{"inline_keyboard", json::array{json::array{json::object{
                                            {"text", button_text}, {"callback_data", data}}}}}}},
  };
  json::object query{
      {"id", fmt::format("{}", 4000000000000000000 + state_.NextId())},
      {"from", json::object{{"id", chat_id}, {"is_bot", false}, {"first_name", "Customer"}}},
      {"message", std::move(bot_message)},
      {"chat_instance", "-1"},
      {"data", data},
  };
  return WebhookFor(webhook_url, json::object{{"update_id", state_.NextId()},
                                              {"callback_query", std::move(query)}});
}

sim::Fault TelegramSimulator::RateLimited(int retry_after_seconds) {
  sim::Fault f;
  f.status = 429;
  json::object o{
      {"ok", false},
      {"error_code", 429},
      {"description", fmt::format("Too Many Requests: retry after {}", retry_after_seconds)},
      {"parameters", json::object{{"retry_after", retry_after_seconds}}}};
  f.body = json::serialize(o);
  return f;
}

sim::Fault TelegramSimulator::ServerError() {
  sim::Fault f;
  f.status = 500;
  f.body = R"({"ok":false,"error_code":500,"description":"Internal Server Error"})";
  return f;
}

sim::Fault TelegramSimulator::Timeout(std::chrono::milliseconds delay) {
  sim::Fault f;
  f.status = 200;
  f.body = R"({"ok":true,"result":true})";
  f.delay = delay;
  return f;
}

sim::Fault TelegramSimulator::Rejected(int error_code, std::string description) {
  sim::Fault f;
  f.status = error_code;
  f.body = json::serialize(json::object{
      {"ok", false}, {"error_code", error_code}, {"description", std::move(description)}});
  return f;
}

}  // namespace parley::channels::telegram

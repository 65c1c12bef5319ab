#include "channels/telegram/telegram_adapter.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <limits>

#include "core/message_json.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace parley::channels::telegram {

namespace json = boost::json;

namespace {

constexpr size_t kMaxFilePathBytes = 1024;

std::string StringSetting(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

Status MapHttpStatus(int status, std::string_view what) {
  std::string message = fmt::format("{}: Telegram answered {}", what, status);
  if (status == 404) return NotFound(message);
  if (status == 401 || status == 403) return PermissionDenied(message);
  if (status == 429 || status >= 500) return Unavailable(message);
  return InvalidArgument(message);
}

Status TransportStatus(const Status& status, std::string_view what) {
  if (status.code() == StatusCode::kDeadlineExceeded) {
    return DeadlineExceeded(fmt::format("{}: timed out", what));
  }
  if (status.code() == StatusCode::kResourceExhausted) {
    return ResourceExhausted(fmt::format("{}: too large", what));
  }
  return Unavailable(fmt::format("{}: {}", what, StatusCodeName(status.code())));
}

bool SafeFilePath(std::string_view p) {
  if (p.empty() || p.size() > kMaxFilePathBytes || p.front() == '/' ||
      p.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : p) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
          c == '_' || c == '.' || c == '/')) {
      return false;
    }
  }
  return true;
}

bool ValidSecretToken(std::string_view s) {
  return !s.empty() && s.size() <= kMaxSecretTokenBytes && IsTokenChars(s);
}

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ValidBotToken(std::string_view t) {
  size_t colon = t.find(':');
  return t.size() <= kMaxBotTokenBytes && colon != std::string_view::npos &&
         AllDigits(t.substr(0, colon)) && t.size() - colon - 1 >= 30 &&
         IsTokenChars(t.substr(colon + 1));
}

}  // namespace

std::string MethodUrl(const ConnectionContext& connection, std::string_view method) {
  std::string base = StringSetting(connection.settings, "api_base_url");
  if (base.empty()) base = kDefaultApiBaseUrl;
  return fmt::format("{}/bot{}/{}", base, StringSetting(connection.credentials, "bot_token"),
                     method);
}

Result<json::object> TelegramAdapter::PrepareConnection(json::object& settings,
                                                        json::object& credentials) const {
  for (const auto& [key, value] : settings) {
    if (key != "api_base_url" && key != "bot_id") {
      return InvalidArgument(fmt::format("settings.{}: unknown key", std::string_view(key)));
    }
  }
  for (const auto& [key, value] : credentials) {
    if (key != "bot_token" && key != "secret_token") {
      return InvalidArgument(fmt::format("credentials.{}: unknown key", std::string_view(key)));
    }
  }
  PARLEY_RETURN_IF_ERROR(CheckApiBaseUrl(settings, kDefaultApiBaseUrl));
  auto token = credentials.find("bot_token");
  if (token == credentials.end() || !token->value().is_string() ||
      !ValidBotToken(token->value().get_string())) {
    return InvalidArgument(
        "credentials.bot_token: required, as BotFather gives it (\"<digits>:<at least 30 of "
        "A-Z a-z 0-9 _ ->\")");
  }
  std::string_view token_text = token->value().get_string();
  std::string_view token_bot = token_text.substr(0, token_text.find(':'));
  if (auto bot = settings.find("bot_id"); bot != settings.end()) {
    std::string id;
    if (bot->value().is_string() && AllDigits(bot->value().get_string())) {
      id = std::string(bot->value().get_string());
    } else if (bot->value().is_int64() && bot->value().get_int64() > 0) {
      id = std::to_string(bot->value().get_int64());
    } else if (bot->value().is_uint64()) {
      id = std::to_string(bot->value().get_uint64());
    } else {
      return InvalidArgument("settings.bot_id: must be the bot's numeric id");
    }
    if (id != token_bot) {
      return InvalidArgument("settings.bot_id: does not match the id in credentials.bot_token");
    }
  }
  json::object shown;
  auto secret = credentials.find("secret_token");
  if (secret == credentials.end()) {
    std::string generated = crypto::RandomToken(kGeneratedSecretChars * 3 / 4);
    credentials["secret_token"] = generated;
    shown["secret_token"] = generated;
  } else if (!secret->value().is_string() || !ValidSecretToken(secret->value().get_string())) {
    return InvalidArgument(
        fmt::format("credentials.secret_token: must be 1 to {} characters of A-Z a-z 0-9 _ -",
                    kMaxSecretTokenBytes));
  }
  return shown;
}

Status TelegramAdapter::VerifyWebhook(const http::Request& request,
                                      const ConnectionContext& connection, TimePoint) const {
  std::string secret = StringSetting(connection.credentials, "secret_token");
  if (secret.empty()) return Unauthenticated("the connection has no secret token");
  auto header = request.Header("x-telegram-bot-api-secret-token");
  if (!header) return Unauthenticated("missing X-Telegram-Bot-Api-Secret-Token");
  // Hashing first keeps the comparison's time independent of the secret's length too.
  if (!crypto::ConstantTimeEqual(crypto::Sha256(*header), crypto::Sha256(secret))) {
    return Unauthenticated("X-Telegram-Bot-Api-Secret-Token does not match");
  }
  return OkStatus();
}

Result<InboundBatch> TelegramAdapter::ParseWebhook(const http::Request& request) const {
  PARLEY_ASSIGN_OR_RETURN(json::value body, ParseBoundedJson(request.body));
  if (!body.is_object()) return InvalidArgument("body: must be a JSON object (an Update)");
  return ParseUpdate(body.get_object());
}

std::optional<http::Response> TelegramAdapter::Acknowledgement(const InboundBatch& batch) const {
  if (batch.ack_data.empty()) return http::JsonResponse(200, "{}");
  json::object answer{{"method", "answerCallbackQuery"}, {"callback_query_id", batch.ack_data}};
  return http::JsonResponse(200, json::serialize(answer));
}

boost::asio::awaitable<SendOutcome> TelegramAdapter::Send(OutboundRequest request,
                                                          ConnectionContext connection) {
  std::variant<ApiCall, SendOutcome> rendered = RenderCall(request);
  if (auto* refused = std::get_if<SendOutcome>(&rendered)) co_return std::move(*refused);
  ApiCall call = std::get<ApiCall>(std::move(rendered));
  if (StringSetting(connection.credentials, "bot_token").empty()) {
    co_return FailedPermanently("connection_misconfigured", "the connection has no bot token");
  }
  int64_t chat_id = call.params.at("chat_id").as_int64();
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = MethodUrl(connection, call.method);
  http_request.headers = {{"Content-Type", "application/json"}};
  http_request.body = json::serialize(call.params);
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) {
    co_return RetryLater(
        response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "unreachable",
        std::string(StatusCodeName(response.status().code())));
  }
  co_return InterpretSendResponse(*response, chat_id);
}

boost::asio::awaitable<Result<FetchedMedia>> TelegramAdapter::FetchMedia(
    MediaRef media, ConnectionContext connection, uint64_t max_bytes) {
  if (StringSetting(connection.credentials, "bot_token").empty()) {
    co_return FailedPrecondition("media: the connection has no bot token");
  }
  if (media.ref.size() > kMaxFileIdBytes || !IsTokenChars(media.ref)) {
    co_return InvalidArgument("media: not a Telegram file_id");
  }
  http::Client* client = deps_.media_client != nullptr ? deps_.media_client : deps_.client;
  http::ClientRequest get_file;
  get_file.method = "POST";
  get_file.url = MethodUrl(connection, "getFile");
  get_file.headers = {{"Content-Type", "application/json"}};
  get_file.body = json::serialize(json::object{{"file_id", media.ref}});
  get_file.timeout = deps_.send_timeout;
  Result<http::ClientResponse> info = co_await deps_.client->Send(std::move(get_file));
  if (!info.ok()) co_return TransportStatus(info.status(), "getFile");
  auto parsed = ParseBoundedJson(info->body, 64 * 1024);
  const json::object* answer = parsed.ok() && parsed->is_object() ? &parsed->get_object() : nullptr;
  if (info->status != 200 || answer == nullptr) {
    if (answer != nullptr && info->status == 400 &&
        StringSetting(*answer, "description").find("too big") != std::string::npos) {
      co_return ResourceExhausted("media: larger than Telegram lets bots download");
    }
    co_return MapHttpStatus(info->status, "getFile");
  }
  auto result = answer->find("result");
  if (result == answer->end() || !result->value().is_object()) {
    co_return Unavailable("getFile: answer without a result");
  }
  const json::object& file = result->value().get_object();
  std::string file_path = StringSetting(file, "file_path");
  if (!SafeFilePath(file_path)) co_return NotFound("getFile: no usable file_path");
  if (auto size = file.find("file_size"); size != file.end() && size->value().is_number()) {
    if (size->value().to_number<double>() > static_cast<double>(max_bytes)) {
      co_return ResourceExhausted(fmt::format("media: larger than {} bytes", max_bytes));
    }
  }
  std::string base = StringSetting(connection.settings, "api_base_url");
  if (base.empty()) base = kDefaultApiBaseUrl;
  http::ClientRequest download;
  download.method = "GET";
  download.url = fmt::format("{}/file/bot{}/{}", base,
                             StringSetting(connection.credentials, "bot_token"), file_path);
  download.timeout = deps_.send_timeout;
  download.max_response_bytes = max_bytes;
  Result<http::ClientResponse> bytes = co_await client->Send(std::move(download));
  if (!bytes.ok()) co_return TransportStatus(bytes.status(), "media");
  if (bytes->status != 200) co_return MapHttpStatus(bytes->status, "media");
  if (bytes->body.size() > max_bytes) {
    co_return ResourceExhausted(fmt::format("media: larger than {} bytes", max_bytes));
  }
  FetchedMedia fetched;
  fetched.bytes = std::move(bytes->body);
  fetched.filename = media.filename;
  fetched.mime_type = media.mime_type;
  if (auto type = bytes->Header("content-type")) {
    std::string_view mime = type->substr(0, type->find(';'));
    if (mime.find('/') != std::string_view::npos && mime != "application/octet-stream" &&
        mime.size() <= kMaxMimeTypeBytes) {
      fetched.mime_type = std::string(mime);
    }
  }
  co_return fetched;
}

boost::asio::awaitable<Status> TelegramAdapter::SendSignal(SignalRequest request,
                                                           ConnectionContext connection) {
  if (request.kind != SignalRequest::Kind::kTypingOn) co_return OkStatus();
  auto chat = SplitMessageId(request.contact_id + ":0");
  if (!chat) co_return InvalidArgument("contact: not a Telegram chat id");
  http::ClientRequest http_request;
  http_request.method = "POST";
  http_request.url = MethodUrl(connection, "sendChatAction");
  http_request.headers = {{"Content-Type", "application/json"}};
  http_request.body = json::serialize(json::object{{"chat_id", chat->first}, {"action", "typing"}});
  http_request.timeout = deps_.send_timeout;
  Result<http::ClientResponse> response = co_await deps_.client->Send(std::move(http_request));
  if (!response.ok()) co_return TransportStatus(response.status(), "sendChatAction");
  if (response->status != 200) co_return MapHttpStatus(response->status, "sendChatAction");
  co_return OkStatus();
}

}  // namespace parley::channels::telegram

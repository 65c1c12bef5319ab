// src/channels/telegram/telegram_adapter.h
//
// The telegram channel (docs/channels/telegram.md): one Telegram bot per connection. Telegram
// posts one Update per webhook call, authenticated by the secret token given to setWebhook
// (X-Telegram-Bot-Api-Secret-Token); replies go to the Bot API's send methods with the bot
// token in the URL path (../shared/fixtures/PROVIDERS.md §4).
//
//   TelegramAdapter adapter(deps);
//   PARLEY_RETURN_IF_ERROR(adapter.VerifyWebhook(request, connection, clock.Now()));
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter.ParseWebhook(request));
//
// Ids: a message's provider id is "<chat_id>:<message_id>" (Telegram's message ids are unique
// only within a chat, and a retried update carries the same pair); an edit is
// "<chat_id>:<message_id>:e<edit_date>"; a button press is "cbq:<callback_query_id>". The
// contact id is the chat id in decimal, which is the user's id in a private chat.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "channels/channel_adapter.h"
#include "http/client.h"

namespace parley::channels::telegram {

inline constexpr std::string_view kDefaultApiBaseUrl = "https://api.telegram.org";
inline constexpr size_t kMaxTextUnits = 4096;     // sendMessage text, in UTF-16 code units
inline constexpr size_t kMaxCaptionUnits = 1024;  // media captions, in UTF-16 code units
inline constexpr size_t kMaxCallbackDataBytes = 64;
inline constexpr size_t kMaxSecretTokenBytes = 256;
inline constexpr size_t kMaxBotTokenBytes = 256;
inline constexpr size_t kMaxFileIdBytes = 256;
inline constexpr size_t kGeneratedSecretChars = 32;

// True when `s` is non-empty and only A-Z a-z 0-9 '_' '-' (file ids, secret tokens).
inline bool IsTokenChars(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return !s.empty();
}

// Parses one Update. Errors: kInvalidArgument naming the field ("message.chat.id: required").
Result<InboundBatch> ParseUpdate(const boost::json::object& update);

// One Bot API call: the method ("sendMessage") and its JSON parameters.
struct ApiCall {
  std::string method;
  boost::json::object params;
};

// The Bot API call for `request`, or the permanent failure to report instead (too_long,
// payload_too_long, unsupported_content, public_url_required, invalid_recipient).
std::variant<ApiCall, SendOutcome> RenderCall(const OutboundRequest& request);

// "<api_base_url>/bot<token>/<method>" for the connection (the URL holds the token: never
// log it).
std::string MethodUrl(const ConnectionContext& connection, std::string_view method);

// The outcome of a send method's answer: ok -> sent with "<chat_id>:<message_id>"; 429 or
// parameters.retry_after -> retried after it; 5xx -> retried; other errors -> permanent
// "telegram_<error_code>" with Telegram's description (migrate_to_chat_id says so).
SendOutcome InterpretSendResponse(const http::ClientResponse& response, int64_t chat_id);

// Splits "<chat_id>:<message_id>" (the provider id scheme); nullopt for anything else.
std::optional<std::pair<int64_t, int64_t>> SplitMessageId(std::string_view provider_id);

class TelegramAdapter final : public ChannelAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit TelegramAdapter(const AdapterDeps& deps) : deps_(deps) {}

  std::string_view kind() const override { return "telegram"; }
  // settings: api_base_url (default kDefaultApiBaseUrl), bot_id (optional, digits; must match
  // the token's prefix); credentials: bot_token (required, "<digits>:<30+ of [A-Za-z0-9_-]>"),
  // secret_token (optional, 1..256 of [A-Za-z0-9_-]; generated with 32 characters and
  // returned as {"secret_token": …} when absent).
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  // X-Telegram-Bot-Api-Secret-Token equals credentials.secret_token (constant time).
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;
  // 200 {"method":"answerCallbackQuery","callback_query_id":…} for a button press (stops the
  // spinner in the customer's app), else 200 {}.
  std::optional<http::Response> Acknowledgement(const InboundBatch& batch) const override;
  // getFile, then GET <base>/file/bot<token>/<file_path>.
  boost::asio::awaitable<Result<FetchedMedia>> FetchMedia(MediaRef media,
                                                          ConnectionContext connection,
                                                          uint64_t max_bytes) override;
  // kTypingOn -> sendChatAction "typing"; the others do nothing (Telegram has no read marks
  // for bots).
  bool SendsSignal(SignalRequest::Kind kind) const override {
    return kind == SignalRequest::Kind::kTypingOn;  // sendChatAction; no read marks
  }
  boost::asio::awaitable<Status> SendSignal(SignalRequest request,
                                            ConnectionContext connection) override;

 private:
  AdapterDeps deps_;
};

}  // namespace parley::channels::telegram

// src/channels/telegram/telegram_simulator.h
//
// A fake Telegram Bot API for tests and `parley simulate`: the send methods, sendChatAction,
// answerCallbackQuery, getFile and the file download route, all checking the bot token in the
// path; every request recorded; faults on demand; and webhooks (text, photo, button press)
// carrying the secret token header, aimed at a Parley URL.
//
//   TelegramSimulator telegram(bot_token, secret_token);
//   telegram.Register(router);                 // served by its own http::Server
//   telegram.state().FailNext(TelegramSimulator::RateLimited(3));
//   http::ClientRequest hook = telegram.TextUpdate(webhook_url, 4242, "Ana", "hello");
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "channels/sim/simulator_state.h"
#include "http/client.h"
#include "http/router.h"

namespace parley::channels::telegram {

// Thread safety: every method may be called concurrently once Register has run.
class TelegramSimulator {
 public:
  // The bot the simulator plays: API paths must carry bot_token, and webhooks carry
  // secret_token in X-Telegram-Bot-Api-Secret-Token.
  TelegramSimulator(std::string bot_token, std::string secret_token);

  // Adds, under the simulator's root URL (the connection's api_base_url):
  //   POST /bot{token}/{method}               sendMessage, sendPhoto, …, getFile, …
  //   GET  /file/bot{token}/files/{file_id}   the bytes of a file added by PhotoUpdate
  // A wrong token gets 401 as from Telegram. `router` and this simulator must outlive the
  // server that uses the router.
  void Register(http::Router& router);

  sim::SimulatorState& state() { return state_; }

  // A POST of `update` to `webhook_url` with the secret token header.
  http::ClientRequest WebhookFor(std::string_view webhook_url, boost::json::object update) const;
  // A private chat's text message from user `chat_id`.
  http::ClientRequest TextUpdate(std::string_view webhook_url, int64_t chat_id,
                                 std::string_view first_name, std::string_view text);
  // A photo (served by this simulator through getFile) with a caption.
  http::ClientRequest PhotoUpdate(std::string_view webhook_url, int64_t chat_id,
                                  std::string_view first_name, std::string_view caption,
                                  sim::MediaFile file);
  // A press on the inline button (`button_text`, `data`) of the bot's message `message_id`.
  http::ClientRequest CallbackQueryUpdate(std::string_view webhook_url, int64_t chat_id,
                                          int64_t message_id, std::string_view button_text,
                                          std::string_view data);

  // Faults in Telegram's shapes, for state().FailNext.
  static sim::Fault RateLimited(int retry_after_seconds);      // 429 with parameters.retry_after
  static sim::Fault ServerError();                             // 500
  static sim::Fault Timeout(std::chrono::milliseconds delay);  // an answer after `delay`
  static sim::Fault Rejected(int error_code, std::string description);  // e.g. 403 blocked

 private:
  boost::asio::awaitable<http::Response> HandleMethod(http::Request request);
  boost::asio::awaitable<http::Response> HandleFile(http::Request request);
  boost::json::object Message(int64_t chat_id, std::string_view first_name);

  const std::string bot_token_;
  const std::string secret_token_;
  sim::SimulatorState state_;
};

}  // namespace parley::channels::telegram

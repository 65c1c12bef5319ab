// fuzz/telegram_fuzz.cc — libFuzzer entry point for the telegram channel's webhook path: the
// bytes are the JSON body (an Update) and, up to the first newline, the secret token header;
// ParseWebhook, VerifyWebhook and Acknowledgement must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "channels/telegram/telegram_adapter.h"

namespace {

const parley::channels::telegram::TelegramAdapter& Adapter() {
  static const parley::channels::AdapterDeps deps;
  static const parley::channels::telegram::TelegramAdapter adapter(deps);
  return adapter;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');

  parley::http::Request request;
  request.method = "POST";
  request.target = request.path = "/v1/webhooks/con_1";
  request.body = std::string(input);
  if (newline != std::string_view::npos) {
    request.headers.emplace_back("x-telegram-bot-api-secret-token",
                                 std::string(input.substr(0, newline)));
  }

  parley::channels::ConnectionContext connection;
  connection.kind = "telegram";
  connection.credentials = {{"bot_token", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-x"},
                            {"secret_token", "fuzz-secret"}};

  (void)Adapter().VerifyWebhook(request, connection, {});
  auto batch = Adapter().ParseWebhook(request);
  if (batch.ok()) (void)Adapter().Acknowledgement(*batch);
  return 0;
}

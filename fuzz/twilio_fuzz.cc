// fuzz/twilio_fuzz.cc
//
// libFuzzer entry point for the twilio channel's webhook path: the input is a form body; the
// part before its first newline also becomes the request target's suffix (the query a GET
// webhook carries, and part of the signed URL). When the first byte is even the request is
// signed correctly with the fixed auth token, so verification also succeeds sometimes.
// VerifyWebhook and ParseWebhook (POST and GET) must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "channels/twilio/twilio_adapter.h"

namespace {

const parley::channels::twilio::TwilioAdapter& Adapter() {
  static const parley::channels::AdapterDeps deps = [] {
    parley::channels::AdapterDeps d;
    d.public_url = "https://parley.example.com";
    return d;
  }();
  static const parley::channels::twilio::TwilioAdapter adapter(deps);
  return adapter;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view target = newline == std::string_view::npos ? "" : input.substr(0, newline);

  parley::http::Request request;
  request.method = "POST";
  request.target = "/v1/webhooks/con_1" + std::string(target.substr(0, 512));
  request.path = "/v1/webhooks/con_1";
  request.body = std::string(input);
  std::string signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
  if (size > 0 && data[0] % 2 == 0) {
    if (auto params = parley::channels::twilio::ParseForm(request.body); params.ok()) {
      signature = parley::channels::twilio::ComputeSignature(
          "12345", "https://parley.example.com" + request.target, *params);
    }
  }
  request.headers.emplace_back("x-twilio-signature", signature);

  parley::channels::ConnectionContext connection;
  connection.kind = "twilio";
  connection.settings = {{"account_sid", "AC0123456789abcdef0123456789abcdef"},
                         {"from", "+15550000001"}};
  connection.credentials = {{"auth_token", "12345"}};

  (void)Adapter().VerifyWebhook(request, connection, {});
  (void)Adapter().ParseWebhook(request);
  request.method = "GET";
  (void)Adapter().ParseWebhook(request);
  return 0;
}

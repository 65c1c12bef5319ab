// fuzz/whatsapp_fuzz.cc
//
// libFuzzer entry point for the WhatsApp webhook path: the input is a webhook body, signed
// with a fixed app secret when its first byte is even (so ParseWebhook also runs on bodies
// that pass verification) and carrying a malformed signature otherwise. VerifyWebhook and
// ParseWebhook must never crash, hang or read out of bounds, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "channels/whatsapp/whatsapp_adapter.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace {

constexpr char kAppSecret[] = "fuzz-app-secret";

const parley::channels::whatsapp::WhatsAppAdapter& Adapter() {
  static const parley::channels::AdapterDeps deps;
  static const parley::channels::whatsapp::WhatsAppAdapter adapter(deps);
  return adapter;
}

const parley::channels::ConnectionContext& Connection() {
  static const parley::channels::ConnectionContext connection = [] {
    parley::channels::ConnectionContext c;
    c.kind = "whatsapp";
    c.settings["phone_number_id"] = "106540352242922";
    c.credentials["app_secret"] = kAppSecret;
    return c;
  }();
  return connection;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::http::Request request;
  request.method = "POST";
  request.body.assign(reinterpret_cast<const char*>(data), size);
  request.headers.emplace_back("content-type", "application/json");
  if (size > 0 && data[0] % 2 == 0) {
    request.headers.emplace_back("x-hub-signature-256",
                                 "sha256=" + parley::crypto::HexEncode(parley::crypto::HmacSha256(
                                                 kAppSecret, request.body)));
  } else {
    request.headers.emplace_back("x-hub-signature-256", "sha256=" + request.body.substr(0, 64));
  }
  (void)Adapter().VerifyWebhook(request, Connection(), parley::TimePoint{});
  (void)Adapter().ParseWebhook(request);
  return 0;
}

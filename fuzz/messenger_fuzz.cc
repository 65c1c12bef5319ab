// libFuzzer entry point for the messenger channel's webhook handling: the input is a webhook
// body, verified against a fixed app secret and parsed (ParseWebhook must never crash, hang
// or read out of bounds, whatever the bytes).
#include <cstddef>
#include <cstdint>
#include <string>

#include "channels/messenger/messenger_adapter.h"

namespace {

using parley::channels::AdapterDeps;
using parley::channels::ConnectionContext;
using parley::channels::messenger::MessengerAdapter;

const MessengerAdapter& Adapter() {
  static const AdapterDeps deps;
  static const MessengerAdapter adapter(deps);
  return adapter;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::http::Request request;
  request.method = "POST";
  request.body.assign(reinterpret_cast<const char*>(data), size);
  request.headers.emplace_back(
      "x-hub-signature-256",
      "sha256=0000000000000000000000000000000000000000000000000000000000000000");
  ConnectionContext connection;
  connection.kind = "messenger";
  connection.credentials["app_secret"] = "fuzz-app-secret";
  (void)Adapter().VerifyWebhook(request, connection, parley::FromUnixMillis(0));
  (void)Adapter().ParseWebhook(request);
  return 0;
}

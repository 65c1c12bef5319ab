// src/channels/whatsapp/whatsapp_simulator.h
//
// A fake WhatsApp Cloud API for tests and `parley simulate`: the send route, the two-step
// media download, Graph-shaped faults, and builders of webhooks signed like Meta's. Its root
// URL ("http://127.0.0.1:<port>") becomes the connection's settings.api_base_url.
//
//   WhatsAppSimulator simulator({.access_token = "EAAG-test"});
//   simulator.Register(router);  // then serve `router` on its own http::Server
//   simulator.state().FailNext(WhatsAppSimulator::RateLimited());
//   http::ClientRequest hook = simulator.CustomerText(target, "Hello");
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "channels/sim/simulator_state.h"
#include "core/clock.h"
#include "http/client.h"
#include "http/router.h"

namespace parley::channels::whatsapp {

struct SimulatorOptions {
  // The Bearer token the API accepts; "" accepts any (a Bearer token is still required).
  std::string access_token{};
  // The root URL media download links point at; "" = "http://" + the request's Host header.
  std::string public_base_url{};
  // For webhook timestamps; nullptr = the system clock. Must outlive the simulator.
  const Clock* clock = nullptr;
};

// Where a simulated webhook goes and how it is signed.
struct WebhookTarget {
  std::string url{};              // Parley's webhook URL for the connection
  std::string app_secret{};       // signs X-Hub-Signature-256
  std::string phone_number_id{};  // value.metadata.phone_number_id
  std::string display_phone_number = "15550001234";
  std::string waba_id = "100000000000001";  // entry[].id
};

struct SimulatedCustomer {
  std::string wa_id = "15551230000";
  std::string name = "Simulated Customer";
};

// Thread safety: every method may be called concurrently (after Register).
class WhatsAppSimulator {
 public:
  explicit WhatsAppSimulator(SimulatorOptions options = {}) : options_(std::move(options)) {}

  // Adds, under the simulator's root:
  //   POST /{version}/{phone_number_id}/messages   records; answers {"messages":[{"id":wamid}]}
  //                                                or {"success":true} for a read mark
  //   GET  /{version}/{media_id}                   the media's download URL JSON
  //   GET  /whatsapp_business/attachments?mid=…    the bytes (Bearer required)
  // Each route records the request and answers the next queued fault first. `this` must
  // outlive the router's use.
  void Register(http::Router& router);

  sim::SimulatorState& state() { return state_; }

  // Faults in the Graph API's shape, for state().FailNext.
  static sim::Fault RateLimited();  // HTTP 400, error code 130429 (throughput exceeded)
  static sim::Fault ServerError();  // HTTP 500, error code 2 (service unavailable)
  static sim::Fault Slow(std::chrono::milliseconds delay);  // 500 after `delay`: a timeout
  static sim::Fault Rejected(int64_t code = 131026,
                             std::string message = "Message Undeliverable.");  // HTTP 400

  // A wamid the simulator has not used yet.
  std::string NewWamid();

  // Signed webhooks (X-Hub-Signature-256 over the body, non-ASCII escaped as Meta does).
  // `wamid` "" = NewWamid().
  http::ClientRequest CustomerText(const WebhookTarget& target, std::string_view text,
                                   const SimulatedCustomer& customer = {}, std::string wamid = "");
  // Adds `file` to the media the simulator serves and sends an image message naming it.
  http::ClientRequest CustomerImage(const WebhookTarget& target, sim::MediaFile file,
                                    std::string_view caption = "",
                                    const SimulatedCustomer& customer = {}, std::string wamid = "");
  // A status callback ("sent", "delivered", "read", "failed" — with error `error_code`) for
  // the message Parley sent as `wamid`.
  http::ClientRequest StatusUpdate(const WebhookTarget& target, std::string_view wamid,
                                   std::string_view status,
                                   std::string_view recipient = "15551230000",
                                   int64_t error_code = 131026);

 private:
  boost::asio::awaitable<http::Response> HandleSend(http::Request request);
  boost::asio::awaitable<http::Response> HandleMediaInfo(http::Request request);
  boost::asio::awaitable<http::Response> HandleDownload(http::Request request);
  bool Authorized(const http::Request& request) const;
  int64_t NowSeconds() const;

  const SimulatorOptions options_;
  sim::SimulatorState state_;
};

// The whole body `json` with every non-ASCII character written as a lower-case \uXXXX escape,
// as Meta serializes (and signs) webhook bodies.
std::string EscapeNonAscii(std::string_view json);

}  // namespace parley::channels::whatsapp

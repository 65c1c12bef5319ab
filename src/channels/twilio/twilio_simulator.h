// src/channels/twilio/twilio_simulator.h
//
// A fake Twilio for tests and `parley simulate`: the Messages resource (records every
// request, checks HTTP Basic auth, answers like Twilio with made-up SM sids), inbound media
// served the way Twilio does (a 302 from the API host to a CDN-like route), faults on demand,
// and correctly signed webhooks (inbound SMS/MMS, status callbacks) aimed at a Parley URL.
//
//   TwilioSimulator twilio(account_sid, auth_token);
//   twilio.Register(router);                  // served by its own http::Server
//   twilio.state().FailNext(TwilioSimulator::RateLimited());
//   http::ClientRequest hook = twilio.InboundSms(webhook_url, "+15550001", "+15550002", "hi");
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "channels/sim/simulator_state.h"
#include "channels/twilio/twilio_wire.h"
#include "http/client.h"
#include "http/router.h"

namespace parley::channels::twilio {

// Thread safety: every method may be called concurrently once Register has run.
class TwilioSimulator {
 public:
  // The account the simulator plays: API calls must authenticate as account_sid:auth_token,
  // and webhooks are signed with auth_token.
  TwilioSimulator(std::string account_sid, std::string auth_token);

  // Adds, under the simulator's root URL (the connection's api_base_url):
  //   POST /2010-04-01/Accounts/{sid}/Messages.json          send (201 with a new SM sid)
  //   GET  /2010-04-01/Accounts/{sid}/Messages/{m}/Media/{id} 302 to /cdn/{id} (Basic auth)
  //   GET  /cdn/{id}                                          the media bytes
  // `router` and this simulator must outlive the server that uses the router.
  void Register(http::Router& router);

  sim::SimulatorState& state() { return state_; }

  // A signed POST of `params` to `webhook_url` (the exact URL Twilio would call).
  http::ClientRequest SignedWebhook(std::string_view webhook_url, const FormParams& params) const;
  // A customer's SMS (or WhatsApp text when the numbers start with "whatsapp:").
  http::ClientRequest InboundSms(std::string_view webhook_url, std::string_view from,
                                 std::string_view to, std::string_view body);
  // A customer's MMS carrying `file`, served by this simulator at `simulator_url` (its root).
  http::ClientRequest InboundMms(std::string_view webhook_url, std::string_view simulator_url,
                                 std::string_view from, std::string_view to,
                                 std::string_view caption, sim::MediaFile file);
  // A status callback for `message_sid` (sent by `from`, the business number, to `to`).
  http::ClientRequest StatusCallback(std::string_view webhook_url, std::string_view message_sid,
                                     std::string_view status, std::string_view from,
                                     std::string_view to, std::string_view error_code = "");

  // Faults in Twilio's shapes, for state().FailNext.
  static sim::Fault RateLimited(int retry_after_seconds = 1);  // 429, code 20429
  static sim::Fault ServerError();                             // 500, code 20500
  static sim::Fault Timeout(std::chrono::milliseconds delay);  // 200 after `delay`
  static sim::Fault Rejected(int code, std::string message);   // 400 with Twilio's error

 private:
  boost::asio::awaitable<http::Response> HandleSend(http::Request request);
  boost::asio::awaitable<http::Response> HandleMedia(http::Request request);
  boost::asio::awaitable<http::Response> HandleCdn(http::Request request);
  std::string NewSid(std::string_view prefix);

  const std::string account_sid_;
  const std::string auth_token_;
  sim::SimulatorState state_;
};

}  // namespace parley::channels::twilio

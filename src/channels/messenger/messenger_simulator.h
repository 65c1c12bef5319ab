// src/channels/messenger/messenger_simulator.h
//
// A fake Messenger Platform for tests and `parley simulate`: the Send API
// (POST /<version>/<account id>/messages), a CDN serving media, fault injection in Graph's
// error shape, and builders for webhooks signed as Meta signs them. One class serves Messenger
// and Instagram (the Flavor picks the envelope's "object"); run each on its own http::Server
// and use that server's root URL as the connection's api_base_url.
//
//   MessengerSimulator simulator;
//   simulator.Register(router);  // then start an http::Server on `router`
//   simulator.SetRootUrl("http://127.0.0.1:" + std::to_string(port));
//   simulator.FailNext(MessagingSimulator::RateLimitFault());
//   http::ClientRequest hook = simulator.CustomerText(target, "5678", "Hello");
#pragma once

#include <boost/asio/awaitable.hpp>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "channels/messenger/messenger_common.h"
#include "channels/sim/simulator_state.h"
#include "core/clock.h"
#include "http/client.h"
#include "http/router.h"

namespace parley::channels::messenger {

// Where a simulated webhook goes and how it is signed.
struct WebhookTarget {
  std::string url;         // the connection's Parley webhook URL
  std::string app_secret;  // key of X-Hub-Signature-256
  std::string account_id;  // the page id / Instagram account id (entry.id, recipient.id)
};

// Thread safety: every method may be called concurrently, except Register (before serving).
class MessagingSimulator {
 public:
  // `flavor` must be a constant; `clock` (the webhooks' timestamps) must outlive this.
  explicit MessagingSimulator(const Flavor& flavor, const Clock& clock = SystemClock::Instance());

  // Adds POST /{version}/{account}/messages and GET /cdn/{media} to `router`.
  void Register(http::Router& router);

  // The root URL the simulator's server listens on ("http://127.0.0.1:8123"), for media URLs.
  void SetRootUrl(std::string root_url);
  // Sends must carry `Authorization: Bearer <token>` (or ?access_token=); "" accepts any.
  void RequireAccessToken(std::string token);

  sim::SimulatorState& state() { return state_; }
  // The requests received on the Send API route, oldest first.
  std::vector<sim::RecordedRequest> Sent() const;

  // The next `times` Send API calls answer `fault`.
  void FailNext(sim::Fault fault, int times = 1) { state_.FailNext(std::move(fault), times); }
  // Graph's rate limit: HTTP 400 with error code 613.
  static sim::Fault RateLimitFault();
  // HTTP 500 with a transient Graph error (code 2).
  static sim::Fault ServerErrorFault();
  // A normal-looking answer after `delay` (longer than the caller's timeout: a timeout).
  static sim::Fault DelayFault(std::chrono::milliseconds delay);
  // HTTP 400 with Graph error `code` (e.g. 10, 551, 190) and `message`.
  static sim::Fault PermanentFault(int code, std::string message);

  // Serves `file` at <root>/cdn/<id>; returns that URL.
  std::string AddMedia(sim::MediaFile file);

  // Signed webhooks (POST to target.url). Each message gets a new mid ("m_sim.…").
  http::ClientRequest CustomerText(const WebhookTarget& target, std::string_view contact_id,
                                   std::string_view text);
  // A customer image whose payload.url is `media_url` (from AddMedia).
  http::ClientRequest CustomerImage(const WebhookTarget& target, std::string_view contact_id,
                                    std::string_view media_url);
  // A button tap (postback with a mid, as Meta sends them now).
  http::ClientRequest CustomerPostback(const WebhookTarget& target, std::string_view contact_id,
                                       std::string_view title, std::string_view payload);
  http::ClientRequest CustomerQuickReply(const WebhookTarget& target, std::string_view contact_id,
                                         std::string_view text, std::string_view payload);
  // Delivery of the page's message `mid` to `contact_id`.
  http::ClientRequest Delivery(const WebhookTarget& target, std::string_view contact_id,
                               std::string_view mid);
  // `contact_id` has read everything up to `watermark`.
  http::ClientRequest ReadWatermark(const WebhookTarget& target, std::string_view contact_id,
                                    TimePoint watermark);
  // Any body, signed with target.app_secret.
  static http::ClientRequest SignedWebhook(const WebhookTarget& target, std::string body);

 private:
  boost::asio::awaitable<http::Response> HandleSend(http::Request request);
  boost::asio::awaitable<http::Response> HandleMedia(http::Request request);
  http::ClientRequest Webhook(const WebhookTarget& target, std::string_view contact_id,
                              std::string_view event_key, boost::json::object event_body);
  std::string NewMid();

  const Flavor& flavor_;
  const Clock& clock_;
  sim::SimulatorState state_;
  mutable std::mutex mu_;
  std::string root_url_;
  std::string access_token_;
};

class MessengerSimulator final : public MessagingSimulator {
 public:
  explicit MessengerSimulator(const Clock& clock = SystemClock::Instance())
      : MessagingSimulator(kMessengerFlavor, clock) {}
};

}  // namespace parley::channels::messenger

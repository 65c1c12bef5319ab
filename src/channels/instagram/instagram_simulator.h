// src/channels/instagram/instagram_simulator.h
//
// A fake Instagram Messaging API for tests and `parley simulate`: Messenger's simulator
// (src/channels/messenger/messenger_simulator.h) with Instagram's envelope ("object":
// "instagram") and ids ("m_sim.instagram.…"). Run it on its own http::Server.
//
//   InstagramSimulator simulator;
//   simulator.Register(router);
//   http::ClientRequest hook = simulator.CustomerText(
//       {.url = webhook_url, .app_secret = secret, .account_id = instagram_id}, "5678", "Hi");
#pragma once

#include "channels/instagram/instagram_adapter.h"
#include "channels/messenger/messenger_simulator.h"

namespace parley::channels::instagram {

class InstagramSimulator final : public messenger::MessagingSimulator {
 public:
  // `clock` (the webhooks' timestamps) must outlive the simulator.
  explicit InstagramSimulator(const Clock& clock = SystemClock::Instance());
};

}  // namespace parley::channels::instagram

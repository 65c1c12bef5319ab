// `parley simulate <kind>`: a fake provider for one channel kind, on its own port, that
// plays the provider's send and media APIs (its URL becomes the connection's
// settings.api_base_url) and sends correctly signed customer webhooks to a running Parley.
//
//   # sends one message, prints Parley's answer and what Parley sends back for 5 s
//   parley simulate whatsapp --connection con_… --secret <app secret> --identity <phone id>
//       --text "Hello"
//   parley simulate telegram … --serve   # keeps running; driven over HTTP (below)
//
// Control routes, on the simulator's port (for tests and scripts):
//   GET  /_sim/received                 what the fake provider received, oldest first
//   POST /_sim/fail {"fault":"rate_limit"|"server_error"|"slow"|"rejected","times":1,
//                    "delay_ms":…,"code":…,"message":…}
//   POST /_sim/inbound {"type":"text"|"image"|"status"|"reply"|"repeat","text":…,"from":…,
//                       "provider_message_id":…,"status":…,"title":…,"payload":…}
//        sends that webhook to Parley and answers {"status":…, "body":…} (Parley's answer)
#include "cli/simulate.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "channels/instagram/instagram_simulator.h"
#include "channels/messenger/messenger_simulator.h"
#include "channels/telegram/telegram_simulator.h"
#include "channels/twilio/twilio_simulator.h"
#include "channels/whatsapp/whatsapp_simulator.h"
#include "core/message_json.h"
#include "http/client.h"
#include "http/io_runtime.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace parley::cli {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// A 1×1 PNG: the picture a simulated customer sends.
const std::string& TinyPng() {
  static const std::string png(
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\r"
      "IDATx\x9c\x63\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xae\x42`\x82",
      67);
  return png;
}

std::string Field(const json::object& o, std::string_view key, std::string fallback = "") {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return fallback;
  return std::string(it->value().get_string());
}

int64_t IntField(const json::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_int64()) return fallback;
  return it->value().get_int64();
}

// One provider's fake, behind one interface.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual void Register(http::Router& router) = 0;
  virtual void SetRoot(const std::string& root) { (void)root; }
  virtual channels::sim::SimulatorState& state() = 0;
  virtual Result<channels::sim::Fault> Fault(const json::object& spec) = 0;
  // The signed webhook for `spec` (see the control routes above).
  virtual Result<http::ClientRequest> Inbound(const json::object& spec) = 0;
};

struct Target {
  std::string webhook_url;  // Parley's webhook URL for the connection
  std::string secret;       // the signing secret (app secret, auth token, secret token)
  std::string identity;     // phone number id, page id, business number
  std::string token;        // what the fake API accepts (access token, bot token)
  std::string account_sid;  // twilio
  std::string public_url;   // twilio: the URL it signs; "" = webhook_url
};

class WhatsAppDriver final : public Driver {
 public:
  explicit WhatsAppDriver(Target t) : t_(std::move(t)), sim_({.access_token = t_.token}) {}
  void Register(http::Router& r) override { sim_.Register(r); }
  channels::sim::SimulatorState& state() override { return sim_.state(); }
  Result<channels::sim::Fault> Fault(const json::object& s) override {
    std::string name = Field(s, "fault");
    if (name == "rate_limit") return Sim::RateLimited();
    if (name == "server_error") return Sim::ServerError();
    if (name == "slow") return Sim::Slow(std::chrono::milliseconds(IntField(s, "delay_ms", 15000)));
    if (name == "rejected") {
      return Sim::Rejected(IntField(s, "code", 131026),
                           Field(s, "message", "Message Undeliverable."));
    }
    return InvalidArgument("fault: one of rate_limit, server_error, slow, rejected");
  }
  Result<http::ClientRequest> Inbound(const json::object& s) override {
    channels::whatsapp::WebhookTarget target{
        .url = t_.webhook_url, .app_secret = t_.secret, .phone_number_id = t_.identity};
    channels::whatsapp::SimulatedCustomer customer;
    customer.wa_id = Field(s, "from", customer.wa_id);
    std::string type = Field(s, "type", "text");
    if (type == "text") {
      return sim_.CustomerText(target, Field(s, "text", "Hello from the simulator"), customer,
                               Field(s, "provider_message_id"));
    }
    if (type == "image") {
      return sim_.CustomerImage(target, {TinyPng(), "image/png", "pixel.png"}, Field(s, "text"),
                                customer, Field(s, "provider_message_id"));
    }
    if (type == "status") {
      return sim_.StatusUpdate(target, Field(s, "provider_message_id"),
                               Field(s, "status", "delivered"), customer.wa_id);
    }
    return InvalidArgument("type: whatsapp simulates text, image and status");
  }

 private:
  using Sim = channels::whatsapp::WhatsAppSimulator;
  Target t_;
  Sim sim_;
};

class MetaMessagingDriver final : public Driver {
 public:
  MetaMessagingDriver(Target t, std::unique_ptr<channels::messenger::MessagingSimulator> sim)
      : t_(std::move(t)), sim_(std::move(sim)) {
    if (!t_.token.empty()) sim_->RequireAccessToken(t_.token);
  }
  void Register(http::Router& r) override { sim_->Register(r); }
  void SetRoot(const std::string& root) override { sim_->SetRootUrl(root); }
  channels::sim::SimulatorState& state() override { return sim_->state(); }
  Result<channels::sim::Fault> Fault(const json::object& s) override {
    using Sim = channels::messenger::MessagingSimulator;
    std::string name = Field(s, "fault");
    if (name == "rate_limit") return Sim::RateLimitFault();
    if (name == "server_error") return Sim::ServerErrorFault();
    if (name == "slow") {
      return Sim::DelayFault(std::chrono::milliseconds(IntField(s, "delay_ms", 15000)));
    }
    if (name == "rejected") {
      return Sim::PermanentFault(static_cast<int>(IntField(s, "code", 551)),
                                 Field(s, "message", "This person isn't available right now."));
    }
    return InvalidArgument("fault: one of rate_limit, server_error, slow, rejected");
  }
  Result<http::ClientRequest> Inbound(const json::object& s) override {
    channels::messenger::WebhookTarget target{
        .url = t_.webhook_url, .app_secret = t_.secret, .account_id = t_.identity};
    std::string from = Field(s, "from", "6000000000000001");
    std::string type = Field(s, "type", "text");
    if (type == "text") {
      return sim_->CustomerText(target, from, Field(s, "text", "Hello from the simulator"));
    }
    if (type == "image") {
      std::string url = sim_->AddMedia({TinyPng(), "image/png", "pixel.png"});
      return sim_->CustomerImage(target, from, url);
    }
    if (type == "reply") {
      return sim_->CustomerPostback(target, from, Field(s, "title", "Yes"),
                                    Field(s, "payload", "yes"));
    }
    if (type == "status") {
      if (Field(s, "status", "delivered") == "read") {
        return sim_->ReadWatermark(target, from, SystemClock::Instance().Now());
      }
      return sim_->Delivery(target, from, Field(s, "provider_message_id"));
    }
    return InvalidArgument("type: text, image, reply or status");
  }

 private:
  Target t_;
  std::unique_ptr<channels::messenger::MessagingSimulator> sim_;
};

class TwilioDriver final : public Driver {
 public:
  explicit TwilioDriver(Target t) : t_(std::move(t)), sim_(t_.account_sid, t_.secret) {}
  void Register(http::Router& r) override { sim_.Register(r); }
  void SetRoot(const std::string& root) override { root_ = root; }
  channels::sim::SimulatorState& state() override { return sim_.state(); }
  Result<channels::sim::Fault> Fault(const json::object& s) override {
    using Sim = channels::twilio::TwilioSimulator;
    std::string name = Field(s, "fault");
    if (name == "rate_limit")
      return Sim::RateLimited(static_cast<int>(IntField(s, "retry_after", 1)));
    if (name == "server_error") return Sim::ServerError();
    if (name == "slow")
      return Sim::Timeout(std::chrono::milliseconds(IntField(s, "delay_ms", 15000)));
    if (name == "rejected") {
      return Sim::Rejected(static_cast<int>(IntField(s, "code", 21211)),
                           Field(s, "message", "The 'To' number is not a valid phone number."));
    }
    return InvalidArgument("fault: one of rate_limit, server_error, slow, rejected");
  }
  Result<http::ClientRequest> Inbound(const json::object& s) override {
    std::string url = t_.public_url.empty() ? t_.webhook_url : t_.public_url;
    std::string from = Field(s, "from", "+15557654321");
    std::string type = Field(s, "type", "text");
    http::ClientRequest r;
    if (type == "text") {
      r = sim_.InboundSms(url, from, t_.identity, Field(s, "text", "Hello from the simulator"));
    } else if (type == "image") {
      r = sim_.InboundMms(url, root_, from, t_.identity, Field(s, "text"),
                          {TinyPng(), "image/png", "pixel.png"});
    } else if (type == "status") {
      r = sim_.StatusCallback(url, Field(s, "provider_message_id"), Field(s, "status", "delivered"),
                              t_.identity, from);
    } else {
      return InvalidArgument("type: twilio simulates text, image and status");
    }
    r.url = t_.webhook_url;  // signed for the public URL, sent to Parley itself
    return r;
  }

 private:
  Target t_;
  channels::twilio::TwilioSimulator sim_;
  std::string root_;
};

class TelegramDriver final : public Driver {
 public:
  explicit TelegramDriver(Target t) : t_(std::move(t)), sim_(t_.token, t_.secret) {}
  void Register(http::Router& r) override { sim_.Register(r); }
  channels::sim::SimulatorState& state() override { return sim_.state(); }
  Result<channels::sim::Fault> Fault(const json::object& s) override {
    using Sim = channels::telegram::TelegramSimulator;
    std::string name = Field(s, "fault");
    if (name == "rate_limit")
      return Sim::RateLimited(static_cast<int>(IntField(s, "retry_after", 1)));
    if (name == "server_error") return Sim::ServerError();
    if (name == "slow")
      return Sim::Timeout(std::chrono::milliseconds(IntField(s, "delay_ms", 15000)));
    if (name == "rejected") {
      return Sim::Rejected(static_cast<int>(IntField(s, "code", 403)),
                           Field(s, "message", "Forbidden: bot was blocked by the user"));
    }
    return InvalidArgument("fault: one of rate_limit, server_error, slow, rejected");
  }
  Result<http::ClientRequest> Inbound(const json::object& s) override {
    int64_t chat = 0;
    std::string from = Field(s, "from", "4242424242");
    try {
      chat = std::stoll(from);
    } catch (...) {
      return InvalidArgument("from: a Telegram chat id (digits)");
    }
    std::string type = Field(s, "type", "text");
    if (type == "text") {
      return sim_.TextUpdate(t_.webhook_url, chat, "Simulated",
                             Field(s, "text", "Hello from the simulator"));
    }
    if (type == "image") {
      return sim_.PhotoUpdate(t_.webhook_url, chat, "Simulated", Field(s, "text"),
                              {TinyPng(), "image/png", "pixel.png"});
    }
    if (type == "reply") {
      return sim_.CallbackQueryUpdate(t_.webhook_url, chat, IntField(s, "message_id", 1),
                                      Field(s, "title", "Yes"), Field(s, "payload", "yes"));
    }
    return InvalidArgument("type: telegram simulates text, image and reply");
  }

 private:
  Target t_;
  channels::telegram::TelegramSimulator sim_;
};

json::object RecordedJson(const channels::sim::RecordedRequest& r) {
  json::object headers;
  for (const auto& [k, v] : r.headers) headers[k] = v;
  return json::object{{"method", r.method},
                      {"target", r.target},
                      {"headers", std::move(headers)},
                      {"body", r.body}};
}

class ControlApi {
 public:
  ControlApi(Driver& driver, http::Client& client) : driver_(driver), client_(client) {}

  void Register(http::Router& r) {
    r.Add("GET", "/_sim/received", [this](http::Request q) { return Received(std::move(q)); });
    r.Add("POST", "/_sim/fail", [this](http::Request q) { return Fail(std::move(q)); });
    r.Add("POST", "/_sim/inbound", [this](http::Request q) { return Inbound(std::move(q)); });
  }

  // Sends `request` to Parley; its answer as {"status", "body"}.
  awaitable<json::object> Deliver(http::ClientRequest request) {
    {
      std::lock_guard lock(mu_);
      last_ = request;
    }
    auto answer = co_await client_.Send(std::move(request));
    if (!answer.ok()) {
      co_return json::object{{"status", 0}, {"body", answer.status().ToString()}};
    }
    co_return json::object{{"status", answer->status}, {"body", answer->body}};
  }

 private:
  awaitable<http::Response> Received(http::Request) {
    json::array out;
    for (const auto& r : driver_.state().Received()) {
      if (r.target.rfind("/_sim/", 0) == 0) continue;
      out.push_back(RecordedJson(r));
    }
    co_return channels::sim::JsonAnswer(200, json::serialize(json::object{{"requests", out}}));
  }

  awaitable<http::Response> Fail(http::Request q) {
    auto body = ParseBoundedJson(q.body, 64 * 1024);
    if (!body.ok() || !body->is_object())
      co_return http::ErrorResponse(InvalidArgument("JSON object"));
    auto fault = driver_.Fault(body->get_object());
    if (!fault.ok()) co_return http::ErrorResponse(fault.status());
    int times = static_cast<int>(IntField(body->get_object(), "times", 1));
    driver_.state().FailNext(*fault, std::clamp(times, 1, 1000));
    co_return channels::sim::JsonAnswer(200, R"({"queued":true})");
  }

  awaitable<http::Response> Inbound(http::Request q) {
    auto body = ParseBoundedJson(q.body, 64 * 1024);
    if (!body.ok() || !body->is_object())
      co_return http::ErrorResponse(InvalidArgument("JSON object"));
    http::ClientRequest request;
    if (Field(body->get_object(), "type") == "repeat") {
      std::lock_guard lock(mu_);
      if (!last_) co_return http::ErrorResponse(FailedPrecondition("nothing sent yet"));
      request = *last_;
    } else {
      auto built = driver_.Inbound(body->get_object());
      if (!built.ok()) co_return http::ErrorResponse(built.status());
      request = std::move(*built);
    }
    json::object answer = co_await Deliver(std::move(request));
    co_return channels::sim::JsonAnswer(200, json::serialize(answer));
  }

  Driver& driver_;
  http::Client& client_;
  std::mutex mu_;
  std::optional<http::ClientRequest> last_;
};

std::unique_ptr<Driver> MakeDriver(const std::string& kind, Target t) {
  if (kind == "whatsapp") return std::make_unique<WhatsAppDriver>(std::move(t));
  if (kind == "messenger") {
    return std::make_unique<MetaMessagingDriver>(
        std::move(t), std::make_unique<channels::messenger::MessengerSimulator>());
  }
  if (kind == "instagram") {
    return std::make_unique<MetaMessagingDriver>(
        std::move(t), std::make_unique<channels::instagram::InstagramSimulator>());
  }
  if (kind == "twilio") return std::make_unique<TwilioDriver>(std::move(t));
  if (kind == "telegram") return std::make_unique<TelegramDriver>(std::move(t));
  return nullptr;
}

template <class T>
awaitable<std::optional<T>> AsOptional(awaitable<T> task) {
  co_return co_await std::move(task);
}

}  // namespace

int Simulate(const SimulateFlags& flags) {
  Target target;
  std::string parley = flags.parley;
  while (!parley.empty() && parley.back() == '/') parley.pop_back();
  target.webhook_url = parley + "/v1/webhooks/" + flags.connection;
  target.secret = flags.secret;
  target.identity = flags.identity;
  target.token = flags.token;
  target.account_sid = flags.account_sid;
  target.public_url = flags.public_url;
  std::unique_ptr<Driver> driver = MakeDriver(flags.kind, target);
  if (!driver) {
    std::cerr << "parley: simulate knows whatsapp, messenger, instagram, twilio and telegram\n";
    return 2;
  }
  http::ServerOptions options;
  auto colon = flags.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "parley: --listen must be HOST:PORT\n";
    return 2;
  }
  options.listen_host = flags.listen.substr(0, colon);
  try {
    options.listen_port = static_cast<uint16_t>(std::stoi(flags.listen.substr(colon + 1)));
  } catch (...) {
    std::cerr << "parley: --listen must be HOST:PORT\n";
    return 2;
  }
  options.max_body_bytes = 8 << 20;
  options.access_log = [](const http::AccessLogEntry&) {};

  http::IoRuntime runtime;
  http::Client client(runtime.context(), http::ClientOptions{});
  http::Router router;
  driver->Register(router);
  ControlApi control(*driver, client);
  control.Register(router);
  http::Metrics metrics;
  http::Server server(runtime, options, router, metrics);
  auto port = server.Start();
  if (!port.ok()) {
    std::cerr << "parley: " << port.status().ToString() << "\n";
    return 1;
  }
  std::string root = fmt::format("http://{}:{}", options.listen_host, *port);
  driver->SetRoot(root);
  runtime.Start(2);
  // The first line says where the fake provider listens: its URL is the connection's
  // settings.api_base_url.
  std::cout << json::serialize(json::object{
                   {"simulator", root}, {"kind", flags.kind}, {"webhook_url", target.webhook_url}})
            << std::endl;

  size_t shown = 0;
  auto show_new = [&] {
    auto received = driver->state().Received();
    for (; shown < received.size(); ++shown) {
      if (received[shown].target.rfind("/_sim/", 0) == 0) continue;
      std::cout << json::serialize(
                       json::object{{"provider_received", RecordedJson(received[shown])}})
                << std::endl;
    }
  };
  if (!flags.text.empty()) {
    json::object spec{{"type", "text"}, {"text", flags.text}};
    if (!flags.from.empty()) spec["from"] = flags.from;
    auto request = driver->Inbound(spec);
    if (!request.ok()) {
      std::cerr << "parley: " << request.status().ToString() << "\n";
      server.Stop();
      runtime.Stop();
      return 2;
    }
    auto future =
        boost::asio::co_spawn(runtime.context(), AsOptional(control.Deliver(std::move(*request))),
                              boost::asio::use_future);
    auto answer = future.get();
    std::cout << json::serialize(
                     json::object{{"parley_answered", answer ? *answer : json::object{}}})
              << std::endl;
  }
  static std::atomic<bool> stop{false};
  std::signal(SIGINT, [](int) { stop = true; });
  std::signal(SIGTERM, [](int) { stop = true; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.wait_seconds);
  while (!stop && (flags.serve || std::chrono::steady_clock::now() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    show_new();
  }
  server.Stop();
  runtime.Stop();
  return 0;
}

}  // namespace parley::cli

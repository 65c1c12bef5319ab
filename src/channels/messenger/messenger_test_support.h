// src/channels/messenger/messenger_test_support.h — for the messenger and instagram tests
// only: a MessagingSimulator on a loopback http::Server, a Client, and an adapter whose
// connection points at the simulator.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "channels/messenger/messenger_common.h"
#include "channels/messenger/messenger_simulator.h"
#include "http/client.h"
#include "http/io_runtime.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/test_support.h"

namespace parley::channels::messenger::testing {

// The webhook request a simulator built, as Parley's server hands it to the adapter.
inline http::Request AsServerRequest(const http::ClientRequest& sent) {
  http::Request r;
  r.method = sent.method;
  r.body = sent.body;
  for (const auto& [name, value] : sent.headers) {
    std::string lower;
    for (char c : name)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    r.headers.emplace_back(std::move(lower), value);
  }
  return r;
}

inline std::string HeaderOf(const sim::RecordedRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

// `Adapter` is MessengerAdapter or InstagramAdapter; `Simulator` the matching simulator.
template <class Adapter, class Simulator>
class LiveHarness {
 public:
  LiveHarness(std::string_view id_setting, std::string account_id)
      : clock_(FromUnixMillis(1'700'000'000'000)), simulator_(clock_), account_id_(account_id) {
    simulator_.Register(router_);
    runtime_.Start(2);
    http::ServerOptions options;
    options.access_log = [](const http::AccessLogEntry&) {};
    server_ = std::make_unique<http::Server>(runtime_.context(), options, router_, metrics_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    root_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 0);
    simulator_.SetRootUrl(root_);
    simulator_.RequireAccessToken("page-token");
    client_ = std::make_unique<http::Client>(runtime_.context(), http::ClientOptions{});
    deps_.client = client_.get();
    deps_.clock = &clock_;
    deps_.send_timeout = Millis(3000);
    adapter_ = std::make_unique<Adapter>(deps_);
    connection_.kind = std::string(adapter_->kind());
    connection_.settings[id_setting] = account_id;
    connection_.settings["api_base_url"] = root_;
    connection_.settings["api_version"] = "v21.0";
    connection_.credentials["app_secret"] = "app-secret-1";
    connection_.credentials["verify_token"] = "verify-me";
    connection_.credentials["access_token"] = "page-token";
  }
  ~LiveHarness() {
    server_->Stop();
    runtime_.Stop();
  }

  template <class T>
  T Run(boost::asio::awaitable<T> task) {
    auto result = http::testing::RunSync(runtime_.context(), std::move(task));
    EXPECT_TRUE(result.has_value()) << "timed out";
    return std::move(*result);
  }

  SendOutcome Send(Content content, std::string contact = "222") {
    OutboundRequest request;
    request.message.direction = Direction::kOutbound;
    request.message.content = std::move(content);
    request.contact_id = std::move(contact);
    return Run(adapter_->Send(std::move(request), connection_));
  }

  WebhookTarget Target() const {
    return WebhookTarget{.url = "http://parley.test/v1/webhooks/conn_1",
                         .app_secret = "app-secret-1",
                         .account_id = account_id_};
  }

  FakeClock clock_;
  http::IoRuntime runtime_;
  http::Router router_;
  http::Metrics metrics_;
  Simulator simulator_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
  std::string root_;
  std::string account_id_;
  AdapterDeps deps_;
  std::unique_ptr<Adapter> adapter_;
  ConnectionContext connection_;
};

}  // namespace parley::channels::messenger::testing

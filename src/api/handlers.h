// src/api/handlers.h
//
// The route tables: each Register* adds one part of the API to the router. Handlers are
// coroutines on the I/O threads; they reach the store only through store/async.h.
//
//   Auth auth(app);
//   RegisterAdminApi(router, app, auth);
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>

#include "api/app.h"
#include "api/auth.h"
#include "api/rate_limiter.h"
#include "channels/web/context.h"
#include "http/router.h"

namespace parley::api {

// /healthz, /readyz, /metrics, /v1/openapi.json
void RegisterServiceApi(http::Router& router, App& app);
// /v1/admin/…
void RegisterAdminApi(http::Router& router, App& app, Auth& auth);
// /v1/conversations…, /v1/customers…, /v1/dead-letters…, /v1/stream
void RegisterClientApi(http::Router& router, App& app, Auth& auth);
// POST /v1/conversations/{conversation}/typing and …/read
void RegisterSignalApi(http::Router& router, App& app, Auth& auth);
// /v1/attachments…, /v1/customers/{customer}/export, DELETE /v1/customers/{customer}
void RegisterAttachmentApi(http::Router& router, App& app, Auth& auth);
// /v1/webhooks/{connection}
// Also starts, on `executor`, the retries of calls whose media could not be fetched.
void RegisterWebhookApi(http::Router& router, App& app, boost::asio::any_io_executor executor);

class WebChat;

// What the web chat routes use besides the App; every pointer outlives the server.
struct WidgetDeps {
  WebChat* chat = nullptr;
  const channels::web::TrustedProxies* proxies = nullptr;
  const channels::web::GeoIp* geo = nullptr;  // null: no location in the chat context
  KeyedRateLimiter* sockets_per_ip = nullptr;
  KeyedRateLimiter* uploads_per_ip = nullptr;
  // The demo pages (/demo, /demo/second) when set: fills the demo's web connection and a
  // private data token, or returns false while the demo is not ready.
  std::function<bool(std::string& connection, std::string& private_data_token)> demo{};
};

// /widget.js, /widget.css, /console…, /demo…, /v1/web/{connection}/socket and …/attachments
void RegisterWidgetApi(http::Router& router, App& app, WidgetDeps deps);

}  // namespace parley::api

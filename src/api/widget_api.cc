// The web chat's public routes (docs/channels/web.md): the widget socket and uploads, checked
// against the connection's allowed origins and rate-limited per client IP; the widget, console
// and demo pages embedded in the binary.
#include <fmt/format.h>

#include <boost/asio/awaitable.hpp>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/json_util.h"
#include "api/web_assets.h"
#include "api/web_chat.h"
#include "channels/web/web_adapter.h"
#include "core/log.h"
#include "http/io_runtime.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

Response Asset(std::string_view name, std::string_view content_type) {
  Response r;
  r.status = 200;
  r.content_type = std::string(content_type);
  r.body = std::string(web::Asset(name));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

// The console and demo pages: same-origin scripts and connections only.
Response Page(std::string body) {
  Response r;
  r.status = 200;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data: blob: http: https:; "
                         "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'");
  return r;
}

void AddCors(Response& r, std::string_view origin) {
  r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  r.headers.emplace_back("Vary", "Origin");
}

class WidgetApi {
 public:
  WidgetApi(App& app, WidgetDeps deps) : app_(app), deps_(std::move(deps)) {
    rejected_ = &app.metrics->AddCounter("parley_web_rejected_total",
                                         "Widget requests refused, by reason.", {"reason"});
  }

  void Register(http::Router& r) {
    r.Add("GET", "/widget.js", [](Request) -> awaitable<Response> {
      co_return Asset("widget.js", "text/javascript; charset=utf-8");
    });
    r.Add("GET", "/widget.css", [](Request) -> awaitable<Response> {
      co_return Asset("widget.css", "text/css; charset=utf-8");
    });
    r.Add("GET", "/console", [](Request) -> awaitable<Response> {
      co_return Page(std::string(web::Asset("console.html")));
    });
    r.Add("GET", "/console.js", [](Request) -> awaitable<Response> {
      co_return Asset("console.js", "text/javascript; charset=utf-8");
    });
    r.Add("GET", "/console.css", [](Request) -> awaitable<Response> {
      co_return Asset("console.css", "text/css; charset=utf-8");
    });
    if (deps_.demo) {
      r.Add("GET", "/demo",
            [this](Request) -> awaitable<Response> { co_return DemoPage("demo.html"); });
      r.Add("GET", "/demo/second",
            [this](Request) -> awaitable<Response> { co_return DemoPage("demo-second.html"); });
      r.Add("GET", "/demo.js", [](Request) -> awaitable<Response> {
        co_return Asset("demo.js", "text/javascript; charset=utf-8");
      });
    }
    r.AddWebSocket("/v1/web/{connection}/socket",
                   [this](Request q, std::unique_ptr<http::WebSocketUpgrade> u) {
                     return Socket(std::move(q), std::move(u));
                   });
    r.AddStreaming(
        "POST", "/v1/web/{connection}/attachments",
        [this](Request q, http::BodyReader& body) { return Upload(std::move(q), body); },
        delivery::kMaxAttachmentBytes);
    r.Add("OPTIONS", "/v1/web/{connection}/attachments",
          [this](Request q) { return Preflight(std::move(q)); });
  }

 private:
  Response DemoPage(std::string_view name) const {
    std::string connection, token;
    if (!deps_.demo(connection, token)) {
      return http::ErrorResponse(503, "unavailable", "the demo is being set up; reload");
    }
    std::string page(web::Asset(name));
    for (auto [placeholder, value] :
         {std::pair<std::string_view, std::string_view>{"{{connection}}", connection},
          {"{{private_data}}", token}}) {
      for (size_t at = page.find(placeholder); at != std::string::npos;
           at = page.find(placeholder, at + value.size())) {
        page.replace(at, placeholder.size(), value);
      }
    }
    return Page(std::move(page));
  }

  // The web connection named in the path, checked against the request's Origin. The error is
  // the HTTP answer to give.
  awaitable<Result<std::shared_ptr<const OpenConnection>>> Admit(const Request& q) {
    auto id = ConnectionId::Parse(q.path_params.at("connection"));
    if (!id.ok()) co_return NotFound("connection not found");
    auto connection = co_await app_.connections->Get(*id);
    if (!connection.ok()) co_return connection.status();
    if ((*connection)->context.kind != "web") co_return NotFound("connection not found");
    auto settings = channels::web::WebSettings::From((*connection)->context.settings);
    if (!settings.AllowsOrigin(q.Header("origin").value_or(""))) {
      rejected_->Inc({"origin"});
      co_return PermissionDenied("origin_not_allowed: this page's origin may not use the widget");
    }
    co_return std::move(*connection);
  }

  std::string ClientIp(const Request& q) const {
    return channels::web::ClientIp(q.remote_ip, q.Header("x-forwarded-for").value_or(""),
                                   *deps_.proxies);
  }

  static Response Refusal(const Status& s) {
    if (s.code() == StatusCode::kPermissionDenied) {
      return http::ErrorResponse(403, "origin_not_allowed", s.message());
    }
    return http::ErrorResponse(s);
  }

  awaitable<void> Socket(Request q, std::unique_ptr<http::WebSocketUpgrade> upgrade) {
    auto connection = co_await Admit(q);
    if (!connection.ok()) {
      co_await upgrade->Reject(Refusal(connection.status()));
      co_return;
    }
    std::string ip = ClientIp(q);
    if (!deps_.sockets_per_ip->Take(ip, app_.clock->Now())) {
      rejected_->Inc({"rate_limited"});
      co_await upgrade->Reject(
          http::ErrorResponse(429, "rate_limited", "too many chat connections; retry later"));
      co_return;
    }
    auto context = channels::web::MakeChatContext(
        q.remote_ip, q.Header("x-forwarded-for").value_or(""), q.Header("user-agent").value_or(""),
        *deps_.proxies, deps_.geo);
    std::string context_json = json::serialize(channels::web::ContextJson(context));
    auto socket = co_await upgrade->Accept();
    if (!socket.ok()) co_return;
    // The chat runs in a coroutine of its own, so this frame and the request it holds end
    // here instead of living as long as the socket.
    auto executor = (*socket)->executor();
    http::Spawn(
        executor,
        deps_.chat->Serve(std::move(*socket), std::move(*connection), std::move(context_json)),
        "web chat");
  }

  awaitable<Response> Preflight(Request q) {
    auto connection = co_await Admit(q);
    if (!connection.ok()) co_return Refusal(connection.status());
    Response r;
    r.status = 204;
    r.content_type = "text/plain";
    AddCors(r, q.Header("origin").value_or(""));
    r.headers.emplace_back("Access-Control-Allow-Methods", "POST");
    r.headers.emplace_back("Access-Control-Allow-Headers", "content-type, x-parley-session");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    co_return r;
  }

  awaitable<Response> Upload(Request q, http::BodyReader& body) {
    auto connection = co_await Admit(q);
    if (!connection.ok()) co_return Refusal(connection.status());
    std::string origin(q.Header("origin").value_or(""));
    auto refuse = [&origin](Response r) {
      AddCors(r, origin);
      return r;
    };
    if (!IsSessionToken(q.Header("x-parley-session").value_or(""))) {
      co_return refuse(http::ErrorResponse(
          401, "unauthenticated", "X-Parley-Session: the widget's session token is required"));
    }
    if (!deps_.uploads_per_ip->Take(ClientIp(q), app_.clock->Now())) {
      rejected_->Inc({"rate_limited"});
      co_return refuse(http::ErrorResponse(429, "rate_limited", "too many uploads; retry later"));
    }
    delivery::UploadRequest up;
    up.tenant = (*connection)->context.tenant;
    up.declared_type = std::string(q.Header("content-type").value_or(""));
    if (auto it = q.query.find("filename"); it != q.query.end()) up.filename = it->second;
    up.declared_length = body.content_length();
    UploadOutcome outcome = co_await StreamUpload(*app_.attachments, std::move(up), body);
    if (!outcome.status.ok()) {
      log::Info("web.upload_refused", {{"connection", (*connection)->context.id.str()},
                                       {"code", StatusCodeName(outcome.status.code())}});
    }
    co_return refuse(std::move(outcome.response));
  }

  App& app_;
  WidgetDeps deps_;
  http::Counter* rejected_ = nullptr;
};

}  // namespace

void RegisterWidgetApi(http::Router& router, App& app, WidgetDeps deps) {
  static WidgetApi* api = nullptr;  // lives as long as the process, like the route table
  api = new WidgetApi(app, std::move(deps));
  api->Register(router);
}

}  // namespace parley::api

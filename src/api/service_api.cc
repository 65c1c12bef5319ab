// Service routes: liveness, readiness, metrics and the OpenAPI document.
#include <boost/asio/awaitable.hpp>

#include "api/handlers.h"
#include "api/json_util.h"
#include "store/async.h"

namespace parley::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

awaitable<Response> Healthz(Request) { co_return http::JsonResponse(200, R"({"status":"ok"})"); }

awaitable<Response> Readyz(App* app, Request) {
  // Ready when a reader answers: the store is open and its threads are running.
  std::function<Result<int>(store::Reader&)> probe = [](store::Reader& r) -> Result<int> {
    PARLEY_RETURN_IF_ERROR(r.ListTenants({.after = "", .limit = 1}).status());
    return 0;
  };
  auto count = co_await store::Read<int>(*app->store, std::move(probe));
  if (!count.ok()) co_return http::ErrorResponse(Unavailable("store not ready"));
  co_return http::JsonResponse(200, R"({"status":"ready"})");
}

awaitable<Response> MetricsRoute(App* app, Request) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = app->metrics->RenderPrometheus();
  co_return r;
}

awaitable<Response> OpenApi(App* app, Request) {
  co_return http::JsonResponse(200, app->openapi_json);
}

}  // namespace

void RegisterServiceApi(http::Router& router, App& app) {
  App* a = &app;
  router.Add("GET", "/healthz", [](Request q) { return Healthz(std::move(q)); });
  router.Add("GET", "/readyz", [a](Request q) { return Readyz(a, std::move(q)); });
  router.Add("GET", "/metrics", [a](Request q) { return MetricsRoute(a, std::move(q)); });
  router.Add("GET", "/v1/openapi.json", [a](Request q) { return OpenApi(a, std::move(q)); });
}

}  // namespace parley::api

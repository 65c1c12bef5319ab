// src/api/handlers.h
//
// The route tables: each Register* adds one part of the API to the router. Handlers are
// coroutines on the I/O threads; they reach the store only through store/async.h.
//
//   Auth auth(app);
//   RegisterAdminApi(router, app, auth);
#pragma once

#include "api/app.h"
#include "api/auth.h"
#include "http/router.h"

namespace parley::api {

// /healthz, /readyz, /metrics, /v1/openapi.json
void RegisterServiceApi(http::Router& router, App& app);
// /v1/admin/…
void RegisterAdminApi(http::Router& router, App& app, Auth& auth);
// /v1/conversations…, /v1/customers…, /v1/dead-letters…, /v1/stream
void RegisterClientApi(http::Router& router, App& app, Auth& auth);
// /v1/attachments…, /v1/customers/{customer}/export, DELETE /v1/customers/{customer}
void RegisterAttachmentApi(http::Router& router, App& app, Auth& auth);
// /v1/webhooks/{connection}
void RegisterWebhookApi(http::Router& router, App& app);

}  // namespace parley::api

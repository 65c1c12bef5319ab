// src/api/app.h
//
// What the API handlers share: the composition root (src/main.cc) builds one App and the
// route tables (routes.h) take it by reference.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "bus/bus.h"
#include "channels/registry.h"
#include "core/clock.h"
#include "delivery/attachments.h"
#include "delivery/dispatcher.h"
#include "delivery/stream_hub.h"
#include "delivery/sweeper.h"
#include "delivery/tenant_keys.h"
#include "http/metrics.h"
#include "store/store.h"

namespace parley::api {

class ConnectionCache;

// Every pointer outlives the server.
struct App {
  store::Store* store = nullptr;
  delivery::TenantKeys* keys = nullptr;
  channels::Registry* registry = nullptr;
  bus::EventBus* bus = nullptr;
  delivery::StreamHub* stream = nullptr;
  delivery::Attachments* attachments = nullptr;
  ConnectionCache* connections = nullptr;  // opened connections for the webhook hot path
  const Clock* clock = nullptr;
  http::Metrics* metrics = nullptr;
  std::string admin_token;                 // operator token (never logged)
  std::string openapi_json;                // served at /v1/openapi.json
  std::chrono::seconds max_grace{604800};  // endpoint secret rotation grace, at most
  delivery::SweeperOptions retention;      // the rules the data map describes
  // Backoff of webhook calls kept for another try (api/webhook_retries.h): the delivery's.
  std::chrono::milliseconds retry_initial_backoff{1000};
  std::chrono::milliseconds retry_max_backoff{3600000};
  // Provider media downloads in progress at once, across all connections: each is held
  // whole in memory (up to its tenant's attachment limit) until it is stored. One tenant
  // has at most media_fetches_per_tenant of them (1..media_fetches).
  size_t media_fetches = 4;
  size_t media_fetches_per_tenant = 2;
};

}  // namespace parley::api

// src/api/connection_cache.h
//
// Connections with their credentials opened, cached for a few seconds so the webhook hot
// path does not read and unseal the connection on every call. Deleting a connection or a
// tenant on this node drops its entries at once; other nodes see it within the TTL.
//
//   auto c = co_await cache.Get(connection_id);
//   adapter->VerifyWebhook(request, (*c)->context, now);
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "channels/channel_adapter.h"
#include "delivery/tenant_keys.h"
#include "store/store.h"

namespace parley::api {

struct OpenConnection {
  channels::ConnectionContext context;
  std::shared_ptr<const crypto::DataKey> key;
  TimePoint fetched_at;
};

// Thread safety: all methods may be called concurrently.
class ConnectionCache {
 public:
  // All references outlive the cache.
  ConnectionCache(store::Store& store, delivery::TenantKeys& keys, const Clock& clock)
      : store_(store), keys_(keys), clock_(clock) {}

  // Errors: kNotFound (no such connection, or its tenant was deleted).
  boost::asio::awaitable<Result<std::shared_ptr<const OpenConnection>>> Get(ConnectionId id);

  void Forget(const ConnectionId& id);
  void ForgetTenant(const TenantId& tenant);

 private:
  store::Store& store_;
  delivery::TenantKeys& keys_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const OpenConnection>, std::less<>> cache_;
};

}  // namespace parley::api

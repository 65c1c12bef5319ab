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
#include <optional>
#include <string>
#include <unordered_map>

#include "channels/channel_adapter.h"
#include "delivery/tenant_keys.h"
#include "store/store.h"

namespace parley::api {

// The customer and open conversation each contact of a connection (by the blind index of the
// contact id) had at its last stored message, so the ingest path can build and seal the next
// message before its store write, off the single writer. Only a guess: the write checks it
// and builds the message itself when the conversation has changed. Bounded: cleared when
// full. Thread-safe.
class ConversationGuesses {
 public:
  struct Guess {
    CustomerId customer;
    ConversationId conversation;
  };
  std::optional<Guess> Find(const std::string& contact_index) const;
  void Remember(const std::string& contact_index, Guess guess);

 private:
  static constexpr size_t kMaxEntries = 20000;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Guess> guesses_;  // guarded by mu_
};

struct OpenConnection {
  channels::ConnectionContext context;
  std::shared_ptr<const crypto::DataKey> key;
  TimePoint fetched_at;
  std::shared_ptr<ConversationGuesses> guesses = std::make_shared<ConversationGuesses>();
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

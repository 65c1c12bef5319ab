// src/delivery/tenant_keys.h
//
// Application services shared by delivery and the API layer: the tenant data-key lookup
// (KeyRing in front of the store) and the places sealed columns live at.
//
//   PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await keys.Get(tenant));
//   std::string sealed = key->Seal(body, place::MessageBody(tenant, id));
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "core/ids.h"
#include "crypto/aead.h"
#include "crypto/keys.h"
#include "store/store.h"

namespace parley::delivery {

// Thread safety: all methods may be called concurrently.
class TenantKeys {
 public:
  // `ring` and `store` outlive this object.
  TenantKeys(crypto::KeyRing& ring, store::Store& store) : ring_(ring), store_(store) {}

  // The tenant's data key; loads and unwraps it on first use.
  // Errors: kNotFound (no such tenant, or shredded).
  boost::asio::awaitable<Result<std::shared_ptr<const crypto::DataKey>>> Get(TenantId tenant);
  // The same, blocking — for threads that may block (store threads, CLI).
  Result<std::shared_ptr<const crypto::DataKey>> GetSync(store::Reader& reader,
                                                         const TenantId& tenant);

  crypto::KeyRing& ring() { return ring_; }

 private:
  crypto::KeyRing& ring_;
  store::Store& store_;
};

// The places of sealed columns (DESIGN.md §6): one function per column, so every seal and
// open of a column agree.
namespace place {
inline crypto::SealPlace MessageBody(const TenantId& t, const std::string& id) {
  return {t.str(), "messages", "body", id};
}
inline crypto::SealPlace EventPayload(const TenantId& t, const std::string& id) {
  return {t.str(), "events", "payload", id};
}
inline crypto::SealPlace CustomerContact(const TenantId& t, const std::string& id) {
  return {t.str(), "customers", "contact", id};
}
inline crypto::SealPlace CustomerProfile(const TenantId& t, const std::string& id) {
  return {t.str(), "customers", "profile", id};
}
inline crypto::SealPlace ConnectionCredentials(const TenantId& t, const std::string& id) {
  return {t.str(), "connections", "credentials", id};
}
inline crypto::SealPlace ConnectionIdentity(const TenantId& t, const std::string& id) {
  return {t.str(), "connections", "identity", id};
}
inline crypto::SealPlace EndpointSecret(const TenantId& t, const std::string& id) {
  return {t.str(), "endpoints", "secret", id};
}
inline crypto::SealPlace EndpointPreviousSecret(const TenantId& t, const std::string& id) {
  return {t.str(), "endpoints", "previous_secret", id};
}
inline crypto::SealPlace ConversationContext(const TenantId& t, const std::string& id) {
  return {t.str(), "conversations", "context", id};
}
inline crypto::SealPlace ConversationCookies(const TenantId& t, const std::string& id) {
  return {t.str(), "conversations", "cookies", id};
}
inline crypto::SealPlace ConversationPrivateData(const TenantId& t, const std::string& id) {
  return {t.str(), "conversations", "private_data", id};
}
inline crypto::SealPlace IdempotencyResponse(const TenantId& t, const std::string& key_hash) {
  return {t.str(), "idempotency_keys", "response", key_hash};
}
}  // namespace place

// Blind-index domains.
inline std::string ContactIndexDomain(std::string_view channel_kind) {
  return "customer.contact:" + std::string(channel_kind);
}

// The blind-index domain of the provider ids of messages sent through a connection, kept in
// the dedupe table so that status callbacks naming them find Parley's message.
inline std::string SentProviderIdDomain(const ConnectionId& connection) {
  return "outbound.provider_message_id:" + connection.str();
}

// The inbound dedupe key of a provider message id received through a connection.
inline std::string InboundProviderIdDomain(const ConnectionId& connection) {
  return "inbound.provider_message_id:" + connection.str();
}

// The routing-index domain (crypto::MasterKey::RoutingIndex) of the client identities a
// channel kind's connections serve.
inline std::string IdentityRoutingDomain(std::string_view channel_kind) {
  return "connection.identity:" + std::string(channel_kind);
}

}  // namespace parley::delivery

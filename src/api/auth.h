// src/api/auth.h
//
// Who is calling: the operator (admin token) or a tenant's API key with scopes. API keys look
// like "pk_<id>.<secret>"; only a hash of the secret is stored. Verified keys are cached for a
// short time so the hot path does not read the store on every request.
//
//   PARLEY_CO_ASSIGN_OR_RETURN(Principal p, co_await auth.Client(request, "messages:write"));
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/app.h"
#include "http/message.h"

namespace parley::api {

inline constexpr std::string_view kAllScopes[] = {"conversations:read",  "conversations:write",
                                                  "messages:write",      "customers:read",
                                                  "dead_letters:manage", "customers:erase",
                                                  "admin"};

struct Principal {
  bool is_operator = false;
  TenantId tenant;  // for API keys
  ApiKeyId key;
  std::vector<std::string> scopes;
  bool Has(std::string_view scope) const;
  std::string Actor() const { return is_operator ? "operator" : key.str(); }
};

// Thread safety: all methods may be called concurrently.
class Auth {
 public:
  explicit Auth(App& app) : app_(app) {}

  // The operator token. Errors: kUnauthenticated.
  Status Operator(const http::Request& request) const;

  // A tenant API key holding `scope` ("admin" holds every scope). The key comes from
  // `Authorization: Bearer`, or, when `allow_query` (WebSocket from browsers), from
  // `?access_token=`. Errors: kUnauthenticated, kPermissionDenied.
  boost::asio::awaitable<Result<Principal>> Client(http::Request request, std::string scope,
                                                   bool allow_query = false);

  // For /v1/admin/tenants/{tenant}/…: the operator, or an "admin" key of that very tenant.
  // A key of another tenant gets kNotFound, as if the tenant did not exist.
  boost::asio::awaitable<Result<Principal>> TenantAdmin(http::Request request, TenantId tenant);

  // Drops a deleted key from the cache at once.
  void Forget(const ApiKeyId& id);
  // Drops every cached key of a deleted tenant.
  void ForgetTenant(const TenantId& tenant);

  static bool ValidScope(std::string_view scope);

 private:
  struct Cached {
    store::ApiKeyRecord record;
    TimePoint fetched_at;
  };
  App& app_;
  std::mutex mu_;
  std::map<std::string, Cached, std::less<>> cache_;
};

// The bearer token of `Authorization: Bearer <token>`, if any.
std::optional<std::string_view> BearerToken(const http::Request& request);

}  // namespace parley::api

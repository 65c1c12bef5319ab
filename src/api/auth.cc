#include "api/auth.h"

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/token.h"
#include "store/async.h"

namespace parley::api {

namespace {
constexpr auto kCacheTtl = std::chrono::seconds(30);
constexpr size_t kMaxCachedKeys = 10000;
}  // namespace

bool Principal::Has(std::string_view scope) const {
  if (is_operator) return true;
  return std::any_of(scopes.begin(), scopes.end(),
                     [&](const std::string& s) { return s == scope || s == "admin"; });
}

bool Auth::ValidScope(std::string_view scope) {
  return std::find(std::begin(kAllScopes), std::end(kAllScopes), scope) != std::end(kAllScopes);
}

std::optional<std::string_view> BearerToken(const http::Request& request) {
  auto header = request.Header("authorization");
  if (!header) return std::nullopt;
  std::string_view h = *header;
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.substr(0, kBearer.size()) != kBearer) return std::nullopt;
  return h.substr(kBearer.size());
}

Status Auth::Operator(const http::Request& request) const {
  auto token = BearerToken(request);
  if (!token) return Unauthenticated("missing bearer token");
  if (app_.admin_token.empty() || !crypto::ConstantTimeEqual(*token, app_.admin_token)) {
    return Unauthenticated("invalid operator token");
  }
  return OkStatus();
}

boost::asio::awaitable<Result<Principal>> Auth::Client(http::Request request, std::string scope,
                                                       bool allow_query) {
  std::optional<std::string_view> token = BearerToken(request);
  if (!token && allow_query) {
    if (auto it = request.query.find("access_token"); it != request.query.end()) {
      token = it->second;
    }
  }
  if (!token) co_return Unauthenticated("missing API key (Authorization: Bearer pk_…)");
  size_t dot = token->find('.');
  if (dot == std::string_view::npos || token->size() > 256) {
    co_return Unauthenticated("malformed API key");
  }
  auto id = ApiKeyId::Parse(token->substr(0, dot));
  if (!id.ok()) co_return Unauthenticated("malformed API key");
  std::string secret(token->substr(dot + 1));

  std::optional<store::ApiKeyRecord> record;
  TimePoint now = app_.clock->Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(id->str());
    if (it != cache_.end() && now - it->second.fetched_at < kCacheTtl) record = it->second.record;
  }
  if (!record) {
    std::function<Result<store::ApiKeyRecord>(store::Reader&)> get_api_key =
        [key = *id](store::Reader& r) { return r.GetApiKey(key); };
    auto loaded = co_await store::Read<store::ApiKeyRecord>(*app_.store, std::move(get_api_key));
    if (!loaded.ok()) {
      if (loaded.status().code() == StatusCode::kNotFound)
        co_return Unauthenticated("invalid API key");
      co_return loaded.status();
    }
    record = *loaded;
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    cache_[id->str()] = Cached{*loaded, now};
  }
  if (!crypto::VerifyToken(secret, record->secret_hash))
    co_return Unauthenticated("invalid API key");
  // A deleted tenant's keys stop working at once, whatever the cache holds.
  auto tenant_key = co_await app_.keys->Get(record->tenant);
  if (!tenant_key.ok()) co_return Unauthenticated("invalid API key");
  Principal p;
  p.tenant = record->tenant;
  p.key = record->id;
  p.scopes = record->scopes;
  if (!p.Has(scope)) co_return PermissionDenied("this API key lacks the scope " + scope);
  co_return p;
}

boost::asio::awaitable<Result<Principal>> Auth::TenantAdmin(http::Request request,
                                                            TenantId tenant) {
  auto token = BearerToken(request);
  if (token && token->substr(0, 3) != "pk_") {
    Status s = Operator(request);
    if (!s.ok()) co_return s;
    Principal p;
    p.is_operator = true;
    p.tenant = tenant;
    co_return p;
  }
  auto p = co_await Client(std::move(request), "admin");
  if (!p.ok()) co_return p;
  if (p->tenant != tenant) co_return NotFound("tenant not found");
  co_return p;
}

void Auth::ForgetTenant(const TenantId& tenant) {
  std::lock_guard lock(mu_);
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.record.tenant == tenant; });
}

void Auth::Forget(const ApiKeyId& id) {
  std::lock_guard lock(mu_);
  cache_.erase(id.str());
}

}  // namespace parley::api

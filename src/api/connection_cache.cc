#include "api/connection_cache.h"

#include <boost/json.hpp>

#include "store/async.h"

namespace parley::api {

namespace json = boost::json;

namespace {
constexpr auto kTtl = std::chrono::seconds(10);
constexpr size_t kMaxEntries = 10000;
}  // namespace

boost::asio::awaitable<Result<std::shared_ptr<const OpenConnection>>> ConnectionCache::Get(
    ConnectionId id) {
  TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(id.str());
    // A tenant deleted on this node has left the key ring: its entries are stale at once.
    if (it != cache_.end() && now - it->second->fetched_at < kTtl &&
        keys_.ring().Find(it->second->context.tenant.str())) {
      co_return it->second;
    }
  }
  std::function<Result<store::ConnectionRecord>(store::Reader&)> get = [id](store::Reader& r) {
    return r.GetConnectionById(id);
  };
  auto record = co_await store::Read<store::ConnectionRecord>(store_, std::move(get));
  if (!record.ok()) co_return record.status();
  auto key = co_await keys_.Get(record->tenant);
  if (!key.ok()) co_return NotFound("connection not found");
  auto credentials =
      (*key)->Open(record->credentials_sealed,
                   delivery::place::ConnectionCredentials(record->tenant, record->id.str()));
  if (!credentials.ok()) co_return Internal("connection credentials do not open");
  auto open = std::make_shared<OpenConnection>();
  open->context.tenant = record->tenant;
  open->context.id = record->id;
  open->context.kind = record->kind;
  boost::system::error_code ec;
  auto settings = json::parse(record->settings_json, ec);
  if (!ec && settings.is_object()) open->context.settings = std::move(settings.get_object());
  auto creds = json::parse(*credentials, ec);
  if (!ec && creds.is_object()) open->context.credentials = std::move(creds.get_object());
  open->key = *key;
  open->fetched_at = now;
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxEntries) cache_.clear();
  cache_[id.str()] = open;
  co_return std::shared_ptr<const OpenConnection>(open);
}

void ConnectionCache::Forget(const ConnectionId& id) {
  std::lock_guard lock(mu_);
  cache_.erase(id.str());
}

void ConnectionCache::ForgetTenant(const TenantId& tenant) {
  std::lock_guard lock(mu_);
  std::erase_if(cache_, [&](const auto& e) { return e.second->context.tenant == tenant; });
}

std::optional<ConversationGuesses::Guess> ConversationGuesses::Find(
    const std::string& contact_index) const {
  std::lock_guard lock(mu_);
  auto it = guesses_.find(contact_index);
  if (it == guesses_.end()) return std::nullopt;
  return it->second;
}

void ConversationGuesses::Remember(const std::string& contact_index, Guess guess) {
  std::lock_guard lock(mu_);
  if (guesses_.size() >= kMaxEntries && !guesses_.contains(contact_index)) guesses_.clear();
  guesses_.insert_or_assign(contact_index, std::move(guess));
}

}  // namespace parley::api

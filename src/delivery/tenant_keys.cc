#include "delivery/tenant_keys.h"

#include "store/async.h"

namespace parley::delivery {

namespace {
Status Install(crypto::KeyRing& ring, const store::TenantRecord& tenant) {
  if (tenant.wrapped_key.empty()) return NotFound("tenant not found");
  Status s = ring.Add(tenant.id.str(), tenant.wrapped_key);
  // A key that does not unwrap means the wrong master key: an operator problem, not input.
  if (!s.ok()) return Internal("tenant key does not unwrap with this master key");
  return OkStatus();
}
}  // namespace

boost::asio::awaitable<Result<std::shared_ptr<const crypto::DataKey>>> TenantKeys::Get(
    TenantId tenant) {
  if (auto key = ring_.Find(tenant.str())) co_return key;
  std::function<Result<store::TenantRecord>(store::Reader&)> get_tenant =
      [tenant](store::Reader& r) { return r.GetTenant(tenant); };
  Result<store::TenantRecord> record =
      co_await store::Read<store::TenantRecord>(store_, std::move(get_tenant));
  if (!record.ok()) co_return record.status();
  PARLEY_CO_RETURN_IF_ERROR(Install(ring_, *record));
  auto key = ring_.Find(tenant.str());
  if (!key) co_return NotFound("tenant not found");
  co_return key;
}

Result<std::shared_ptr<const crypto::DataKey>> TenantKeys::GetSync(store::Reader& reader,
                                                                   const TenantId& tenant) {
  if (auto key = ring_.Find(tenant.str())) return key;
  PARLEY_ASSIGN_OR_RETURN(store::TenantRecord record, reader.GetTenant(tenant));
  PARLEY_RETURN_IF_ERROR(Install(ring_, record));
  auto key = ring_.Find(tenant.str());
  if (!key) return NotFound("tenant not found");
  return key;
}

}  // namespace parley::delivery

// The admin API: tenants, API keys, webhook endpoints and connections (docs/api.md).
#include <fmt/format.h>

#include <boost/asio/awaitable.hpp>
#include <boost/url/parse.hpp>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/json_util.h"
#include "core/log.h"
#include "crypto/random.h"
#include "crypto/token.h"
#include "store/async.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxUrlBytes = 2048;

json::object TenantJson(const store::TenantRecord& t) {
  return {{"id", t.id.str()}, {"name", t.name}, {"created_at", FormatRfc3339(t.created_at)}};
}

json::object ApiKeyJson(const store::ApiKeyRecord& k) {
  json::array scopes;
  for (const auto& s : k.scopes) scopes.emplace_back(s);
  return {{"id", k.id.str()},
          {"tenant", k.tenant.str()},
          {"name", k.name},
          {"scopes", std::move(scopes)},
          {"created_at", FormatRfc3339(k.created_at)}};
}

json::object EndpointJson(const store::EndpointRecord& e, TimePoint now) {
  json::object o{{"id", e.id.str()},
                 {"tenant", e.tenant.str()},
                 {"url", e.url},
                 {"created_at", FormatRfc3339(e.created_at)},
                 {"updated_at", FormatRfc3339(e.updated_at)}};
  bool rotating = !e.previous_secret_sealed.empty() && e.previous_secret_expires_at &&
                  *e.previous_secret_expires_at > now;
  o["rotating_until"] = rotating ? TimeJson(*e.previous_secret_expires_at) : json::value(nullptr);
  return o;
}

json::object ConnectionJson(const store::ConnectionRecord& c) {
  json::value settings = json::object();
  boost::system::error_code ec;
  auto parsed = json::parse(c.settings_json, ec);
  if (!ec) settings = std::move(parsed);
  return {{"id", c.id.str()},
          {"tenant", c.tenant.str()},
          {"kind", c.kind},
          {"name", c.name},
          {"settings", std::move(settings)},
          {"inbound_url", "/v1/webhooks/" + c.id.str()},
          {"created_at", FormatRfc3339(c.created_at)}};
}

Status ValidateUrl(std::string_view url, std::string_view field) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (url.size() > kMaxUrlBytes || !parsed ||
      (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
    return InvalidArgument(fmt::format("{}: must be an absolute http:// or https:// URL", field));
  }
  return OkStatus();
}

store::AuditRecord Audit(const App& app, const Principal& who, std::string action,
                         std::optional<TenantId> tenant, std::string target) {
  store::AuditRecord a;
  a.id = AuditId::New(*app.clock);
  a.at = app.clock->Now();
  a.actor = who.Actor();
  a.action = std::move(action);
  a.tenant = std::move(tenant);
  a.target = std::move(target);
  a.detail_json = "{}";
  return a;
}

class AdminApi {
 public:
  AdminApi(App& app, Auth& auth) : app_(app), auth_(auth) {}

  void Register(http::Router& r) {
    r.Add("POST", "/v1/admin/tenants", [this](Request q) { return CreateTenant(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants", [this](Request q) { return ListTenants(std::move(q)); });
    r.Add("GET", "/v1/admin/data-map", [this](Request q) { return DataMap(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}",
          [this](Request q) { return GetTenant(std::move(q)); });
    r.Add("DELETE", "/v1/admin/tenants/{tenant}",
          [this](Request q) { return DeleteTenant(std::move(q)); });
    r.Add("POST", "/v1/admin/tenants/{tenant}/api-keys",
          [this](Request q) { return CreateApiKey(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}/api-keys",
          [this](Request q) { return ListApiKeys(std::move(q)); });
    r.Add("DELETE", "/v1/admin/tenants/{tenant}/api-keys/{key}",
          [this](Request q) { return DeleteApiKey(std::move(q)); });
    r.Add("POST", "/v1/admin/tenants/{tenant}/endpoints",
          [this](Request q) { return CreateEndpoint(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}/endpoints",
          [this](Request q) { return ListEndpoints(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}/endpoints/{endpoint}",
          [this](Request q) { return GetEndpoint(std::move(q)); });
    r.Add("POST", "/v1/admin/tenants/{tenant}/endpoints/{endpoint}/rotate-secret",
          [this](Request q) { return RotateEndpointSecret(std::move(q)); });
    r.Add("DELETE", "/v1/admin/tenants/{tenant}/endpoints/{endpoint}",
          [this](Request q) { return DeleteEndpoint(std::move(q)); });
    r.Add("POST", "/v1/admin/tenants/{tenant}/connections",
          [this](Request q) { return CreateConnection(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}/connections",
          [this](Request q) { return ListConnections(std::move(q)); });
    r.Add("GET", "/v1/admin/tenants/{tenant}/connections/{connection}",
          [this](Request q) { return GetConnection(std::move(q)); });
    r.Add("DELETE", "/v1/admin/tenants/{tenant}/connections/{connection}",
          [this](Request q) { return DeleteConnection(std::move(q)); });
  }

 private:
  // Authorizes a /v1/admin/tenants/{tenant}/… call and checks the tenant exists.
  awaitable<Result<Principal>> ForTenant(const Request& q, TenantId* tenant) {
    auto id = TenantId::Parse(q.path_params.at("tenant"));
    if (!id.ok()) co_return NotFound("tenant not found");
    *tenant = *id;
    auto who = co_await auth_.TenantAdmin(q, *id);
    if (!who.ok()) co_return who;
    std::function<Result<store::TenantRecord>(store::Reader&)> get_tenant =
        [id = *id](store::Reader& r) { return r.GetTenant(id); };
    auto t = co_await store::Read<store::TenantRecord>(*app_.store, std::move(get_tenant));
    if (!t.ok() || t->wrapped_key.empty()) co_return NotFound("tenant not found");
    co_return who;
  }

  awaitable<Response> CreateTenant(Request q) {
    Status s = auth_.Operator(q);
    if (!s.ok()) co_return http::ErrorResponse(s);
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto name = StringField(*body, "name", kMaxNameBytes, true);
    if (!name.ok()) co_return http::ErrorResponse(name.status());
    store::TenantRecord t;
    t.id = TenantId::New(*app_.clock);
    t.name = *name;
    t.created_at = app_.clock->Now();
    t.settings_json = "{}";
    t.wrapped_key =
        app_.keys->ring().master_key().WrapDataKey(t.id.str(), crypto::DataKey::Generate());
    Principal op;
    op.is_operator = true;
    auto audit = Audit(app_, op, "tenant.create", t.id, t.id.str());
    store::Store::WriteFn create_tenant = [t, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
      return w.InsertAudit(audit);
    };
    s = co_await store::Write(*app_.store, std::move(create_tenant));
    if (!s.ok()) co_return http::ErrorResponse(s);
    log::Info("tenant.created", {{"tenant", t.id.str()}});
    co_return Json(201, TenantJson(t));
  }

  // What Parley holds, per record type, and the rule that deletes it (docs/data-lifecycle.md).
  awaitable<Response> DataMap(Request q) {
    Status s = auth_.Operator(q);
    if (!s.ok()) co_return http::ErrorResponse(s);
    std::function<Result<std::vector<store::TableStats>>(store::Reader&)> data_map =
        [](store::Reader& r) { return r.DataMap(); };
    auto tables =
        co_await store::Read<std::vector<store::TableStats>>(*app_.store, std::move(data_map));
    if (!tables.ok()) co_return http::ErrorResponse(tables.status());
    json::array items;
    for (const auto& e : delivery::DescribeDataMap(*tables, app_.retention, app_.clock->Now())) {
      json::object item{{"record", e.record},
                        {"table", e.table},
                        {"rows", e.rows},
                        {"sealed", e.sealed},
                        {"rule", e.rule}};
      item["oldest_age_s"] = e.oldest_age ? json::value(e.oldest_age->count()) : json::value();
      items.push_back(std::move(item));
    }
    co_return Json(200, json::object{{"data", std::move(items)}});
  }

  awaitable<Response> ListTenants(Request q) {
    Status s = auth_.Operator(q);
    if (!s.ok()) co_return http::ErrorResponse(s);
    auto page = PageFromQuery(q);
    if (!page.ok()) co_return http::ErrorResponse(page.status());
    std::function<Result<std::vector<store::TenantRecord>>(store::Reader&)> list_tenants =
        [p = *page](store::Reader& r) { return r.ListTenants(p); };
    auto list = co_await store::Read<std::vector<store::TenantRecord>>(*app_.store,
                                                                       std::move(list_tenants));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& t : *list) {
      if (!t.wrapped_key.empty()) items.push_back(TenantJson(t));
    }
    co_return ListResponse(std::move(items), *page, list->empty() ? "" : list->back().id.str());
  }

  awaitable<Response> GetTenant(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    std::function<Result<store::TenantRecord>(store::Reader&)> get_tenant =
        [tenant](store::Reader& r) { return r.GetTenant(tenant); };
    auto t = co_await store::Read<store::TenantRecord>(*app_.store, std::move(get_tenant));
    if (!t.ok()) co_return http::ErrorResponse(t.status());
    co_return Json(200, TenantJson(*t));
  }

  awaitable<Response> DeleteTenant(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    if (!who->is_operator) {
      co_return http::ErrorResponse(PermissionDenied("only the operator can delete a tenant"));
    }
    Status s;
    Principal op;
    op.is_operator = true;
    auto audit = Audit(app_, op, "tenant.delete", tenant, tenant.str());
    // Crypto-shredding: the wrapped key goes first, in its own commit, so nothing sealed for
    // this tenant can be opened again even if deleting the rows is interrupted.
    store::Store::WriteFn shred_key = [tenant, audit](store::Writer& w) {
      PARLEY_ASSIGN_OR_RETURN(store::TenantRecord t, w.GetTenant(tenant));
      if (t.wrapped_key.empty()) return NotFound("tenant not found");
      PARLEY_RETURN_IF_ERROR(w.ClearTenantKey(tenant));
      return w.InsertAudit(audit);
    };
    s = co_await store::Write(*app_.store, std::move(shred_key));
    if (!s.ok()) co_return http::ErrorResponse(s);
    app_.keys->ring().Forget(tenant.str());
    store::Store::WriteFn delete_tenant_data = [tenant](store::Writer& w) {
      return w.DeleteTenantData(tenant);
    };
    s = co_await store::Write(*app_.store, std::move(delete_tenant_data));
    if (!s.ok()) co_return http::ErrorResponse(s);
    // Its blobs are unreadable once the key is gone (local) — delete them all the same.
    if (app_.attachments) {
      s = co_await app_.attachments->blobs().DeleteTenant(tenant);
      if (!s.ok()) co_return http::ErrorResponse(s);
    }
    log::Info("tenant.deleted", {{"tenant", tenant.str()}});
    co_return Response{.status = 204, .content_type = "", .headers = {}, .body = ""};
  }

  awaitable<Response> CreateApiKey(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto name = StringField(*body, "name", kMaxNameBytes, false);
    if (!name.ok()) co_return http::ErrorResponse(name.status());
    store::ApiKeyRecord k;
    auto scopes_it = body->find("scopes");
    if (scopes_it == body->end() || !scopes_it->value().is_array() ||
        scopes_it->value().get_array().empty() || scopes_it->value().get_array().size() > 16) {
      co_return http::ErrorResponse(InvalidArgument("scopes: required non-empty array of scopes"));
    }
    for (const auto& v : scopes_it->value().get_array()) {
      if (!v.is_string() || !Auth::ValidScope(v.get_string())) {
        co_return http::ErrorResponse(InvalidArgument(
            "scopes: unknown scope (known: conversations:read, conversations:write, "
            "messages:write, customers:read, dead_letters:manage, admin)"));
      }
      k.scopes.emplace_back(v.get_string());
    }
    k.id = ApiKeyId::New(*app_.clock);
    k.tenant = tenant;
    k.name = *name;
    k.created_at = app_.clock->Now();
    std::string secret = crypto::RandomToken(32);
    k.secret_hash = crypto::HashToken(secret);
    auto audit = Audit(app_, *who, "api_key.create", tenant, k.id.str());
    store::Store::WriteFn insert_api_key = [k, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.InsertApiKey(k));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(insert_api_key));
    if (!s.ok()) co_return http::ErrorResponse(s);
    json::object out = ApiKeyJson(k);
    out["key"] = k.id.str() + "." + secret;
    co_return Json(201, out);
  }

  awaitable<Response> ListApiKeys(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    std::function<Result<std::vector<store::ApiKeyRecord>>(store::Reader&)> list_api_keys =
        [tenant](store::Reader& r) { return r.ListApiKeys(tenant); };
    auto list = co_await store::Read<std::vector<store::ApiKeyRecord>>(*app_.store,
                                                                       std::move(list_api_keys));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& k : *list) items.push_back(ApiKeyJson(k));
    co_return Json(200, json::object{{"data", std::move(items)}, {"next_cursor", nullptr}});
  }

  awaitable<Response> DeleteApiKey(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = ApiKeyId::Parse(q.path_params.at("key"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("API key not found"));
    auto audit = Audit(app_, *who, "api_key.delete", tenant, id->str());
    store::Store::WriteFn delete_api_key = [tenant, id = *id, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.DeleteApiKey(tenant, id));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(delete_api_key));
    if (!s.ok()) co_return http::ErrorResponse(s);
    auth_.Forget(*id);
    co_return Response{.status = 204, .content_type = "", .headers = {}, .body = ""};
  }

  awaitable<Response> CreateEndpoint(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto url = StringField(*body, "url", kMaxUrlBytes, true);
    if (!url.ok()) co_return http::ErrorResponse(url.status());
    Status s = ValidateUrl(*url, "url");
    if (!s.ok()) co_return http::ErrorResponse(s);
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    store::EndpointRecord e;
    e.id = EndpointId::New(*app_.clock);
    e.tenant = tenant;
    e.url = *url;
    e.created_at = e.updated_at = app_.clock->Now();
    std::string secret = "whsec_" + crypto::RandomToken(32);
    e.secret_sealed = (*key)->Seal(secret, delivery::place::EndpointSecret(tenant, e.id.str()));
    auto audit = Audit(app_, *who, "endpoint.create", tenant, e.id.str());
    store::Store::WriteFn insert_endpoint = [e, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.InsertEndpoint(e));
      return w.InsertAudit(audit);
    };
    s = co_await store::Write(*app_.store, std::move(insert_endpoint));
    if (!s.ok()) co_return http::ErrorResponse(s);
    json::object out = EndpointJson(e, app_.clock->Now());
    out["secret"] = secret;
    co_return Json(201, out);
  }

  awaitable<Response> ListEndpoints(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    std::function<Result<std::vector<store::EndpointRecord>>(store::Reader&)> list_endpoints =
        [tenant](store::Reader& r) { return r.ListEndpoints(tenant); };
    auto list = co_await store::Read<std::vector<store::EndpointRecord>>(*app_.store,
                                                                         std::move(list_endpoints));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& e : *list) items.push_back(EndpointJson(e, app_.clock->Now()));
    co_return Json(200, json::object{{"data", std::move(items)}, {"next_cursor", nullptr}});
  }

  awaitable<Result<store::EndpointRecord>> LoadEndpoint(const Request& q, TenantId tenant) {
    auto id = EndpointId::Parse(q.path_params.at("endpoint"));
    if (!id.ok()) co_return NotFound("endpoint not found");
    std::function<Result<store::EndpointRecord>(store::Reader&)> get_endpoint =
        [tenant, id = *id](store::Reader& r) { return r.GetEndpoint(tenant, id); };
    co_return co_await store::Read<store::EndpointRecord>(*app_.store, std::move(get_endpoint));
  }

  awaitable<Response> GetEndpoint(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto e = co_await LoadEndpoint(q, tenant);
    if (!e.ok()) co_return http::ErrorResponse(e.status());
    co_return Json(200, EndpointJson(*e, app_.clock->Now()));
  }

  awaitable<Response> RotateEndpointSecret(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    int64_t grace = 86400;
    if (auto it = body->find("grace_seconds"); it != body->end()) {
      if (!it->value().is_int64() || it->value().get_int64() < 0 ||
          it->value().get_int64() > app_.max_grace.count()) {
        co_return http::ErrorResponse(InvalidArgument(
            fmt::format("grace_seconds: must be an integer from 0 to {}", app_.max_grace.count())));
      }
      grace = it->value().get_int64();
    }
    auto e = co_await LoadEndpoint(q, tenant);
    if (!e.ok()) co_return http::ErrorResponse(e.status());
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    auto current =
        (*key)->Open(e->secret_sealed, delivery::place::EndpointSecret(tenant, e->id.str()));
    if (!current.ok()) co_return http::ErrorResponse(Internal("endpoint secret does not open"));
    TimePoint now = app_.clock->Now();
    std::string secret = "whsec_" + crypto::RandomToken(32);
    store::EndpointRecord updated = *e;
    updated.previous_secret_sealed =
        grace > 0
            ? (*key)->Seal(*current, delivery::place::EndpointPreviousSecret(tenant, e->id.str()))
            : std::string();
    updated.previous_secret_expires_at =
        grace > 0 ? std::optional<TimePoint>(now + std::chrono::seconds(grace)) : std::nullopt;
    updated.secret_sealed =
        (*key)->Seal(secret, delivery::place::EndpointSecret(tenant, e->id.str()));
    updated.updated_at = now;
    auto audit = Audit(app_, *who, "endpoint.rotate_secret", tenant, e->id.str());
    store::Store::WriteFn update_endpoint = [updated, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.UpdateEndpoint(updated));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(update_endpoint));
    if (!s.ok()) co_return http::ErrorResponse(s);
    json::object out = EndpointJson(updated, now);
    out["secret"] = secret;
    co_return Json(200, out);
  }

  awaitable<Response> DeleteEndpoint(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = EndpointId::Parse(q.path_params.at("endpoint"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("endpoint not found"));
    auto audit = Audit(app_, *who, "endpoint.delete", tenant, id->str());
    store::Store::WriteFn delete_endpoint = [tenant, id = *id, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.DeleteEndpoint(tenant, id));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(delete_endpoint));
    if (!s.ok()) co_return http::ErrorResponse(s);
    co_return Response{.status = 204, .content_type = "", .headers = {}, .body = ""};
  }

  awaitable<Response> CreateConnection(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto kind = StringField(*body, "kind", 32, true);
    if (!kind.ok()) co_return http::ErrorResponse(kind.status());
    channels::ChannelAdapter* adapter = app_.registry->Find(*kind);
    if (!adapter) {
      co_return http::ErrorResponse(InvalidArgument("kind: unknown channel kind"));
    }
    auto name = StringField(*body, "name", kMaxNameBytes, false);
    if (!name.ok()) co_return http::ErrorResponse(name.status());
    auto settings = ObjectField(*body, "settings");
    if (!settings.ok()) co_return http::ErrorResponse(settings.status());
    auto credentials = ObjectField(*body, "credentials");
    if (!credentials.ok()) co_return http::ErrorResponse(credentials.status());
    auto shown = adapter->PrepareConnection(*settings, *credentials);
    if (!shown.ok()) co_return http::ErrorResponse(shown.status());
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    store::ConnectionRecord c;
    c.id = ConnectionId::New(*app_.clock);
    c.tenant = tenant;
    c.kind = *kind;
    c.name = *name;
    c.settings_json = json::serialize(*settings);
    c.credentials_sealed = (*key)->Seal(json::serialize(*credentials),
                                        delivery::place::ConnectionCredentials(tenant, c.id.str()));
    // The provider identity it serves (phone number id, page id, number, bot), sealed, and
    // its routing index: a webhook that carries items for several identities of one provider
    // app is routed by it (api/webhooks_api.cc). One identity, one connection.
    std::string identity = adapter->ClientIdentity(
        channels::ConnectionContext{tenant, c.id, c.kind, *settings, {}, {}});
    if (!identity.empty()) {
      c.identity_sealed =
          (*key)->Seal(identity, delivery::place::ConnectionIdentity(tenant, c.id.str()));
      c.identity_index = app_.keys->ring().master_key().RoutingIndex(
          delivery::IdentityRoutingDomain(c.kind), identity);
    }
    c.created_at = app_.clock->Now();
    auto audit = Audit(app_, *who, "connection.create", tenant, c.id.str());
    store::Store::WriteFn insert_connection = [c, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.InsertConnection(c));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(insert_connection));
    if (s.code() == StatusCode::kAlreadyExists && !identity.empty()) {
      co_return http::ErrorResponse(
          AlreadyExists("settings: another connection already serves this provider identity"));
    }
    if (!s.ok()) co_return http::ErrorResponse(s);
    json::object out = ConnectionJson(c);
    for (const auto& [k, v] : *shown) out[k] = v;
    co_return Json(201, out);
  }

  awaitable<Response> ListConnections(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    std::function<Result<std::vector<store::ConnectionRecord>>(store::Reader&)> list_connections =
        [tenant](store::Reader& r) { return r.ListConnections(tenant); };
    auto list = co_await store::Read<std::vector<store::ConnectionRecord>>(
        *app_.store, std::move(list_connections));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& c : *list) items.push_back(ConnectionJson(c));
    co_return Json(200, json::object{{"data", std::move(items)}, {"next_cursor", nullptr}});
  }

  awaitable<Response> GetConnection(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = ConnectionId::Parse(q.path_params.at("connection"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("connection not found"));
    std::function<Result<store::ConnectionRecord>(store::Reader&)> get_connection =
        [tenant, id = *id](store::Reader& r) { return r.GetConnection(tenant, id); };
    auto c = co_await store::Read<store::ConnectionRecord>(*app_.store, std::move(get_connection));
    if (!c.ok()) co_return http::ErrorResponse(c.status());
    co_return Json(200, ConnectionJson(*c));
  }

  awaitable<Response> DeleteConnection(Request q) {
    TenantId tenant;
    auto who = co_await ForTenant(q, &tenant);
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = ConnectionId::Parse(q.path_params.at("connection"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("connection not found"));
    auto audit = Audit(app_, *who, "connection.delete", tenant, id->str());
    store::Store::WriteFn delete_connection = [tenant, id = *id, audit](store::Writer& w) {
      PARLEY_RETURN_IF_ERROR(w.DeleteConnection(tenant, id));
      return w.InsertAudit(audit);
    };
    Status s = co_await store::Write(*app_.store, std::move(delete_connection));
    if (!s.ok()) co_return http::ErrorResponse(s);
    app_.connections->Forget(*id);
    co_return Response{.status = 204, .content_type = "", .headers = {}, .body = ""};
  }

  App& app_;
  Auth& auth_;
};

}  // namespace

void RegisterAdminApi(http::Router& router, App& app, Auth& auth) {
  // The route table lives as long as the process: leaking one small object is deliberate.
  static AdminApi* api = nullptr;
  api = new AdminApi(app, auth);
  api->Register(router);
}

}  // namespace parley::api

#include "api/webhook_retries.h"

#include <boost/json.hpp>

#include "core/message_json.h"
#include "crypto/aead.h"
#include "crypto/encoding.h"

namespace parley::api {

namespace json = boost::json;

namespace {

crypto::SealPlace Place(const TenantId& tenant, const ConnectionId& connection) {
  return {tenant.str(), "inbound_retries", "request", connection.str()};
}

// Every string is kept as Base64: header values and bodies need not be UTF-8.
json::string B64(std::string_view s) { return json::string(crypto::Base64Encode(s)); }

Result<std::string> Unb64(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return InvalidArgument("kept webhook call: no " + std::string(key));
  return crypto::Base64Decode(v->get_string());
}

json::array Pairs(const auto& pairs) {
  json::array out;
  for (const auto& [name, value] : pairs) out.push_back(json::array{B64(name), B64(value)});
  return out;
}

Status ReadPairs(const json::object& o, std::string_view key, auto add) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return InvalidArgument("kept webhook call: no " + std::string(key));
  for (const json::value& pair : v->get_array()) {
    const json::array* a = pair.if_array();
    if (!a || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_string()) {
      return InvalidArgument("kept webhook call: bad " + std::string(key));
    }
    PARLEY_ASSIGN_OR_RETURN(std::string name, crypto::Base64Decode((*a)[0].get_string()));
    PARLEY_ASSIGN_OR_RETURN(std::string value, crypto::Base64Decode((*a)[1].get_string()));
    add(std::move(name), std::move(value));
  }
  return OkStatus();
}

}  // namespace

std::string SealWebhookCall(const crypto::DataKey& key, const TenantId& tenant,
                            const ConnectionId& connection, const http::Request& request) {
  json::object o{
      {"method", B64(request.method)},        {"path", B64(request.path)},
      {"target", B64(request.target)},        {"route", B64(request.route)},
      {"query", Pairs(request.query)},        {"path_params", Pairs(request.path_params)},
      {"headers", Pairs(request.headers)},    {"body", B64(request.body)},
      {"request_id", B64(request.request_id)}};
  return key.Seal(json::serialize(o), Place(tenant, connection));
}

Result<http::Request> OpenWebhookCall(const crypto::DataKey& key, const TenantId& tenant,
                                      const ConnectionId& connection, std::string_view sealed) {
  PARLEY_ASSIGN_OR_RETURN(std::string plain, key.Open(sealed, Place(tenant, connection)));
  // The body is at most the server's body limit; Base64 and the envelope add a third.
  PARLEY_ASSIGN_OR_RETURN(json::value doc, ParseBoundedJson(plain, plain.size() + 1));
  const json::object* o = doc.if_object();
  if (!o) return InvalidArgument("kept webhook call: not an object");
  http::Request q;
  PARLEY_ASSIGN_OR_RETURN(q.method, Unb64(*o, "method"));
  PARLEY_ASSIGN_OR_RETURN(q.path, Unb64(*o, "path"));
  PARLEY_ASSIGN_OR_RETURN(q.target, Unb64(*o, "target"));
  PARLEY_ASSIGN_OR_RETURN(q.route, Unb64(*o, "route"));
  PARLEY_ASSIGN_OR_RETURN(q.body, Unb64(*o, "body"));
  PARLEY_ASSIGN_OR_RETURN(q.request_id, Unb64(*o, "request_id"));
  PARLEY_RETURN_IF_ERROR(ReadPairs(*o, "query", [&q](std::string n, std::string v) {
    q.query.emplace(std::move(n), std::move(v));
  }));
  PARLEY_RETURN_IF_ERROR(ReadPairs(*o, "path_params", [&q](std::string n, std::string v) {
    q.path_params.emplace(std::move(n), std::move(v));
  }));
  PARLEY_RETURN_IF_ERROR(ReadPairs(*o, "headers", [&q](std::string n, std::string v) {
    q.headers.emplace_back(std::move(n), std::move(v));
  }));
  return q;
}

std::chrono::milliseconds WebhookRetryDelay(int tries, std::chrono::milliseconds initial,
                                            std::chrono::milliseconds max) {
  std::chrono::milliseconds delay = initial;
  for (int i = 1; i < tries && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

}  // namespace parley::api

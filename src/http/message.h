// src/http/message.h
//
// The light request/response types that handlers see, and the JSON error shape every
// Parley endpoint answers with. No Beast here: the API layer includes this cheaply.
//
//   co_return ErrorResponse(NotFound("conversation not found"));
//   // -> 404 {"error":{"code":"not_found","message":"conversation not found"}}
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace parley::http {

// One parsed HTTP request, as handed to a route handler. Plain value type.
struct Request {
  std::string method;  // "GET", "POST", …
  std::string path;    // percent-decoded path without the query
  std::string target;  // the request target exactly as received ("/a%20b?x=1"), for signatures
  std::string route;   // matched pattern, e.g. "/v1/conversations/{id}" (for logs/metrics)
  std::map<std::string, std::string> query;                  // decoded; first value wins; bounded
  std::map<std::string, std::string> path_params;            // from the router
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_ip;
  std::string request_id;

  // The first header named `lower_name` (which must be lower case), if any.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

// A response produced by a handler. The server adds Content-Length, X-Request-Id and, for
// JSON, Cache-Control: no-store.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A streamed body instead of `body`: exactly `stream_length` bytes, produced chunk by chunk
  // (an empty chunk ends it). An error or a wrong total after the header was sent aborts
  // the connection, so a client never takes a partial body for a whole one.
  std::function<boost::asio::awaitable<Result<std::string>>()> stream{};
  uint64_t stream_length = 0;
};

// A JSON response with `json_body` taken as already-serialized JSON.
Response JsonResponse(int status, std::string json_body);

// The HTTP status for a Status code: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists 409, FailedPrecondition 409,
// ResourceExhausted 429, Unavailable 503, DeadlineExceeded 504, Internal (and kOk,
// which is a caller bug) 500.
int HttpStatusFor(StatusCode code);

// {"error":{"code":"not_found","message":"…"}} with code = lower-cased StatusCodeName.
// kResourceExhausted/kUnavailable with retry_after() > 0 add `Retry-After: <seconds>`
// (rounded up).
Response ErrorResponse(const Status& status);
Response ErrorResponse(int http_status, std::string_view code, std::string_view message);

}  // namespace parley::http

// src/http/message.cc
#include "http/message.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <string>

namespace parley::http {

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

Response JsonResponse(int status, std::string json_body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(json_body);
  return response;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kOk:
      return 500;  // an ok Status is not an error: caller bug
  }
  return 500;
}

Response ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object root;
  root["error"] = std::move(error);
  return JsonResponse(http_status, boost::json::serialize(root));
}

Response ErrorResponse(const Status& status) {
  std::string code(StatusCodeName(status.code()));
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Response response = ErrorResponse(HttpStatusFor(status.code()), code, status.message());
  const auto retry_after = status.retry_after();
  if (retry_after.count() > 0 && (status.code() == StatusCode::kResourceExhausted ||
                                  status.code() == StatusCode::kUnavailable)) {
    // Retry-After is whole seconds; round up so clients never retry early.
    const auto seconds = (retry_after.count() + 999) / 1000;
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return response;
}

}  // namespace parley::http

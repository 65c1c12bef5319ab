#include "api/json_util.h"

#include <fmt/format.h>

#include <charconv>

#include "core/message_json.h"

namespace parley::api {

namespace json = boost::json;

Result<json::object> BodyObject(const http::Request& request) {
  if (request.body.empty()) return json::object();
  PARLEY_ASSIGN_OR_RETURN(json::value v, ParseBoundedJson(request.body));
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  return std::move(v.get_object());
}

Result<std::string> StringField(const json::object& obj, std::string_view key, size_t max,
                                bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    if (required) return InvalidArgument(fmt::format("{}: required", key));
    return std::string();
  }
  if (!it->value().is_string()) return InvalidArgument(fmt::format("{}: must be a string", key));
  std::string_view s = it->value().get_string();
  if (required && s.empty()) return InvalidArgument(fmt::format("{}: must not be empty", key));
  if (s.size() > max) return InvalidArgument(fmt::format("{}: longer than {} bytes", key, max));
  return std::string(s);
}

Result<json::object> ObjectField(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return json::object();
  if (!it->value().is_object()) return InvalidArgument(fmt::format("{}: must be an object", key));
  return it->value().get_object();
}

Result<store::Page> PageFromQuery(const http::Request& request) {
  store::Page page;
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    int limit = 0;
    auto [ptr, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || limit < 1 ||
        limit > 500) {
      return InvalidArgument("limit: must be an integer from 1 to 500");
    }
    page.limit = limit;
  }
  if (auto it = request.query.find("after"); it != request.query.end()) {
    if (it->second.size() > 64) return InvalidArgument("after: malformed cursor");
    page.after = it->second;
  }
  return page;
}

http::Response ListResponse(json::array items, const store::Page& page, std::string last_id) {
  json::object out;
  bool full = static_cast<int>(items.size()) >= page.limit;
  out["data"] = std::move(items);
  out["next_cursor"] = full && !last_id.empty() ? json::value(last_id) : json::value(nullptr);
  return Json(200, out);
}

http::Response Json(int status, const json::value& value) {
  return http::JsonResponse(status, json::serialize(value));
}

// Upload failures and their HTTP answers.
http::Response UploadError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kResourceExhausted:
      return http::ErrorResponse(413, "payload_too_large", s.message());
    case StatusCode::kInvalidArgument:
      return http::ErrorResponse(415, "unsupported_media_type", s.message());
    case StatusCode::kFailedPrecondition:
      return http::ErrorResponse(422, "attachment_rejected", s.message());
    case StatusCode::kDeadlineExceeded:
      return http::ErrorResponse(408, "request_timeout", s.message());
    default:
      return http::ErrorResponse(s);
  }
}

json::object AttachmentJson(const delivery::StoredAttachment& a) {
  return json::object{{"id", a.record.id.str()},
                      {"mime_type", a.record.mime_type},
                      {"size_bytes", a.record.size_bytes},
                      {"filename", a.filename},
                      {"sha256", a.sha256},
                      {"url", a.url},
                      {"url_expires_at", FormatRfc3339(a.url_expires_at)},
                      {"created_at", FormatRfc3339(a.record.created_at)},
                      {"expires_at", FormatRfc3339(a.record.expires_at)}};
}

boost::asio::awaitable<UploadOutcome> StreamUpload(delivery::Attachments& attachments,
                                                   delivery::UploadRequest up,
                                                   http::BodyReader& body) {
  bool body_failed = false;
  up.next = [&body, &body_failed]() -> boost::asio::awaitable<Result<std::string>> {
    auto chunk = co_await body.Next();
    if (!chunk.ok()) body_failed = true;
    co_return chunk;
  };
  auto stored = co_await attachments.Upload(std::move(up));
  if (stored.ok()) co_return UploadOutcome{OkStatus(), Json(201, AttachmentJson(*stored))};
  const Status& s = stored.status();
  // A body that broke off mid-way is the client's fault, not the file's type.
  if (body_failed && s.code() == StatusCode::kInvalidArgument) {
    co_return UploadOutcome{s, http::ErrorResponse(400, "bad_request", s.message())};
  }
  co_return UploadOutcome{s, UploadError(s)};
}

}  // namespace parley::api

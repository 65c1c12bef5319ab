// src/api/json_util.h
//
// Small helpers the handlers share: reading JSON bodies and fields with path-style errors,
// paging parameters, and list envelopes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "delivery/attachments.h"
#include "http/message.h"
#include "http/router.h"
#include "store/store.h"

namespace parley::api {

// Parses a request body that must be a JSON object (an empty body counts as {}).
Result<boost::json::object> BodyObject(const http::Request& request);

// A string field: kInvalidArgument "<key>: …" when required and missing, not a string,
// empty when required, or longer than `max`.
Result<std::string> StringField(const boost::json::object& obj, std::string_view key, size_t max,
                                bool required);
// An object field (absent -> empty object).
Result<boost::json::object> ObjectField(const boost::json::object& obj, std::string_view key);

// ?limit=1..500 (default 50) & ?after=<cursor>.
Result<store::Page> PageFromQuery(const http::Request& request);

// {"data":[…],"next_cursor":…}: the cursor is the last item's id when the page is full.
http::Response ListResponse(boost::json::array items, const store::Page& page, std::string last_id);

inline boost::json::value TimeJson(TimePoint t) { return boost::json::value(FormatRfc3339(t)); }
inline boost::json::value OptionalTimeJson(const std::optional<TimePoint>& t) {
  return t ? TimeJson(*t) : boost::json::value(nullptr);
}

http::Response Json(int status, const boost::json::value& value);

// An attachment upload's failure as its HTTP answer (413, 415, 422, 408, …).
http::Response UploadError(const Status& s);
// A stored attachment as the upload routes answer it.
boost::json::object AttachmentJson(const delivery::StoredAttachment& a);

// Streams `body` into attachment storage as `up` describes (its `next` is set here). On
// refusal, `status` says why and `response` is the HTTP answer; on success, `response` is the
// 201 with the attachment.
struct UploadOutcome {
  Status status;
  http::Response response;
};
boost::asio::awaitable<UploadOutcome> StreamUpload(delivery::Attachments& attachments,
                                                   delivery::UploadRequest up,
                                                   http::BodyReader& body);

}  // namespace parley::api

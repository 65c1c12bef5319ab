// src/http/response_head.h — internal to src/http.
//
// The status line and header of a response, rendered into one string: the server writes it
// and the body as two buffers with one send, instead of walking Beast's serializer over a
// dozen small buffers per header (that walk was about a tenth of the CPU of a small request).
//
//   std::string head = RenderResponseHead(response, 11, true, "req_1", response.body.size());
//   // "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n…Content-Length: 2\r\n\r\n"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"

namespace parley::http::internal {

// Header names and values a handler supplies must not smuggle CR/LF into the response.
bool IsSafeHeaderText(std::string_view text);

// Whether a response with this status carries no body and no Content-Length (1xx, 204, 304).
bool StatusForbidsBody(int status);

// The status a handler's answer goes out with: 200..599 as given, anything else as 500.
int SentStatus(int status);

// Renders the head of `response` (its status through SentStatus) for a
// request of `version` (10 for HTTP/1.0 and below, 11 for HTTP/1.1). The handler's headers
// come first, values trimmed of blanks, a later one replacing an earlier one of the same
// name; headers with CR or LF, and the ones the server owns
// (Content-Length, Transfer-Encoding, Connection), are left out. Then Content-Type (when not
// empty), Cache-Control: no-store for JSON, X-Request-Id, Connection as keep_alive needs,
// and Content-Length: content_length unless the status forbids a body.
std::string RenderResponseHead(const Response& response, unsigned version, bool keep_alive,
                               std::string_view request_id, uint64_t content_length);

}  // namespace parley::http::internal

// src/http/response_head.cc
#include "http/response_head.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <vector>

namespace parley::http::internal {
namespace {

bool ServerOwned(std::string_view name) {
  return boost::beast::iequals(name, "content-length") ||
         boost::beast::iequals(name, "transfer-encoding") ||
         boost::beast::iequals(name, "connection");
}

// Leading and trailing spaces and tabs are not part of a field value (RFC 9110 §5.5).
std::string_view TrimBlanks(std::string_view v) {
  const size_t first = v.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return v.substr(first, v.find_last_not_of(" \t") - first + 1);
}

using Field = std::pair<std::string_view, std::string_view>;

// Replaces the value of a field of the same name, or adds one.
void Set(std::vector<Field>& fields, std::string_view name, std::string_view value) {
  for (Field& f : fields) {
    if (boost::beast::iequals(f.first, name)) {
      f = {name, value};
      return;
    }
  }
  fields.emplace_back(name, value);
}

}  // namespace

bool IsSafeHeaderText(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

bool StatusForbidsBody(int status) { return status < 200 || status == 204 || status == 304; }

int SentStatus(int status) { return status < 200 || status > 599 ? 500 : status; }

std::string RenderResponseHead(const Response& response, unsigned version, bool keep_alive,
                               std::string_view request_id, uint64_t content_length) {
  const int status = SentStatus(response.status);
  std::vector<Field> fields;
  fields.reserve(response.headers.size() + 4);
  for (const auto& [name, value] : response.headers) {
    if (!name.empty() && IsSafeHeaderText(name) && IsSafeHeaderText(value) && !ServerOwned(name))
      Set(fields, name, TrimBlanks(value));
  }
  const std::string_view content_type = IsSafeHeaderText(response.content_type)
                                            ? std::string_view(response.content_type)
                                            : std::string_view("application/octet-stream");
  if (!content_type.empty()) Set(fields, "Content-Type", content_type);
  if (content_type.starts_with("application/json")) Set(fields, "Cache-Control", "no-store");
  if (IsSafeHeaderText(request_id)) Set(fields, "X-Request-Id", request_id);

  const auto reason = boost::beast::http::obsolete_reason(
      static_cast<boost::beast::http::status>(static_cast<unsigned>(status)));
  std::string head;
  size_t size = 64;
  for (const Field& f : fields) size += f.first.size() + f.second.size() + 4;
  head.reserve(size);
  const bool http10 = version < 11;
  head += http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += fmt::format_int(status).c_str();
  head += ' ';
  head.append(reason.data(), reason.size());
  head += "\r\n";
  for (const Field& f : fields) {
    head += f.first;
    head += ": ";
    head += f.second;
    head += "\r\n";
  }
  // HTTP/1.1 stays open unless told; HTTP/1.0 closes unless told.
  if (http10 && keep_alive) head += "Connection: keep-alive\r\n";
  if (!http10 && !keep_alive) head += "Connection: close\r\n";
  if (!StatusForbidsBody(status)) {
    head += "Content-Length: ";
    head += fmt::format_int(content_length).c_str();
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace parley::http::internal

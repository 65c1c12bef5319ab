// src/http/target.cc
#include "http/target.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace parley::http {

namespace {

// RFC 3986 pchar without pct-encoded: unreserved, sub-delims, ':' and '@'.
bool IsPlainPathChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 &&
         std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

// Most targets are a plain path: no query, nothing percent-encoded, no empty or dot
// segment. Those need no decoding, and their segments are the text between the slashes,
// exactly as Boost.URL gives them (target_test.cc compares both on such targets).
std::optional<ParsedTarget> ParsePlainPath(std::string_view target) {
  if (target.size() < 2 || target[0] != '/' || target.back() == '/') return std::nullopt;
  ParsedTarget out;
  size_t start = 1;
  for (size_t i = 1; i <= target.size(); ++i) {
    if (i < target.size() && target[i] != '/') {
      if (!IsPlainPathChar(static_cast<unsigned char>(target[i]))) return std::nullopt;
      continue;
    }
    if (i == start) return std::nullopt;  // an empty segment ("//")
    std::string_view segment = target.substr(start, i - start);
    if (segment == "." || segment == "..") return std::nullopt;  // Boost.URL treats some apart
    if (out.segments.size() == kMaxPathSegments) return std::nullopt;  // the full parse says why
    out.segments.emplace_back(segment);
    start = i + 1;
  }
  out.path = target;
  return out;
}

Result<ParsedTarget> ParseTarget(std::string_view target) {
  if (auto plain = ParsePlainPath(target)) return std::move(*plain);
  return ParseTargetInFull(target);
}

Result<ParsedTarget> ParseTargetInFull(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return InvalidArgument("malformed request target");
  const boost::urls::url_view& url = *parsed;

  ParsedTarget out;
  out.path = url.path();
  if (out.path.find('\0') != std::string::npos) return InvalidArgument("NUL in path");
  const auto segments = url.segments();
  if (segments.size() > kMaxPathSegments) return InvalidArgument("too many path segments");
  for (const auto segment : segments) out.segments.emplace_back(segment);
  // "/" parses as one empty segment; the Router wants no segments for the root.
  if (out.segments.size() == 1 && out.segments[0].empty()) out.segments.clear();

  const auto params = url.params();
  if (params.size() > kMaxQueryParams) return InvalidArgument("too many query parameters");
  for (const auto param : params) {
    out.query.emplace(param.key, param.value);  // emplace keeps the first value
  }
  return out;
}

}  // namespace parley::http

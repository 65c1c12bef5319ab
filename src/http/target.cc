// src/http/target.cc
#include "http/target.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace parley::http {

Result<ParsedTarget> ParseTarget(std::string_view target) {
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

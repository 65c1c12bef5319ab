// src/http/target.h
//
// Parses an HTTP request target in origin form ("/v1/x%20y?a=b") into a decoded path,
// its segments for the Router, and a bounded, decoded query map.
//
//   PARLEY_ASSIGN_OR_RETURN(ParsedTarget t, ParseTarget("/v1/items/a%2Fb?limit=5"));
//   // t.segments == {"v1", "items", "a/b"}, t.query["limit"] == "5"
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace parley::http {

inline constexpr size_t kMaxPathSegments = 32;
inline constexpr size_t kMaxQueryParams = 64;

struct ParsedTarget {
  std::string path;                          // percent-decoded, without the query
  std::vector<std::string> segments;         // each decoded on its own, so "%2F" stays inside one
  std::map<std::string, std::string> query;  // decoded; the first of repeated keys wins
};

// Errors: kInvalidArgument (not origin form, bad percent-encoding, a NUL byte, more than
// kMaxPathSegments segments or kMaxQueryParams query parameters).
// Thread safety: pure function.
Result<ParsedTarget> ParseTarget(std::string_view target);

// The two ways ParseTarget takes, for tests: a plain path ("/v1/a/b": no '%', no '?', no
// empty segment) split at its slashes, or std::nullopt; and the full parse (Boost.URL).
std::optional<ParsedTarget> ParsePlainPath(std::string_view target);
Result<ParsedTarget> ParseTargetInFull(std::string_view target);

}  // namespace parley::http

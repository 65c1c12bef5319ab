// src/crypto/jwt.cc
//
// VerifyHs256Jwt: syntax and size first, then the header, then the signature; the payload
// is decoded and parsed only once the signature has matched.
#include "crypto/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {
namespace {

namespace json = boost::json;

// Every message is a fixed string: tokens may be replayed from logs, and claim values are
// the business's customer data.
constexpr std::string_view kPrefix = "private data token: ";

Status Invalid(std::string_view what) {
  std::string message(kPrefix);
  message += what;
  return InvalidArgument(std::move(message));
}

Status Rejected(std::string_view what) {
  std::string message(kPrefix);
  message += what;
  return Unauthenticated(std::move(message));
}

Status Malformed(std::string_view why) {
  std::string message = "malformed: ";
  message += why;
  return Invalid(message);
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

struct Segments {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "<header>.<payload>", exactly as sent
};

Result<Segments> Split(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return Malformed("expected three segments");
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return Malformed("expected three segments");
  if (token.find('.', second + 1) != std::string_view::npos) {
    return Malformed("expected three segments");
  }
  Segments s{.header = token.substr(0, first),
             .payload = token.substr(first + 1, second - first - 1),
             .signature = token.substr(second + 1),
             .signing_input = token.substr(0, second)};
  for (std::string_view segment : {s.header, s.payload, s.signature}) {
    if (segment.empty()) return Malformed("empty segment");
    for (char c : segment) {
      // '=' is refused too: JWS segments are unpadded (RFC 7515 §2).
      if (!IsBase64UrlChar(c)) return Malformed("segment is not base64url");
    }
  }
  return s;
}

// The alphabet was checked by Split; this still refuses impossible lengths and non-zero
// trailing bits, so each segment has one accepted spelling.
Result<std::string> DecodeSegment(std::string_view segment) {
  Result<std::string> bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) return Malformed("segment is not canonical base64url");
  return std::move(*bytes);
}

// Boost.JSON parses 1e400 as infinity, which it would later write out as invalid JSON.
bool AllNumbersFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& e : v.get_array()) {
        if (!AllNumbersFinite(e)) return false;
      }
      return true;
    case json::kind::object:
      for (const json::key_value_pair& e : v.get_object()) {
        if (!AllNumbersFinite(e.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

// Default parse options: strict JSON, valid UTF-8, nesting at most 32 deep (which also
// bounds AllNumbersFinite's recursion).
Result<json::object> ParseObject(std::string_view bytes, bool is_header) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(bytes.data(), bytes.size()), ec);
  if (ec) return Malformed(is_header ? "header is not JSON" : "payload is not JSON");
  if (!v.is_object()) {
    return Malformed(is_header ? "header is not a JSON object" : "payload is not a JSON object");
  }
  if (!AllNumbersFinite(v)) return Malformed("number out of range");
  return std::move(v.get_object());
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

Status CheckHeader(const json::object& header) {
  // Only the exact spelling: "none", "hs256" or another family must never pick a verifier.
  const json::value* alg = header.if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") {
    return Invalid("unsupported alg (only HS256)");
  }
  // crit names extensions the verifier must understand (RFC 7515 §4.1.11); none are.
  if (header.contains("crit")) return Invalid("unsupported crit header");
  if (const json::value* typ = header.if_contains("typ"); typ != nullptr) {
    if (!typ->is_string()) return Invalid("unsupported typ (only JWT)");
    const json::string& text = typ->get_string();
    if (!EqualsIgnoringAsciiCase(std::string_view(text.data(), text.size()), "JWT")) {
      return Invalid("unsupported typ (only JWT)");
    }
  }
  return OkStatus();
}

// A NumericDate claim (RFC 7519 §2): seconds since the epoch, integer or fractional.
// Doubles hold today's seconds exactly, and comparing in double avoids the overflow of
// converting an arbitrary JSON number to an integer.
Result<std::optional<double>> ReadNumericDate(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) {
    std::string why(name);
    why += " is not a number";
    return Malformed(why);
  }
  return std::optional<double>(v->to_number<double>());
}

Status CheckTimes(const json::object& claims, TimePoint now, const JwtOptions& options) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<double> exp, ReadNumericDate(claims, "exp"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<double> nbf, ReadNumericDate(claims, "nbf"));
  PARLEY_ASSIGN_OR_RETURN(std::optional<double> iat, ReadNumericDate(claims, "iat"));

  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const auto leeway = static_cast<double>(options.leeway.count());
  const auto max_lifetime = static_cast<double>(options.max_lifetime.count());

  if (!exp.has_value() && options.require_exp) return Rejected("no exp claim");
  if (exp.has_value() && !(*exp > now_s - leeway)) return Rejected("expired");
  if (nbf.has_value() && !(*nbf <= now_s + leeway)) return Rejected("not yet valid (nbf)");
  if (iat.has_value() && !(*iat <= now_s + leeway)) return Rejected("issued in the future (iat)");
  // A token valid for days is as good as a password if it leaks from the page.
  if (exp.has_value() && *exp - iat.value_or(now_s) > max_lifetime) {
    return Rejected("lifetime too long");
  }
  return OkStatus();
}

}  // namespace

Result<VerifiedJwt> VerifyHs256Jwt(std::string_view token, std::string_view secret, TimePoint now,
                                   const JwtOptions& options) {
  PARLEY_CHECK(options.leeway.count() >= 0);
  PARLEY_CHECK(options.max_lifetime.count() >= 0);
  if (secret.empty()) return Invalid("no secret configured");
  if (token.size() > options.max_token_bytes) return Invalid("too large");
  PARLEY_ASSIGN_OR_RETURN(Segments segments, Split(token));

  PARLEY_ASSIGN_OR_RETURN(std::string header_bytes, DecodeSegment(segments.header));
  PARLEY_ASSIGN_OR_RETURN(json::object header, ParseObject(header_bytes, /*is_header=*/true));
  PARLEY_RETURN_IF_ERROR(CheckHeader(header));

  PARLEY_ASSIGN_OR_RETURN(std::string signature, DecodeSegment(segments.signature));
  if (signature.size() != kSha256Size) return Malformed("signature is not 32 bytes");
  if (!ConstantTimeEqual(HmacSha256(secret, segments.signing_input), signature)) {
    return Rejected("bad signature");
  }

  // From here on the bytes are the business's own: signed under its secret.
  PARLEY_ASSIGN_OR_RETURN(std::string payload_bytes, DecodeSegment(segments.payload));
  PARLEY_ASSIGN_OR_RETURN(json::object claims, ParseObject(payload_bytes, /*is_header=*/false));
  PARLEY_RETURN_IF_ERROR(CheckTimes(claims, now, options));
  return VerifiedJwt{.claims = std::move(claims)};
}

std::string SignHs256Jwt(const boost::json::object& claims, std::string_view secret) {
  std::string signing_input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                              Base64UrlEncode(boost::json::serialize(claims));
  return signing_input + "." + Base64UrlEncode(HmacSha256(secret, signing_input));
}

}  // namespace parley::crypto

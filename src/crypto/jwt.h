// src/crypto/jwt.h
//
// A strict verifier for HS256 JWTs (RFC 7519, compact JWS of RFC 7515) carrying "customer
// private data": a business's web page hands the chat widget claims (authentication
// status, user id, …) signed by the business's server under a per-connection secret, and
// Parley passes the verified claims on to the business's client application.
//
//   PARLEY_ASSIGN_OR_RETURN(VerifiedJwt jwt,
//                           VerifyHs256Jwt(token, connection_secret, clock.Now()));
//   const boost::json::value* user_id = jwt.claims.if_contains("user_id");
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace parley::crypto {

struct JwtOptions {
  // Clock skew allowed between the business's server and Parley, for exp, nbf and iat.
  std::chrono::seconds leeway{60};
  // Longest accepted lifetime: exp - iat, or exp - now when the token has no iat.
  std::chrono::seconds max_lifetime{86400};
  // Longer tokens are rejected before anything is decoded.
  size_t max_token_bytes = 8192;
  // When false, a token without exp is accepted and never expires (nor is its lifetime
  // bounded); nbf and iat are still checked when present.
  bool require_exp = true;
};

struct VerifiedJwt {
  // The payload, as signed. Every number in it is finite, so it re-serializes as JSON.
  boost::json::object claims;
};

// Verifies a compact JWS `<header>.<payload>.<signature>` signed with HMAC-SHA256 under
// `secret`, and checks its time claims against `now`. Accepts only:
//   - at most options.max_token_bytes bytes; exactly three non-empty segments of the
//     base64url alphabet, unpadded and canonical (no '=', whitespace or stray bits);
//   - a header that is a JSON object with "alg" exactly "HS256", no "crit", and "typ", when
//     present, equal to "JWT" in any case; other header parameters ("kid", …) are ignored;
//   - a signature of 32 bytes equal (constant-time compare) to HMAC-SHA256(secret,
//     "<header>.<payload>"), checked before the payload is decoded or parsed;
//   - a payload that is a JSON object without non-finite numbers (e.g. 1e400), whose exp,
//     nbf and iat, when present, are JSON numbers (integer or fractional seconds), with
//       exp > now - leeway, nbf <= now + leeway, iat <= now + leeway,
//       exp - (iat, or now without iat) <= max_lifetime,
//     and exp present unless options.require_exp is false.
// Duplicate member names in the header or payload are not rejected: the last one wins
// (Boost.JSON 1.81 has no option to refuse them; RFC 7515 §5.2 allows either). The claims
// returned are the parsed object, so later readers see exactly the values checked here.
//
// Errors (messages start "private data token: " and are fixed strings: they never contain
// the token, the secret or a claim value):
//   kInvalidArgument: empty secret ("no secret configured"); too large; malformed
//     (segments, base64url, JSON, non-object header or payload, non-numeric exp/nbf/iat,
//     non-finite number); unsupported alg (anything but HS256, including "none"); crit
//     header present; unsupported typ.
//   kUnauthenticated: bad signature (including a wrong secret or a tampered token);
//     expired; not yet valid (nbf); issued in the future (iat); lifetime too long; no exp.
// Preconditions (PARLEY_CHECK): options.leeway >= 0, options.max_lifetime >= 0.
// Thread safety: may be called concurrently.
Result<VerifiedJwt> VerifyHs256Jwt(std::string_view token, std::string_view secret, TimePoint now,
                                   const JwtOptions& options = {});

// Signs `claims` as a compact HS256 JWS (the business's side of private data; Parley uses it
// for its demo page and tests).
std::string SignHs256Jwt(const boost::json::object& claims, std::string_view secret);

}  // namespace parley::crypto

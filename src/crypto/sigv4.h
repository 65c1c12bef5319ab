// src/crypto/sigv4.h
//
// AWS Signature Version 4 for S3: presigned URLs (query-string auth) and the Authorization
// header for requests Parley's HTTP client sends. The request target is given as unencoded
// components; the signer percent-encodes it once (S3 never double-encodes) and returns the
// exact URL to request, so what is sent is always what was signed.
//
//   PARLEY_CO_ASSIGN_OR_RETURN(SigV4Url url, ParseSigV4Url("http://127.0.0.1:4569/b/k.txt"));
//   PARLEY_CO_ASSIGN_OR_RETURN(
//       SigV4SignedRequest s,
//       SigV4SignHeaders(creds, {"us-east-1", "s3"},
//                        {.method = "GET", .url = url,
//                         .payload_hash = std::string(kUnsignedPayload)},
//                        clock.Now()));
//   auto response = co_await client.Send({.method = "GET", .url = s.url, .headers = s.headers});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace parley::crypto {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
// The payload hash of presigned URLs, and of header-signed requests whose body is not hashed.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// AWS's bounds for X-Amz-Expires (7 days at most).
inline constexpr int64_t kMinPresignExpiresSeconds = 1;
inline constexpr int64_t kMaxPresignExpiresSeconds = 604800;

// Input bounds; anything larger is rejected with kInvalidArgument.
inline constexpr size_t kMaxSigV4UrlBytes = 16 * 1024;   // ParseSigV4Url input
inline constexpr size_t kMaxSigV4PathBytes = 4096;       // unencoded path
inline constexpr size_t kMaxSigV4Fields = 64;            // query params; extra headers
inline constexpr size_t kMaxSigV4FieldBytes = 8192;      // one param key/value or header value
inline constexpr size_t kMaxSigV4CredentialBytes = 256;  // access key id, region, service
inline constexpr size_t kMaxSigV4SecretBytes = 1024;     // secret access key
inline constexpr size_t kMaxSigV4SessionTokenBytes = 8192;

// Error messages never contain the secret key, the session token or header values.
struct AwsCredentials {
  std::string access_key_id;      // required; printable ASCII without space, '/' or ','
  std::string secret_access_key;  // required
  std::string session_token{};    // temporary credentials (STS) only; empty otherwise
};

// The credential scope. Both are required, of letters, digits, '-' and '_': "us-east-1", "s3".
struct SigV4Scope {
  std::string region;
  std::string service;
};

// A request target as unencoded components.
struct SigV4Url {
  std::string scheme = "https";  // "http" or "https"
  // A DNS name or IPv4 address ([A-Za-z0-9.-]), or an IPv6 literal in brackets ("[::1]").
  std::string host{};
  // Absent, or equal to the scheme's default (80, 443): not sent in the URL or Host header.
  std::optional<uint16_t> port{};
  // Raw bytes starting with '/' (an object key may hold spaces, UTF-8, '?', '%', …).
  std::string path = "/";
  // Raw keys and values, in any order; a key may repeat. An empty value is sent as "key=".
  std::vector<std::pair<std::string, std::string>> query{};
};

// Parses "http(s)://host[:port][/path][?query]" into components, percent-decoding the path
// and each query key and value ('+' stays a literal plus; "k" without '=' has value "").
// Errors: kInvalidArgument (other scheme, no host, userinfo, bad port, fragment, malformed
//   %XX, spaces, control or non-ASCII bytes, longer than kMaxSigV4UrlBytes).
Result<SigV4Url> ParseSigV4Url(std::string_view url);

// The intermediate values of one signature, exposed for tests and debugging.
// signing_key is secret-derived: do not log it.
struct SigV4Steps {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signing_key;  // 32 raw bytes (HexEncode for text)
  std::string signature;    // 64 lowercase hex digits
};

struct SigV4PresignRequest {
  std::string method = "GET";
  SigV4Url url{};
  // kMinPresignExpiresSeconds..kMaxPresignExpiresSeconds.
  int64_t expires_seconds = 0;
};

struct SigV4PresignedUrl {
  // scheme://host[:port]/encoded-path?canonical-query&X-Amz-Signature=…
  std::string url;
  SigV4Steps steps;
};

// Presigns `request` (query-string auth, signed header `host`, payload UNSIGNED-PAYLOAD).
// The X-Amz-* parameters, and X-Amz-Security-Token when the credentials carry a session
// token, are added to the query and signed; the request's own query must not hold them.
// Errors: kInvalidArgument (empty or malformed credential, scope, method or url; expires
//   out of range; a reserved X-Amz-* query parameter; a time outside years 1970..9999).
// Thread safety: may be called concurrently.
Result<SigV4PresignedUrl> SigV4Presign(const AwsCredentials& credentials, const SigV4Scope& scope,
                                       const SigV4PresignRequest& request,
                                       std::chrono::system_clock::time_point now);

struct SigV4HeaderRequest {
  std::string method;  // "GET", "PUT", "DELETE", "HEAD", …
  SigV4Url url{};
  // Further headers to sign, as they will be sent (e.g. {"Range", "bytes=0-9"},
  // {"Content-Type", …}). Names are case-insensitive and must be distinct; host,
  // authorization and x-amz-{date,content-sha256,security-token} are set by the signer.
  std::vector<std::pair<std::string, std::string>> headers{};
  // Lowercase hex SHA-256 of the body (HexEncode(Sha256(body))), or kUnsignedPayload.
  std::string payload_hash{};
};

struct SigV4SignedRequest {
  // The URL to request: scheme://host[:port]/encoded-path[?canonical-query].
  std::string url;
  // The Host value that was signed; equals what Parley's HTTP client derives from `url`.
  std::string host;
  // Headers to add to the request: Authorization, x-amz-date, x-amz-content-sha256 and,
  // with a session token, x-amz-security-token.
  std::vector<std::pair<std::string, std::string>> headers;
  SigV4Steps steps;
};

// Signs `request` for the Authorization header. Signed headers: host, x-amz-content-sha256,
// x-amz-date, x-amz-security-token (with a session token) and every one of request.headers.
// Errors: kInvalidArgument (empty or malformed credential, scope, method or url; a header
//   name that is not an RFC 9110 token, reserved or repeated; a header value with CR, LF
//   or NUL; a payload hash that is neither 64 lowercase hex digits nor UNSIGNED-PAYLOAD;
//   a time outside years 1970..9999).
// Thread safety: may be called concurrently.
Result<SigV4SignedRequest> SigV4SignHeaders(const AwsCredentials& credentials,
                                            const SigV4Scope& scope,
                                            const SigV4HeaderRequest& request,
                                            std::chrono::system_clock::time_point now);

// Building blocks, exposed for tests.

// RFC 3986 percent-encoding as SigV4 wants it: A-Za-z0-9-_.~ kept, every other byte %XX with
// uppercase hex (space is %20, never '+'). '/' is kept when `keep_slash` (paths), else %2F.
std::string SigV4UriEncode(std::string_view raw, bool keep_slash);

// "20130524T000000Z" (UTC, truncated to the second).
// Errors: kInvalidArgument (a time before 1970 or after 9999).
Result<std::string> SigV4Timestamp(std::chrono::system_clock::time_point time);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"):
// 32 raw bytes. `date` is YYYYMMDD. No validation (callers above validate).
std::string SigV4SigningKey(std::string_view secret_access_key, std::string_view date,
                            std::string_view region, std::string_view service);

}  // namespace parley::crypto

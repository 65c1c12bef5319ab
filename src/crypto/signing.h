// src/crypto/signing.h
//
// The webhook signature scheme, used for Parley's deliveries to client applications and
// for inbound calls on the custom channel (DESIGN.md §5):
//
//   Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>[,v1=…]
//
// Two v1 values are sent while a secret rotates; a receiver accepts when any v1 matches any
// of its secrets, and rejects timestamps outside its tolerance window (replay protection).
//
//   request.set("Parley-Signature", SignatureHeader(endpoint.secrets, now_s, body));
//   PARLEY_RETURN_IF_ERROR(VerifySignatureHeader(header, secrets, body, now_s, 300));
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"

namespace parley::crypto {

inline constexpr std::string_view kSignatureHeaderName = "Parley-Signature";
// Longer headers are rejected before parsing.
inline constexpr size_t kMaxSignatureHeaderBytes = 1024;
// More v1 entries than this are rejected (two are needed during a rotation).
inline constexpr size_t kMaxSignatures = 8;

// "t=<unix_seconds>,v1=<hex>" with one v1 per secret, in the order given.
// Precondition (PARLEY_CHECK): 1 <= secrets.size() <= kMaxSignatures, unix_seconds >= 0.
// Thread safety: may be called concurrently.
std::string SignatureHeader(const std::vector<std::string>& secrets, int64_t unix_seconds,
                            std::string_view body);

// Verifies a Parley-Signature header value against `body`.
//
// Accepted syntax: comma-separated `key=value` items, no spaces; exactly one `t` of 1–12
// decimal digits; 1..kMaxSignatures `v1` items of 64 hex digits; items with other keys
// (future schemes) are ignored. Accepts when |now - t| <= tolerance_seconds and any v1
// equals HMAC-SHA256(secret, t + "." + body) for any of `secrets` (constant-time compare).
// Errors (all kUnauthenticated, with a message saying which): missing or malformed header,
//   timestamp outside the window (either direction), no matching signature.
// Precondition (PARLEY_CHECK): tolerance_seconds >= 0. Thread safety: concurrent.
Status VerifySignatureHeader(std::string_view header, const std::vector<std::string>& secrets,
                             std::string_view body, int64_t now_unix_seconds,
                             int64_t tolerance_seconds);

// As above, with each secret's key made once (HmacSha256Key): for a verifier that sees the
// same secrets on every request. Precondition (PARLEY_CHECK): no null key.
Status VerifySignatureHeaderWithKeys(std::string_view header,
                                     std::span<const HmacSha256Key* const> keys,
                                     std::string_view body, int64_t now_unix_seconds,
                                     int64_t tolerance_seconds);

}  // namespace parley::crypto

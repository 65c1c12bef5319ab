// src/crypto/hash.h
//
// SHA-256, HMAC-SHA256, HKDF-SHA256 and constant-time comparison. Outputs are raw bytes;
// use HexEncode (encoding.h) for text. Hot-path functions reuse per-thread OpenSSL contexts
// with algorithms fetched once (ENGINEERING-NOTES trap 8).
//
//   std::string mac = HmacSha256(secret, body);
//   if (!ConstantTimeEqual(mac, expected)) return Unauthenticated("bad signature");
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace parley::crypto {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kSha1Size = 20;

// 32 raw bytes. Thread safety: may be called concurrently.
std::string Sha256(std::string_view data);

// HMAC-SHA256(key, data): 32 raw bytes. Any key length (including empty) is accepted.
// Thread safety: may be called concurrently (each thread reuses its own EVP_MAC_CTX).
std::string HmacSha256(std::string_view key, std::string_view data);

// HMAC-SHA256 over the concatenation of `parts`, without building the concatenation
// (e.g. {timestamp, ".", body} for webhook signatures).
std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts);

// HMAC-SHA1(key, data): 20 raw bytes. Only for providers that still sign with it (Twilio's
// X-Twilio-Signature); never for Parley's own signatures. May be called concurrently.
std::string HmacSha1(std::string_view key, std::string_view data);

// True when `a` and `b` are equal. The time taken depends only on the lengths, never on
// the content; strings of different lengths compare unequal at once (lengths are not
// secret for MACs and hashes of fixed size).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// HKDF-SHA256 (RFC 5869): `length` bytes derived from `key` (the input keying material).
// Preconditions (PARLEY_CHECK): key non-empty, 1 <= length <= 255 * 32, info <= 1024 bytes
// (OpenSSL 3.0's limit). Callers pass constants, so a violation is a bug, not bad input.
// Thread safety: may be called concurrently.
std::string Hkdf(std::string_view key, std::string_view salt, std::string_view info, size_t length);

// A blind index: hex HMAC-SHA256 under `key` of `value`, separated by `domain` (its 4-byte
// big-endian length, then the domain, then the value), so moving bytes between domain and
// value changes the result. DataKey::BlindIndex and MasterKey::RoutingIndex use it.
// Preconditions (PARLEY_CHECK): domain <= UINT32_MAX bytes.
std::string DomainIndex(std::string_view key, std::string_view domain, std::string_view value);

}  // namespace parley::crypto

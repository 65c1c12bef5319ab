// src/crypto/hash.h
//
// SHA-256, HMAC-SHA256, HKDF-SHA256 and constant-time comparison. Outputs are raw bytes;
// use HexEncode (encoding.h) for text. SHA-256 and HMAC-SHA256 use OpenSSL's low-level
// SHA-256 without EVP's per-call dispatch, and HmacSha256Key keeps a key's states for
// repeated MACs (ENGINEERING-NOTES trap 8).
//
//   std::string mac = HmacSha256(secret, body);
//   if (!ConstantTimeEqual(mac, expected)) return Unauthenticated("bad signature");
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace parley::crypto {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kSha1Size = 20;

// 32 raw bytes. Thread safety: may be called concurrently.
std::string Sha256(std::string_view data);

// HMAC-SHA256(key, data): 32 raw bytes. Any key length (including empty) is accepted.
// Thread safety: may be called concurrently.
std::string HmacSha256(std::string_view key, std::string_view data);

// HMAC-SHA256 over the concatenation of `parts`, without building the concatenation
// (e.g. {timestamp, ".", body} for webhook signatures).
std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts);

// HMAC-SHA256 under one key, with the key's inner and outer SHA-256 states computed once,
// so that each MAC hashes only its data: two of the five or so compression rounds of a
// short HMAC, and no key handling. For keys used for many MACs (a tenant's blind-index
// key). Copyable; every copy wipes its states when destroyed (they are as secret as the
// key). Thread safety: const methods may be called concurrently.
//
//   HmacSha256Key mac(index_key);
//   std::string index = HexEncode(mac.Mac({domain, value}));
class HmacSha256Key {
 public:
  // Any key length (including empty), as HmacSha256.
  explicit HmacSha256Key(std::string_view key);
  HmacSha256Key(const HmacSha256Key&) = default;
  HmacSha256Key& operator=(const HmacSha256Key&) = default;
  ~HmacSha256Key();

  // HMAC-SHA256(key, concatenation of parts): 32 raw bytes, equal to HmacSha256's.
  std::string Mac(std::initializer_list<std::string_view> parts) const;
  std::string Mac(std::string_view data) const;

  // Overwrites the states with zeros (OPENSSL_cleanse); MACs computed afterwards are
  // meaningless. Owners of key material call it when they wipe their own keys.
  void Wipe();

 private:
  std::string Mac(const std::string_view* parts, size_t count) const;

  // SHA-256 chaining values after the one block of (key XOR ipad) and (key XOR opad).
  std::array<uint32_t, 8> inner_{};
  std::array<uint32_t, 8> outer_{};
};

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
std::string DomainIndex(const HmacSha256Key& key, std::string_view domain, std::string_view value);

}  // namespace parley::crypto

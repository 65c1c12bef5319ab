// src/crypto/aead.h
//
// AES-256-GCM in Parley's sealed format, and SealPlace, the associated data that binds a
// sealed value to where it is stored. Most code uses DataKey::Seal/Open (keys.h); this is
// the layer below it, shared with master-key wrapping.
//
//   sealed = version (1 byte, = 1) | nonce (12) | ciphertext | tag (16)
//
//   std::string sealed = AeadSeal(key, aad, plaintext);
//   PARLEY_ASSIGN_OR_RETURN(std::string plain, AeadOpen(key, aad, sealed));
//
// Nonces: each thread draws a random 96-bit starting nonce (RAND_bytes) on first use and
// then increments its low 64 bits per seal. This costs a counter increment instead of a
// RAND_bytes(12) per call (ENGINEERING-NOTES trap 8), and is at least as safe as fully
// random nonces: two threads' sequences under one key can only collide if they share the
// 32-bit prefix and their counters come within n of each other, about n / 2^95 per pair of
// threads for n seals. GCM's limits still hold per key: keep the total number of seals
// under one key below 2^32 (NIST SP 800-38D's bound for random nonces — rotate before), and
// each plaintext below 2^36 - 32 bytes. A forked child redraws its starting nonce, so
// parent and child never continue the same sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace parley::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr uint8_t kSealFormatVersion = 1;
inline constexpr size_t kSealOverhead = 1 + kAeadNonceSize + kAeadTagSize;
// GCM's per-message limit (2^39 - 256 bits).
inline constexpr uint64_t kMaxSealPlaintext = (uint64_t{1} << 36) - 32;

// Where a sealed value lives. Sealing binds the ciphertext to all four fields, so a value
// copied to another tenant, table, column or row fails to open. The views must outlive
// the call only.
struct SealPlace {
  std::string_view tenant;  // "tn_…"
  std::string_view table;   // "customers"
  std::string_view column;  // "contact"
  std::string_view row;     // the row's id, "cu_…"
};

// The unambiguous associated-data encoding of `place`: each field as a 4-byte big-endian
// length followed by its bytes, in the order tenant, table, column, row.
std::string EncodeSealPlace(const SealPlace& place);

// Seals `plaintext` under the 32-byte `key` with associated data `aad` (authenticated, not
// stored). The version byte is authenticated too. Preconditions (PARLEY_CHECK):
// key.size() == 32, plaintext.size() <= kMaxSealPlaintext.
// Thread safety: may be called concurrently (per-thread cipher context and nonce counter).
std::string AeadSeal(std::string_view key, std::string_view aad, std::string_view plaintext);

// Opens a value sealed by AeadSeal with the same key and aad.
// Errors: kInvalidArgument for a short, oversized or unknown-version input
//         ("sealed value …"), and for a failed authentication ("cannot open sealed value":
//         wrong key, wrong aad, or tampered bytes). Never crashes on hostile input.
// Precondition (PARLEY_CHECK): key.size() == 32. Thread safety: concurrent.
Result<std::string> AeadOpen(std::string_view key, std::string_view aad, std::string_view sealed);

namespace testing_internal {
// Raw AES-256-GCM with a caller-chosen 12-byte nonce, for known-answer tests only: a fixed
// nonce in production would be catastrophic. Returns ciphertext | tag.
std::string AesGcmEncrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                          std::string_view plaintext);
// Errors: kInvalidArgument when authentication fails or the input is shorter than a tag.
Result<std::string> AesGcmDecrypt(std::string_view key, std::string_view nonce,
                                  std::string_view aad, std::string_view ciphertext_and_tag);
}  // namespace testing_internal

}  // namespace parley::crypto

// src/crypto/random.h
//
// Cryptographically secure random bytes from OpenSSL's DRBG (fork-safe in OpenSSL 3).
//
//   std::string key = RandomBytes(32);
//   std::string session = RandomToken(32);  // 43 base64url characters, 256 bits
#pragma once

#include <cstddef>
#include <string>

namespace parley::crypto {

// `n` random bytes. Aborts (PARLEY_CHECK) if the DRBG fails: continuing without randomness
// would be worse than stopping. Thread safety: may be called concurrently.
std::string RandomBytes(size_t n);

// `bytes` random bytes, base64url-encoded without padding. Use >= 16 bytes for secrets
// (token.h relies on tokens carrying at least 128 bits).
std::string RandomToken(size_t bytes);

}  // namespace parley::crypto

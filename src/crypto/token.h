// src/crypto/token.h
//
// API keys and session tokens are stored only as hashes: a leaked database does not give
// working credentials. The secret is shown to its owner once, at creation.
//
//   std::string secret = RandomToken(32);
//   store.SaveApiKey(tenant, id, HashToken(secret));
//   ...
//   if (!VerifyToken(presented, row.token_hash)) return Unauthenticated("bad api key");
#pragma once

#include <string>
#include <string_view>

namespace parley::crypto {

// Lowercase hex SHA-256 of `secret` (64 characters).
//
// A fast, unsalted hash is correct here, unlike for passwords: the secrets are generated
// by Parley with >= 128 bits of randomness (RandomToken(>= 16)), so there is no dictionary
// to try and brute force over 2^128 is out of reach whatever the hash costs. Being
// deterministic also lets a token be looked up by its hash. Thread safety: concurrent.
std::string HashToken(std::string_view secret);

// True when HashToken(secret) equals `stored_hash` (as HashToken produced it). Compared in
// constant time. A malformed stored hash simply does not match.
bool VerifyToken(std::string_view secret, std::string_view stored_hash);

}  // namespace parley::crypto

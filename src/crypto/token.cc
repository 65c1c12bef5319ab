#include "crypto/token.h"

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {

std::string HashToken(std::string_view secret) { return HexEncode(Sha256(secret)); }

bool VerifyToken(std::string_view secret, std::string_view stored_hash) {
  return ConstantTimeEqual(HashToken(secret), stored_hash);
}

}  // namespace parley::crypto

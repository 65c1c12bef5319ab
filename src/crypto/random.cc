#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>

#include "core/status.h"
#include "crypto/encoding.h"

namespace parley::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  PARLEY_CHECK(n <= static_cast<size_t>(INT_MAX));
  PARLEY_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string RandomToken(size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

}  // namespace parley::crypto

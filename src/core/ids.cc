#include "core/ids.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace parley::internal {

namespace {
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford, lower case
}

std::string NewIdBody(TimePoint now) {
  uint64_t ms = static_cast<uint64_t>(ToUnixMillis(now)) & ((uint64_t{1} << 48) - 1);
  std::array<unsigned char, 10> rnd{};
  PARLEY_CHECK(RAND_bytes(rnd.data(), static_cast<int>(rnd.size())) == 1);
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  // 80 random bits -> 16 characters of 5 bits.
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 5; ++i) hi = (hi << 8) | rnd[i];
  for (int i = 5; i < 10; ++i) lo = (lo << 8) | rnd[i];
  for (int i = 0; i < 8; ++i) {
    out[17 - i] = kAlphabet[hi & 31];
    hi >>= 5;
    out[25 - i] = kAlphabet[lo & 31];
    lo >>= 5;
  }
  return out;
}

std::string IdBodyFloor(TimePoint now) {
  int64_t millis = std::max<int64_t>(0, ToUnixMillis(now));
  uint64_t ms = static_cast<uint64_t>(millis) & ((uint64_t{1} << 48) - 1);
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  return out;
}

bool IsValidIdBody(std::string_view body) {
  if (body.size() != 26) return false;
  if (body[0] > '7') return false;  // 48-bit time fits in 10 chars only when the first is 0..7
  for (char c : body) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' &&
                                         c != 'o' && c != 'u');
    if (!ok) return false;
  }
  return true;
}

}  // namespace parley::internal

#include "core/ids.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley::internal {

namespace {
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford, lower case

// Bumped in a forked child: the child's copy of a thread's block must not hand out the
// bytes the parent will also use.
std::atomic<uint64_t> g_forks{0};

// The random part of ids, drawn from OpenSSL's CSPRNG a block at a time: one RAND_bytes call
// (a lock and a DRBG round, about a microsecond) per 100 ids instead of one per id. The bytes
// are as unpredictable as before; each is used once, also across a fork.
class RandomBlock {
 public:
  void Take(unsigned char* out, size_t n) {
    static const bool registered = [] {
      return pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1); }) == 0;
    }();
    PARLEY_CHECK(registered);
    uint64_t forks = g_forks.load(std::memory_order_relaxed);
    if (used_ + n > block_.size() || forks != forks_) {
      PARLEY_CHECK(RAND_bytes(block_.data(), static_cast<int>(block_.size())) == 1);
      used_ = 0;
      forks_ = forks;
    }
    std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), n, out);
    std::fill_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), n, 0);
    used_ += n;
  }

 private:
  std::array<unsigned char, 1000> block_{};
  size_t used_ = 1000;  // empty: filled on first use
  uint64_t forks_ = 0;
};
}  // namespace

std::string NewIdBody(TimePoint now) {
  uint64_t ms = static_cast<uint64_t>(ToUnixMillis(now)) & ((uint64_t{1} << 48) - 1);
  std::array<unsigned char, 10> rnd{};
  thread_local RandomBlock random;
  random.Take(rnd.data(), rnd.size());
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
    bool ok = (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u');
    if (!ok) return false;
  }
  return true;
}

}  // namespace parley::internal

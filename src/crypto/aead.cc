#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/status.h"

namespace parley::crypto {
namespace {

// The cipher is fetched once: re-fetching EVP_aes_256_gcm() on every call cost 8x the
// actual sealing of a short value (ENGINEERING-NOTES trap 8).
EVP_CIPHER* FetchedAes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  PARLEY_CHECK(cipher != nullptr);
  return cipher;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// One context per direction and thread, bound to the cipher once (passing a null cipher
// later keeps the provider context instead of allocating a new one). A call with the key
// the context last used only sets the nonce: the key schedule and the GHASH table are kept,
// where setting the key again cost about 2 k instructions of a seal. To compare, the
// context keeps a copy of that key (wiped when the thread ends), as its key schedule
// already held the key in another form.
struct ThreadCipher {
  CipherCtx ctx;
  unsigned char key[kAeadKeySize] = {};
  bool keyed = false;

  explicit ThreadCipher(bool encrypt) : ctx(EVP_CIPHER_CTX_new()) {
    PARLEY_CHECK(ctx != nullptr);
    PARLEY_CHECK(EVP_CipherInit_ex2(ctx.get(), FetchedAes256Gcm(), nullptr, nullptr,
                                    encrypt ? 1 : 0, nullptr) == 1);
  }
  ~ThreadCipher() { OPENSSL_cleanse(key, sizeof(key)); }
  ThreadCipher(const ThreadCipher&) = delete;
  ThreadCipher& operator=(const ThreadCipher&) = delete;

  // Sets the nonce, and the key unless it is the one set last. False when OpenSSL fails
  // (the key is then set in full next time).
  bool Start(std::string_view k, const unsigned char* nonce) {
    const bool same = keyed && CRYPTO_memcmp(key, k.data(), kAeadKeySize) == 0;
    keyed = false;
    if (EVP_CipherInit_ex2(ctx.get(), nullptr,
                           same ? nullptr : reinterpret_cast<const unsigned char*>(k.data()), nonce,
                           -1, nullptr) != 1) {
      return false;
    }
    if (!same) std::memcpy(key, k.data(), kAeadKeySize);
    keyed = true;
    return true;
  }
};

ThreadCipher& ThreadEncrypt() {
  thread_local ThreadCipher cipher(true);
  return cipher;
}

ThreadCipher& ThreadDecrypt() {
  thread_local ThreadCipher cipher(false);
  return cipher;
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// EVP lengths are ints, so long inputs go through in chunks.
constexpr size_t kChunk = size_t{1} << 30;

void EncryptInto(std::string_view key, const unsigned char* nonce, std::string_view aad_prefix,
                 std::string_view aad, std::string_view plaintext, unsigned char* out) {
  PARLEY_CHECK(key.size() == kAeadKeySize);
  PARLEY_CHECK(plaintext.size() <= kMaxSealPlaintext);
  ThreadCipher& cipher = ThreadEncrypt();
  PARLEY_CHECK(cipher.Start(key, nonce));
  EVP_CIPHER_CTX* ctx = cipher.ctx.get();
  int len = 0;
  for (std::string_view part : {aad_prefix, aad}) {
    for (size_t off = 0; off < part.size(); off += kChunk) {
      const size_t n = std::min(kChunk, part.size() - off);
      PARLEY_CHECK(EVP_EncryptUpdate(ctx, nullptr, &len, U8(part) + off, static_cast<int>(n)) == 1);
    }
  }
  size_t written = 0;
  for (size_t off = 0; off < plaintext.size(); off += kChunk) {
    const size_t n = std::min(kChunk, plaintext.size() - off);
    PARLEY_CHECK(
        EVP_EncryptUpdate(ctx, out + written, &len, U8(plaintext) + off, static_cast<int>(n)) == 1);
    written += static_cast<size_t>(len);
  }
  PARLEY_CHECK(EVP_EncryptFinal_ex(ctx, out + written, &len) == 1);
  written += static_cast<size_t>(len);
  PARLEY_CHECK(written == plaintext.size());
  PARLEY_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kAeadTagSize, out + written) == 1);
}

// Returns false when the tag does not verify; `out` then holds garbage the caller drops.
bool DecryptInto(std::string_view key, const unsigned char* nonce, std::string_view aad_prefix,
                 std::string_view aad, std::string_view ciphertext, const unsigned char* tag,
                 unsigned char* out) {
  PARLEY_CHECK(key.size() == kAeadKeySize);
  ThreadCipher& cipher = ThreadDecrypt();
  if (!cipher.Start(key, nonce)) return false;
  EVP_CIPHER_CTX* ctx = cipher.ctx.get();
  int len = 0;
  for (std::string_view part : {aad_prefix, aad}) {
    for (size_t off = 0; off < part.size(); off += kChunk) {
      const size_t n = std::min(kChunk, part.size() - off);
      if (EVP_DecryptUpdate(ctx, nullptr, &len, U8(part) + off, static_cast<int>(n)) != 1) {
        return false;
      }
    }
  }
  size_t written = 0;
  for (size_t off = 0; off < ciphertext.size(); off += kChunk) {
    const size_t n = std::min(kChunk, ciphertext.size() - off);
    if (EVP_DecryptUpdate(ctx, out + written, &len, U8(ciphertext) + off, static_cast<int>(n)) !=
        1) {
      return false;
    }
    written += static_cast<size_t>(len);
  }
  // The ctrl takes a non-const pointer but only copies the tag in.
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAeadTagSize,
                          const_cast<unsigned char*>(tag)) != 1) {
    return false;
  }
  return EVP_DecryptFinal_ex(ctx, out + written, &len) == 1;
}

// --- Nonces ---------------------------------------------------------------------------

// Bumped in a forked child, so every thread state copied from the parent is redrawn.
std::atomic<uint64_t> g_fork_generation{0};

void RegisterForkHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    PARLEY_CHECK(pthread_atfork(nullptr, nullptr, [] {
                   g_fork_generation.fetch_add(1, std::memory_order_relaxed);
                 }) == 0);
  });
}

struct NonceState {
  unsigned char prefix[4] = {};
  uint64_t counter = 0;
  uint64_t generation = 0;
  bool seeded = false;
};

void NextNonce(unsigned char out[kAeadNonceSize]) {
  thread_local NonceState state;
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (!state.seeded || state.generation != generation) {
    RegisterForkHandler();
    unsigned char seed[kAeadNonceSize];
    PARLEY_CHECK(RAND_bytes(seed, sizeof(seed)) == 1);
    std::memcpy(state.prefix, seed, 4);
    state.counter = 0;
    for (int i = 4; i < 12; ++i) state.counter = (state.counter << 8) | seed[i];
    state.generation = generation;
    state.seeded = true;
  }
  std::memcpy(out, state.prefix, 4);
  const uint64_t c = state.counter++;
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<unsigned char>(c >> (56 - 8 * i));
}

void AppendLengthPrefixed(std::string& out, std::string_view field) {
  PARLEY_CHECK(field.size() <= UINT32_MAX);
  const auto n = static_cast<uint32_t>(field.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(len, 4);
  out.append(field);
}

}  // namespace

std::string EncodeSealPlace(const SealPlace& place) {
  std::string out;
  out.reserve(16 + place.tenant.size() + place.table.size() + place.column.size() +
              place.row.size());
  AppendLengthPrefixed(out, place.tenant);
  AppendLengthPrefixed(out, place.table);
  AppendLengthPrefixed(out, place.column);
  AppendLengthPrefixed(out, place.row);
  return out;
}

std::string AeadSeal(std::string_view key, std::string_view aad, std::string_view plaintext) {
  PARLEY_CHECK(plaintext.size() <= kMaxSealPlaintext);
  std::string out(kSealOverhead + plaintext.size(), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kSealFormatVersion;
  NextNonce(p + 1);
  // The version byte is authenticated as a prefix of the associated data, so a future
  // format cannot be confused with this one.
  const std::string_view version(out.data(), 1);
  EncryptInto(key, p + 1, version, aad, plaintext, p + 1 + kAeadNonceSize);
  return out;
}

Result<std::string> AeadOpen(std::string_view key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kSealOverhead) return InvalidArgument("sealed value is too short");
  if (sealed.size() - kSealOverhead > kMaxSealPlaintext) {
    return InvalidArgument("sealed value is too long");
  }
  if (static_cast<uint8_t>(sealed[0]) != kSealFormatVersion) {
    return InvalidArgument("sealed value has an unsupported format version");
  }
  const auto* p = U8(sealed);
  const std::string_view ciphertext =
      sealed.substr(1 + kAeadNonceSize, sealed.size() - kSealOverhead);
  std::string out(ciphertext.size(), '\0');
  if (!DecryptInto(key, p + 1, sealed.substr(0, 1), aad, ciphertext,
                   p + sealed.size() - kAeadTagSize,
                   reinterpret_cast<unsigned char*>(out.data()))) {
    return InvalidArgument("cannot open sealed value");
  }
  return out;
}

namespace testing_internal {

std::string AesGcmEncrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                          std::string_view plaintext) {
  PARLEY_CHECK(nonce.size() == kAeadNonceSize);
  std::string out(plaintext.size() + kAeadTagSize, '\0');
  EncryptInto(key, U8(nonce), {}, aad, plaintext, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

Result<std::string> AesGcmDecrypt(std::string_view key, std::string_view nonce,
                                  std::string_view aad, std::string_view ciphertext_and_tag) {
  PARLEY_CHECK(nonce.size() == kAeadNonceSize);
  if (ciphertext_and_tag.size() < kAeadTagSize) return InvalidArgument("input shorter than tag");
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAeadTagSize);
  std::string out(ciphertext.size(), '\0');
  if (!DecryptInto(key, U8(nonce), {}, aad, ciphertext, U8(ciphertext_and_tag) + ciphertext.size(),
                   reinterpret_cast<unsigned char*>(out.data()))) {
    return InvalidArgument("cannot open sealed value");
  }
  return out;
}

}  // namespace testing_internal
}  // namespace parley::crypto

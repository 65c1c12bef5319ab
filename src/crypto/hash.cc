// SHA-256 and HMAC-SHA256 run on OpenSSL's low-level SHA-256 functions (deprecated in
// OpenSSL 3 but present, and the same assembly as EVP): through EVP_MAC a short HMAC cost
// 12-13 k instructions, most of it provider dispatch and key set-up. These functions do not
// go through OpenSSL's providers, so a FIPS provider configured for the process does not
// cover them; AES-GCM, HKDF and HMAC-SHA1 still go through EVP.
// Suppressing the deprecation must come before the first OpenSSL header.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

#include "core/status.h"
#include "crypto/encoding.h"

namespace parley::crypto {
namespace {

// Algorithms are fetched once per process: in OpenSSL 3 each implicit fetch takes a lock
// and a property query, which costs more than hashing a short message.
EVP_MAC* FetchedHmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  PARLEY_CHECK(mac != nullptr);
  return mac;
}

EVP_KDF* FetchedHkdf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  PARLEY_CHECK(kdf != nullptr);
  return kdf;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

const unsigned char* Bytes(std::string_view s) {
  // EVP_MAC_init() (HmacSha1) treats a null key as "keep the previous key", so an empty key
  // must still be a non-null pointer or it would silently reuse another caller's key.
  static const unsigned char kEmpty = 0;
  return s.data() == nullptr ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

constexpr size_t kSha256Block = 64;

// Sets `c` to a SHA-256 context that has hashed exactly one block and has `chain` as its
// state (in place, so no copy of the key's state is left in a temporary).
void ResumeAfterOneBlock(SHA256_CTX* c, const std::array<uint32_t, 8>& chain) {
  SHA256_Init(c);
  static_assert(sizeof(c->h) == sizeof(chain));
  std::memcpy(c->h, chain.data(), sizeof(c->h));
  c->Nl = kSha256Block * 8;  // bits hashed so far
  c->Nh = 0;
  c->num = 0;
}

// The chaining value after hashing one block: `key` (at most a block) XOR `pad`.
std::array<uint32_t, 8> PaddedKeyState(const unsigned char* key, size_t size, unsigned char pad) {
  unsigned char block[kSha256Block];
  for (size_t i = 0; i < kSha256Block; ++i) block[i] = (i < size ? key[i] : 0) ^ pad;
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, block, sizeof(block));
  std::array<uint32_t, 8> chain;
  std::memcpy(chain.data(), c.h, sizeof(c.h));
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(&c, sizeof(c));
  return chain;
}

// Not the one-shot SHA256(): in OpenSSL 3 it fetches the digest (EVP_Q_digest) on every
// call, which cost three times the hashing of an API key.
void Sha256Into(const unsigned char* data, size_t size, unsigned char* out) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data, size);
  SHA256_Final(out, &c);
  OPENSSL_cleanse(&c, sizeof(c));
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  Sha256Into(Bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

HmacSha256Key::HmacSha256Key(std::string_view key) {
  // RFC 2104: a key longer than the block is replaced by its hash.
  unsigned char hashed[kSha256Size];
  const unsigned char* k = Bytes(key);
  size_t size = key.size();
  if (size > kSha256Block) {
    Sha256Into(k, size, hashed);
    k = hashed;
    size = kSha256Size;
  }
  inner_ = PaddedKeyState(k, size, 0x36);
  outer_ = PaddedKeyState(k, size, 0x5c);
  OPENSSL_cleanse(hashed, sizeof(hashed));
}

HmacSha256Key::~HmacSha256Key() { Wipe(); }

void HmacSha256Key::Wipe() {
  OPENSSL_cleanse(inner_.data(), sizeof(inner_));
  OPENSSL_cleanse(outer_.data(), sizeof(outer_));
}

std::string HmacSha256Key::Mac(std::initializer_list<std::string_view> parts) const {
  return Mac(parts.begin(), parts.size());
}

std::string HmacSha256Key::Mac(std::string_view data) const { return Mac(&data, 1); }

std::string HmacSha256Key::Mac(const std::string_view* parts, size_t count) const {
  SHA256_CTX c;
  ResumeAfterOneBlock(&c, inner_);
  for (size_t i = 0; i < count; ++i) SHA256_Update(&c, parts[i].data(), parts[i].size());
  unsigned char inner_digest[kSha256Size];
  SHA256_Final(inner_digest, &c);
  ResumeAfterOneBlock(&c, outer_);
  SHA256_Update(&c, inner_digest, sizeof(inner_digest));
  std::string out(kSha256Size, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &c);
  OPENSSL_cleanse(&c, sizeof(c));
  OPENSSL_cleanse(inner_digest, sizeof(inner_digest));
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  return HmacSha256Key(key).Mac(data);
}

std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  return HmacSha256Key(key).Mac(parts);
}

std::string HmacSha1(std::string_view key, std::string_view data) {
  // Only Twilio's webhook signature needs SHA-1, once per webhook: a one-shot context.
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(FetchedHmac()));
  PARLEY_CHECK(ctx != nullptr);
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  PARLEY_CHECK(EVP_MAC_init(ctx.get(), Bytes(key), key.size(), params) == 1);
  if (!data.empty()) PARLEY_CHECK(EVP_MAC_update(ctx.get(), Bytes(data), data.size()) == 1);
  std::string out(kSha1Size, '\0');
  size_t out_len = 0;
  PARLEY_CHECK(EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len,
                             out.size()) == 1);
  PARLEY_CHECK(out_len == kSha1Size);
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Hkdf(std::string_view key, std::string_view salt, std::string_view info,
                 size_t length) {
  PARLEY_CHECK(!key.empty());
  PARLEY_CHECK(length >= 1 && length <= 255 * kSha256Size);
  PARLEY_CHECK(info.size() <= 1024);
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(FetchedHkdf()));
  PARLEY_CHECK(ctx != nullptr);

  // OSSL_PARAM wants non-const pointers but only reads them for derivation inputs.
  char digest[] = "SHA256";
  auto octets = [](const char* name, std::string_view s) {
    return OSSL_PARAM_construct_octet_string(name, const_cast<char*>(s.data()), s.size());
  };
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, key);
  // An absent salt means "HashLen zero bytes" (RFC 5869 §2.2), which is also OpenSSL's
  // behaviour when the parameter is omitted.
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  if (!info.empty()) params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();

  std::string out(length, '\0');
  PARLEY_CHECK(EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                              params) == 1);
  return out;
}

std::string DomainIndex(const HmacSha256Key& key, std::string_view domain, std::string_view value) {
  PARLEY_CHECK(domain.size() <= UINT32_MAX);
  const auto n = static_cast<uint32_t>(domain.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  return HexEncode(key.Mac({std::string_view(len, 4), domain, value}));
}

std::string DomainIndex(std::string_view key, std::string_view domain, std::string_view value) {
  return DomainIndex(HmacSha256Key(key), domain, value);
}

}  // namespace parley::crypto

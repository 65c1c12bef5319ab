#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "core/status.h"
#include "crypto/encoding.h"

namespace parley::crypto {
namespace {

// Algorithms are fetched once per process: in OpenSSL 3 each implicit fetch takes a lock
// and a property query, which costs more than hashing a short message.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  PARLEY_CHECK(md != nullptr);
  return md;
}

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

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

EVP_MD_CTX* ThreadSha256Ctx() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  PARLEY_CHECK(ctx != nullptr);
  return ctx.get();
}

// The digest is set once here; EVP_MAC_init() with no params then only re-keys, instead of
// looking the digest up again on every call.
EVP_MAC_CTX* ThreadHmacCtx() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx = [] {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> c(EVP_MAC_CTX_new(FetchedHmac()));
    PARLEY_CHECK(c != nullptr);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    PARLEY_CHECK(EVP_MAC_CTX_set_params(c.get(), params) == 1);
    return c;
  }();
  return ctx.get();
}

const unsigned char* Bytes(std::string_view s) {
  // EVP_MAC_init() treats a null key as "keep the previous key", so an empty key must
  // still be a non-null pointer or it would silently reuse another caller's key.
  static const unsigned char kEmpty = 0;
  return s.data() == nullptr ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string HmacParts(std::string_view key, const std::string_view* parts, size_t count) {
  EVP_MAC_CTX* ctx = ThreadHmacCtx();
  PARLEY_CHECK(EVP_MAC_init(ctx, Bytes(key), key.size(), nullptr) == 1);
  for (size_t i = 0; i < count; ++i) {
    if (parts[i].empty()) continue;
    PARLEY_CHECK(EVP_MAC_update(ctx, Bytes(parts[i]), parts[i].size()) == 1);
  }
  std::string out(kSha256Size, '\0');
  size_t out_len = 0;
  PARLEY_CHECK(
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len, out.size()) == 1);
  PARLEY_CHECK(out_len == kSha256Size);
  return out;
}

}  // namespace

std::string Sha256(std::string_view data) {
  EVP_MD_CTX* ctx = ThreadSha256Ctx();
  PARLEY_CHECK(EVP_DigestInit_ex2(ctx, FetchedSha256(), nullptr) == 1);
  PARLEY_CHECK(EVP_DigestUpdate(ctx, data.data(), data.size()) == 1);
  std::string out(kSha256Size, '\0');
  unsigned int out_len = 0;
  PARLEY_CHECK(EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len) ==
               1);
  PARLEY_CHECK(out_len == kSha256Size);
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  return HmacParts(key, &data, 1);
}

std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  return HmacParts(key, parts.begin(), parts.size());
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

std::string DomainIndex(std::string_view key, std::string_view domain, std::string_view value) {
  PARLEY_CHECK(domain.size() <= UINT32_MAX);
  const auto n = static_cast<uint32_t>(domain.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  return HexEncode(HmacSha256(key, {std::string_view(len, 4), domain, value}));
}

}  // namespace parley::crypto

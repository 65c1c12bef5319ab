#include <openssl/crypto.h>

#include <cstring>

#include "core/status.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace parley::crypto {
namespace {

// Sub-key labels. Changing one makes every existing sealed value or index unreadable, so
// they are versioned instead.
constexpr std::string_view kSealInfo = "parley seal v1";
constexpr std::string_view kBlindIndexInfo = "parley blind index v1";

std::string_view View(const std::array<uint8_t, DataKey::kSize>& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

void CopyAndWipe(std::string& from, std::array<uint8_t, DataKey::kSize>& to) {
  PARLEY_CHECK(from.size() == to.size());
  std::memcpy(to.data(), from.data(), to.size());
  OPENSSL_cleanse(from.data(), from.size());
}

}  // namespace

DataKey DataKey::Generate() {
  std::string raw = RandomBytes(kSize);
  DataKey key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

DataKey::DataKey(std::string_view raw) {
  PARLEY_CHECK(raw.size() == kSize);
  std::memcpy(raw_.data(), raw.data(), kSize);
  // Sub-keys are derived once here, so sealing costs no HKDF per call.
  std::string seal = Hkdf(raw, {}, kSealInfo, kSize);
  CopyAndWipe(seal, seal_key_);
  std::string index = Hkdf(raw, {}, kBlindIndexInfo, kSize);
  index_mac_ = HmacSha256Key(index);
  OPENSSL_cleanse(index.data(), index.size());
}

DataKey::DataKey(DataKey&& other) noexcept
    : raw_(other.raw_), seal_key_(other.seal_key_), index_mac_(other.index_mac_) {
  other.Wipe();
}

DataKey& DataKey::operator=(DataKey&& other) noexcept {
  if (this != &other) {
    raw_ = other.raw_;
    seal_key_ = other.seal_key_;
    index_mac_ = other.index_mac_;
    other.Wipe();
  }
  return *this;
}

DataKey::~DataKey() { Wipe(); }

void DataKey::Wipe() {
  OPENSSL_cleanse(raw_.data(), raw_.size());
  OPENSSL_cleanse(seal_key_.data(), seal_key_.size());
  index_mac_.Wipe();
}

std::string DataKey::Seal(std::string_view plaintext, const SealPlace& place) const {
  return AeadSeal(View(seal_key_), EncodeSealPlace(place), plaintext);
}

Result<std::string> DataKey::Open(std::string_view sealed, const SealPlace& place) const {
  Result<std::string> opened = AeadOpen(View(seal_key_), EncodeSealPlace(place), sealed);
  if (!opened.ok()) {
    // Table and column help an operator find the broken row; they are schema names, not
    // private data.
    std::string message = opened.status().message();
    message += " for ";
    message += place.table;
    message += '.';
    message += place.column;
    return InvalidArgument(std::move(message));
  }
  return opened;
}

std::string DataKey::BlindIndex(std::string_view domain, std::string_view value) const {
  return DomainIndex(index_mac_, domain, value);
}

}  // namespace parley::crypto

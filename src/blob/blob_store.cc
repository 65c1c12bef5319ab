// src/blob/blob_store.cc
#include "blob/blob_store.h"

#include "crypto/encoding.h"
#include "crypto/random.h"

namespace parley::blob {

std::string NewBlobName() { return crypto::HexEncode(crypto::RandomBytes(16)); }

bool IsValidBlobName(std::string_view name) {
  if (name.size() != 32) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace parley::blob

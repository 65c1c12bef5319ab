// src/crypto/keys.h
//
// The key hierarchy of DESIGN.md §6: a MasterKey (from a file, never in the database)
// wraps one DataKey per tenant; a DataKey seals the tenant's private values and computes
// blind indexes for looking them up; the KeyRing caches unwrapped tenant keys in memory.
// Deleting a tenant forgets its key first (crypto-shredding), then deletes its rows.
//
//   PARLEY_ASSIGN_OR_RETURN(MasterKey master, MasterKey::LoadOrCreate(dir, true, &generated));
//   DataKey key = DataKey::Generate();
//   store.SaveTenantKey(tenant, master.WrapDataKey(tenant.str(), key));
//
//   KeyRing ring(std::move(master));
//   PARLEY_RETURN_IF_ERROR(ring.Add(tenant.str(), wrapped));
//   auto key = ring.Find(tenant.str());
//   std::string sealed = key->Seal(contact, {tenant.str(), "customers", "contact", id.str()});
//   std::string index = key->BlindIndex("customer.contact:whatsapp", contact);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/aead.h"
#include "crypto/hash.h"

namespace parley::crypto {

// A tenant's 32-byte data key. The raw key is used only to derive two sub-keys with HKDF
// (info "parley seal v1" and "parley blind index v1"), never directly. Move-only; every
// copy of key material is wiped (OPENSSL_cleanse) when the object is destroyed or moved
// from. Thread safety: const methods may be called concurrently.
class DataKey {
 public:
  static constexpr size_t kSize = 32;

  // A fresh random key.
  static DataKey Generate();

  DataKey(DataKey&& other) noexcept;
  DataKey& operator=(DataKey&& other) noexcept;
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  ~DataKey();

  // Seals `plaintext` for storage at `place`:
  //   version (1 byte, = 1) | nonce (12) | ciphertext | tag (16)   (see aead.h)
  // Precondition (PARLEY_CHECK): plaintext.size() <= kMaxSealPlaintext.
  std::string Seal(std::string_view plaintext, const SealPlace& place) const;

  // Opens a value sealed by this key for exactly the same `place`.
  // Errors: kInvalidArgument for malformed or short input ("sealed value …") and for a
  //         value that fails authentication: another key, another place, tampered bytes
  //         ("cannot open sealed value for <table>.<column>"). Never crashes.
  Result<std::string> Open(std::string_view sealed, const SealPlace& place) const;

  // A deterministic keyed index for finding a sealed value by equality: lowercase hex
  // HMAC-SHA256 under the blind-index sub-key of (domain, value), length-prefixed so that
  // ("a", "bc") and ("ab", "c") differ. `domain` names what is indexed, e.g.
  // "customer.contact:whatsapp"; the same value under another domain or another tenant's
  // key gives an unrelated index. Normalize `value` (case, phone format) before calling.
  std::string BlindIndex(std::string_view domain, std::string_view value) const;

 private:
  friend class MasterKey;  // wraps and unwraps the raw key

  // Takes exactly kSize raw bytes (PARLEY_CHECK).
  explicit DataKey(std::string_view raw);
  void Wipe();

  std::array<uint8_t, kSize> raw_{};
  std::array<uint8_t, kSize> seal_key_{};
  // The blind-index sub-key, kept only as its HMAC states (no per-index key set-up).
  HmacSha256Key index_mac_{std::string_view()};
};

// The process's master key (32 bytes). It wraps tenant data keys with AES-256-GCM and is
// used for nothing else. Move-only; wiped on destruction. Thread safety: const methods may
// be called concurrently.
class MasterKey {
 public:
  static constexpr size_t kSize = 32;

  // A fresh random key (tests, key generation).
  static MasterKey Generate();

  // 64 hex characters. Errors: kInvalidArgument (the message never contains the input).
  static Result<MasterKey> FromHex(std::string_view hex);

  // Reads a file holding 64 hex characters and an optional trailing "\n".
  // Errors: kNotFound (no such file); kFailedPrecondition (not a regular file, unreadable,
  //         or readable/writable by group or others — the message names the path and mode);
  //         kInvalidArgument (any other content; the message never contains it).
  static Result<MasterKey> FromFile(const std::string& path);

  // Reads `<data_dir>/master.key`. When it does not exist and `allow_generate` is true,
  // generates a key and writes it there with mode 0600 (O_EXCL, so two processes cannot
  // both create one; file and directory fsynced), and sets *generated = true (`generated`
  // may be null). When it does not exist and generation is not allowed:
  // kFailedPrecondition "no master key: …". Other errors as FromFile, and
  // kFailedPrecondition when the file cannot be created or written.
  static Result<MasterKey> LoadOrCreate(const std::string& data_dir, bool allow_generate,
                                        bool* generated);

  MasterKey(MasterKey&& other) noexcept;
  MasterKey& operator=(MasterKey&& other) noexcept;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  ~MasterKey();

  // `key` sealed (aead.h format, 61 bytes) under the master key, with associated data
  // "parley tenant key v1" + tenant_id, so a wrapped key moved to another tenant fails.
  std::string WrapDataKey(std::string_view tenant_id, const DataKey& key) const;

  // Reverses WrapDataKey. Errors: kInvalidArgument (wrong length, wrong tenant id, wrong
  // master key, tampered bytes).
  Result<DataKey> UnwrapDataKey(std::string_view tenant_id, std::string_view wrapped) const;

  // A blind index that does not belong to one tenant: HMAC-SHA256 (hex) of `value` under a
  // key derived from the master key, separated by `domain`. Routes a provider webhook to the
  // connection serving a client identity (phone number id, page id) before the tenant is
  // known; each tenant's own lookups use DataKey::BlindIndex.
  std::string RoutingIndex(std::string_view domain, std::string_view value) const;

 private:
  explicit MasterKey(std::string_view raw);

  std::array<uint8_t, kSize> raw_{};
};

// An in-memory cache of unwrapped tenant data keys, keyed by tenant id.
// Thread safety: every method may be called concurrently (std::shared_mutex; lookups
// share the lock). Keys are handed out as shared_ptr: a key removed by Forget() stays
// valid for operations already holding it, and is wiped when the last holder lets go.
class KeyRing {
 public:
  explicit KeyRing(MasterKey master);

  // Unwraps `wrapped` (as stored for the tenant) and installs it, replacing any key
  // already held for `tenant_id`. Errors: as MasterKey::UnwrapDataKey; on error the ring is
  // unchanged.
  Status Add(std::string_view tenant_id, std::string_view wrapped);

  // The tenant's key, or nullptr when it has not been added (or was forgotten).
  std::shared_ptr<const DataKey> Find(std::string_view tenant_id) const;

  // Drops the tenant's key from memory (crypto-shredding, with deleting its wrapped form
  // from the store). No-op when absent.
  void Forget(std::string_view tenant_id);

  // The number of tenants whose keys are held.
  size_t size() const;

  // For wrapping the key of a new tenant before storing it.
  const MasterKey& master_key() const { return master_; }

 private:
  const MasterKey master_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const DataKey>, std::less<>> keys_;
};

}  // namespace parley::crypto

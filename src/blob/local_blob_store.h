// src/blob/local_blob_store.h
//
// The embedded default attachment storage: one private directory (mode 0700) per tenant
// under `<data_dir>/blobs/`, one file (mode 0600) per object, named by its random hex name.
// Contents are sealed with the tenant's data key in 64 KiB segments, so reading and writing
// stream and never hold a whole file; deleting a tenant's key makes its files unreadable.
//
//   LocalBlobStore blobs({.root = data_dir + "/blobs", .keys = lookup, .threads = 2});
//
// File format ("PRLBLOB1"):
//   magic (8 bytes) | segment* ; segment = u32 big-endian length | DataKey::Seal(plaintext)
// Each segment holds at most kSegmentBytes of plaintext and is sealed at the place
// (tenant, "blobs", name, "<index>") — the last one at "<index>.last" — so segments cannot
// be reordered, moved to another file or tenant, or cut off at the end without detection.
// Objects are written to ".tmp-<name>" and renamed into place after fsync at Commit.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "blob/blob_store.h"
#include "crypto/keys.h"

namespace parley::blob {

inline constexpr size_t kSegmentBytes = 64 * 1024;

// Looks up a tenant's data key (TenantKeys::Get). kNotFound when the tenant is gone.
using KeyLookup =
    std::function<boost::asio::awaitable<Result<std::shared_ptr<const crypto::DataKey>>>(
        const TenantId&)>;

struct LocalBlobOptions {
  std::string root;  // created (0700) if missing
  KeyLookup keys;
  int threads = 2;  // the "blob-io" worker pool: file I/O and sealing run there
};

class LocalBlobStore final : public BlobStore {
 public:
  // Creates `root` if needed and removes temporary files a crash left behind.
  // Errors: kUnavailable (the directory cannot be created).
  static Result<std::unique_ptr<LocalBlobStore>> Open(LocalBlobOptions options);
  ~LocalBlobStore() override;

  std::string_view kind() const override { return "local"; }
  boost::asio::awaitable<Result<std::unique_ptr<BlobWriter>>> Create(const TenantId& tenant,
                                                                     std::string name) override;
  boost::asio::awaitable<Result<std::unique_ptr<BlobReader>>> Open(const TenantId& tenant,
                                                                   std::string name) override;
  boost::asio::awaitable<Status> Delete(const TenantId& tenant, std::string name) override;
  boost::asio::awaitable<Status> DeleteTenant(const TenantId& tenant) override;
  boost::asio::awaitable<Result<std::vector<BlobInfo>>> List(const TenantId& tenant,
                                                             int limit) override;
  // Always nullopt: Parley serves local objects itself.
  Result<std::optional<std::string>> PresignGet(const TenantId& tenant, std::string_view name,
                                                std::chrono::seconds ttl) const override;

  // The directory of a tenant's objects (tests).
  std::string BucketPath(const TenantId& tenant) const;

 private:
  explicit LocalBlobStore(LocalBlobOptions options);

  LocalBlobOptions options_;
  boost::asio::thread_pool pool_;
};

}  // namespace parley::blob

// src/blob/blob_store.h
//
// Attachment storage (DESIGN.md §4, §6): one private bucket per tenant, objects named by
// random hex names that reveal nothing. Two backends: local (the embedded default; contents
// sealed with the tenant's data key) and S3-compatible (a private bucket per tenant, requests
// signed with AWS Signature Version 4; served to clients through presigned URLs).
//
//   PARLEY_CO_ASSIGN_OR_RETURN(auto writer, co_await blobs.Create(tenant, name));
//   if (Status s = co_await writer->Append(chunk); !s.ok()) …   // as bytes arrive
//   Status committed = co_await writer->Commit();              // visible only now
//
//   PARLEY_CO_ASSIGN_OR_RETURN(auto reader, co_await blobs.Open(tenant, name));
//   for (;;) { PARLEY_CO_ASSIGN_OR_RETURN(std::string chunk, co_await reader->Next());
//              if (chunk.empty()) break; … }
//
// Bodies are streamed: neither writing nor reading holds a whole object in memory (the S3
// writer buffers one multipart part, at most kS3PartBytes).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace parley::blob {

// Object names are 32 lower-case hex characters (NewBlobName); anything else is rejected
// with kInvalidArgument, so a name can never walk out of its bucket.
std::string NewBlobName();
bool IsValidBlobName(std::string_view name);

// An object being written. Not visible to Open until Commit succeeds. Destroying a writer
// that was not committed discards what was written (best effort; Abort does it promptly).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends bytes (any size, including empty).
  // Errors: kUnavailable (storage I/O or the S3 server failed), kFailedPrecondition (after
  // Commit or Abort).
  virtual boost::asio::awaitable<Status> Append(std::string_view bytes) = 0;
  // Makes the object durable and visible under its name. Errors as Append.
  virtual boost::asio::awaitable<Status> Commit() = 0;
  // Discards everything written. Idempotent; never fails.
  virtual boost::asio::awaitable<void> Abort() = 0;
  // Plaintext bytes appended so far.
  virtual uint64_t size() const = 0;
};

// An object being read, in order.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // The next chunk of plaintext (at most about 64 KiB); empty at the end of the object.
  // Errors: kUnavailable (I/O), kInternal (local: the sealed file was altered or truncated).
  virtual boost::asio::awaitable<Result<std::string>> Next() = 0;
  // The object's plaintext size.
  virtual uint64_t size() const = 0;
};

struct BlobInfo {
  std::string name;
  uint64_t stored_bytes = 0;  // as stored (local: sealed size)
  TimePoint modified_at;
};

// Thread safety: every method may be called concurrently from coroutines on any executor.
class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // "local" or "s3".
  virtual std::string_view kind() const = 0;

  // Starts writing object `name` (IsValidBlobName) in the tenant's bucket, creating the
  // bucket if needed. Errors: kInvalidArgument (bad name), kUnavailable, kNotFound (local:
  // the tenant has no data key — it was deleted).
  virtual boost::asio::awaitable<Result<std::unique_ptr<BlobWriter>>> Create(const TenantId& tenant,
                                                                             std::string name) = 0;

  // Errors: kNotFound (no such object), kInvalidArgument, kUnavailable.
  virtual boost::asio::awaitable<Result<std::unique_ptr<BlobReader>>> Open(const TenantId& tenant,
                                                                           std::string name) = 0;

  // Deletes one object; deleting an absent object succeeds. Errors: kInvalidArgument,
  // kUnavailable.
  virtual boost::asio::awaitable<Status> Delete(const TenantId& tenant, std::string name) = 0;

  // Deletes every object of the tenant and its bucket. Absent bucket succeeds.
  virtual boost::asio::awaitable<Status> DeleteTenant(const TenantId& tenant) = 0;

  // Every object in the tenant's bucket (tests and the data map). Bounded by `limit`.
  virtual boost::asio::awaitable<Result<std::vector<BlobInfo>>> List(const TenantId& tenant,
                                                                     int limit) = 0;

  // A URL a client can GET the object's plaintext from directly for `ttl`, or nullopt when
  // this backend cannot serve clients itself (local: Parley serves the bytes). Errors:
  // kInvalidArgument.
  virtual Result<std::optional<std::string>> PresignGet(const TenantId& tenant,
                                                        std::string_view name,
                                                        std::chrono::seconds ttl) const = 0;
};

}  // namespace parley::blob

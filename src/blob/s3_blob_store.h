// src/blob/s3_blob_store.h
//
// Attachment storage in an S3-compatible service (AWS S3, MinIO, Ceph RGW, s3rver): one
// private bucket per tenant, created on first use, objects keyed by their blob name. Every
// request is signed with AWS Signature Version 4 and sent with Parley's HTTP client; clients
// fetch objects through presigned URLs.
//
//   PARLEY_ASSIGN_OR_RETURN(auto blobs, S3BlobStore::Make({.endpoint = "http://127.0.0.1:9000",
//                                                          .credentials = {key_id, secret}},
//                                                         client, SystemClock::Instance()));
//   PARLEY_CO_ASSIGN_OR_RETURN(auto writer, co_await blobs->Create(tenant, NewBlobName()));
//
// Addressing is path-style (`<endpoint>/<bucket>/<key>`), which MinIO, Ceph and s3rver accept
// and AWS S3 still serves (it prefers virtual-hosted style); no per-bucket DNS is needed.
//
// Writing: the writer buffers at most kS3PartBytes. An object that ends within one part is a
// single PutObject at Commit; a larger one is a multipart upload (a part is sent each time the
// buffer is full and more bytes arrive; CompleteMultipartUpload at Commit). Until Commit
// nothing is visible under the name. Parts of uploads that were neither completed nor aborted
// (a crash) stay billed: give the buckets a lifecycle rule (AbortIncompleteMultipartUpload).
//
// Reading: a HEAD for the size, then ranged GETs of kS3ReadBytes, handed out in chunks of at
// most 64 KiB; the client's max_response_bytes must be at least kS3ReadBytes.
//
// Objects are stored as written (this backend does not seal them): use server-side encryption
// of the storage service. Error messages carry the operation, the HTTP status and S3's error
// Code, never credentials, signatures or object contents; nothing is logged.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "crypto/sigv4.h"

namespace parley::http {
class Client;
}  // namespace parley::http

namespace parley::blob {

// The most a writer buffers: one multipart part (S3's minimum part size, except the last).
inline constexpr size_t kS3PartBytes = 5 << 20;
// The size of one ranged GET while reading.
inline constexpr size_t kS3ReadBytes = 1 << 20;
// S3's limit on parts per upload: objects end at kS3MaxParts * kS3PartBytes (~48.8 GiB).
inline constexpr int kS3MaxParts = 10000;

// `{}` initializers keep designated initialization ({.endpoint = …}) warning-free.
struct S3Options {
  // "http(s)://host[:port]" without path, query or credentials.
  std::string endpoint{};
  // The SigV4 signing region; also the LocationConstraint of created buckets unless us-east-1.
  std::string region = "us-east-1";
  crypto::AwsCredentials credentials{};
  // The bucket of a tenant: "{tenant}" (required, may repeat) becomes the tenant id lower-cased
  // with '_' replaced by '-' ("tn_01HX3…" -> "tn-01hx3…"). The result must be a valid S3
  // bucket name: 3..63 characters of [a-z0-9.-], starting and ending with a letter or digit,
  // without "..", ".-" or "-.".
  std::string bucket_pattern = "parley-{tenant}";
  // Per request: connect, send (up to one part) and read the whole response.
  std::chrono::milliseconds request_timeout{30000};
  // ListObjectsV2 page size (max-keys), 1..1000; tests use small pages.
  int list_page_keys = 1000;

  // Errors: kInvalidArgument naming the field ("s3.region: want lower-case letters, …").
  Status Validate() const;
};

// The bucket of `tenant` under `pattern` (see S3Options::bucket_pattern).
// Errors: kInvalidArgument (no "{tenant}", or the result is not a valid bucket name).
Result<std::string> S3BucketName(std::string_view pattern, const TenantId& tenant);

namespace internal {
struct S3Core;
}  // namespace internal

// Errors of every operation, besides those of BlobStore: kPermissionDenied ("s3: access
// denied …": wrong credentials, clock skew, or a bucket owned by someone else) and, for any
// 5xx, transport failure or timeout, kUnavailable (retry later).
//
// Thread safety: every method may be called concurrently; a writer or reader is used by one
// coroutine at a time. Writers and readers share the store's state and may outlive it.
class S3BlobStore final : public BlobStore {
 public:
  // `client` and `clock` (the signing time) must outlive the store, its writers and readers,
  // and the background abort an uncommitted writer starts when destroyed (stop the client's
  // io_context before destroying the client). Errors: kInvalidArgument (options.Validate).
  static Result<std::unique_ptr<S3BlobStore>> Make(S3Options options, http::Client& client,
                                                   const Clock& clock);
  ~S3BlobStore() override;

  std::string_view kind() const override { return "s3"; }

  // Creates the tenant's bucket the first time this store writes to it (an existing bucket,
  // 409 BucketAlreadyOwnedByYou/BucketAlreadyExists, is fine). The writer's Append may also
  // fail with kResourceExhausted (more than kS3MaxParts parts). After a failed Append or
  // Commit the writer only accepts Abort (kFailedPrecondition otherwise).
  boost::asio::awaitable<Result<std::unique_ptr<BlobWriter>>> Create(const TenantId& tenant,
                                                                     std::string name) override;
  boost::asio::awaitable<Result<std::unique_ptr<BlobReader>>> Open(const TenantId& tenant,
                                                                   std::string name) override;
  boost::asio::awaitable<Status> Delete(const TenantId& tenant, std::string name) override;
  // Lists and deletes every object (any key), then deletes the bucket. Writes to the tenant
  // racing with its deletion are not supported (the bucket may survive: kUnavailable).
  boost::asio::awaitable<Status> DeleteTenant(const TenantId& tenant) override;
  // Objects whose keys are not blob names (not written by Parley) are skipped. A tenant
  // without a bucket has no objects. limit <= 0 gives an empty list.
  boost::asio::awaitable<Result<std::vector<BlobInfo>>> List(const TenantId& tenant,
                                                             int limit) override;
  // A presigned GET URL (X-Amz-Expires = ttl) signed at clock.Now(). Errors:
  // kInvalidArgument (bad name; ttl outside 1 s..7 days).
  Result<std::optional<std::string>> PresignGet(const TenantId& tenant, std::string_view name,
                                                std::chrono::seconds ttl) const override;

 private:
  explicit S3BlobStore(std::shared_ptr<internal::S3Core> core);

  const std::shared_ptr<internal::S3Core> core_;
};

}  // namespace parley::blob

// src/delivery/attachments.h
//
// Attachments in both directions (docs/data-lifecycle.md): uploads streamed into the tenant's
// private blob storage after inspection (size limit, type sniffed from the bytes and checked
// against the tenant's allow-list, optional scan hook), signed links that expire, and
// deletion — by the sweeper after the attachment's TTL, by erasure, or with the tenant.
//
//   UploadRequest up{.tenant = t, .declared_type = "image/png", .next = read_chunk};
//   PARLEY_CO_ASSIGN_OR_RETURN(StoredAttachment a, co_await attachments.Upload(std::move(up)));
//   // a.url: "/v1/attachments/att_…?expires=…&signature=…", valid for 60 minutes
//
// Links. A message carries a link signed with the tenant's key (HMAC under its blind-index
// sub-key, domain "attachment.link") over the attachment id and the expiry. Following it
// answers with a storage URL valid for 15 minutes: S3's presigned URL, or Parley's own
// content URL ("…/content?expires=…&signature=…", domain "attachment.content"). A link is
// checked under the key of the tenant that owns the attachment, so a link minted for tenant A
// never opens a file of tenant B; an expired, altered or unknown link is refused the same way.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "blob/scan_hook.h"
#include "core/clock.h"
#include "core/message.h"
#include "delivery/tenant_keys.h"
#include "store/store.h"

namespace parley::delivery {

// The largest per-tenant limit a tenant setting may choose.
inline constexpr uint64_t kMaxAttachmentBytes = uint64_t{100} << 20;
// Tenant settings: "attachment_max_bytes" (1..kMaxAttachmentBytes) and "attachment_types"
// (an allow-list: exact types or "type/*").
inline constexpr std::string_view kAttachmentMaxBytesSetting = "attachment_max_bytes";
inline constexpr std::string_view kAttachmentTypesSetting = "attachment_types";

struct AttachmentOptions {
  std::chrono::seconds ttl{86400};         // 1..86400: configurable down, never up
  uint64_t max_bytes = 25u << 20;          // per tenant, unless the tenant's setting says otherwise
  std::vector<std::string> allowed_types;  // empty = blob::DefaultAllowedTypes()
  blob::ScanHookOptions scan;
  std::string public_url;  // "" = links relative to Parley's origin
  std::chrono::seconds link_ttl{3600};
  std::chrono::seconds storage_ttl{900};
};

struct UploadRequest {
  TenantId tenant;
  std::string declared_type;  // Content-Type as sent; "" = no claim
  std::string filename;       // optional, ≤ 255 bytes, stored sealed
  std::optional<uint64_t> declared_length;
  std::optional<ConversationId> conversation;  // must be the tenant's; sets the customer
  std::optional<CustomerId> customer;
  // The body, chunk by chunk; an empty chunk ends it. Its errors end the upload unchanged.
  std::function<boost::asio::awaitable<Result<std::string>>()> next;
};

struct StoredAttachment {
  store::AttachmentRecord record;
  std::string filename;
  std::string sha256;  // lower-case hex of the plaintext
  std::string url;     // a signed link, valid until url_expires_at
  TimePoint url_expires_at;
};

// The bytes behind a content URL.
struct AttachmentContent {
  store::AttachmentRecord record;
  std::string filename;
  std::unique_ptr<blob::BlobReader> reader;
};

// Inside the write that stores a message of `conversation`: every attachment of `content`
// that names a stored attachment (by id) must be the tenant's, not expired, not another
// conversation's, and fit the media kind (an image is image/*, …; a file is anything). Its
// type, size, file name and digest are taken from the stored record, any URL it came with is
// dropped (links are minted when the message leaves Parley: Attachments::AddLinks), and the
// attachment is tied to the conversation, so erasing the customer deletes it. Attachments
// given by URL only are left as they are. Errors: kInvalidArgument naming the field
// ("content.attachments[0].id: no such attachment"), store errors.
Status ResolveAttachments(store::Writer& w, const crypto::DataKey& key,
                          const store::ConversationRecord& conversation, Content& content,
                          TimePoint now);

// Thread safety: every method may be called concurrently from coroutines.
class Attachments {
 public:
  // All references outlive this object.
  Attachments(store::Store& store, TenantKeys& keys, blob::BlobStore& blobs, const Clock& clock,
              AttachmentOptions options);
  ~Attachments();
  Attachments(const Attachments&) = delete;
  Attachments& operator=(const Attachments&) = delete;

  // Streams an upload into storage. Nothing is kept unless every check passes.
  // Errors: kResourceExhausted (larger than the tenant's limit), kInvalidArgument (the type
  // is not allowed, or the bytes disagree with the declared type; bad filename),
  // kFailedPrecondition (the scan hook rejected the file), kNotFound (conversation),
  // kUnavailable (storage or the scan hook failed), and errors of `next`.
  boost::asio::awaitable<Result<StoredAttachment>> Upload(UploadRequest request);

  // The tenant's attachment size limit (its setting, else the service's). Errors: kNotFound.
  boost::asio::awaitable<Result<uint64_t>> MaxBytes(TenantId tenant);

  // The signed link of an attachment, valid from `now` for link_ttl.
  std::string Link(const crypto::DataKey& key, const AttachmentId& id, TimePoint now) const;

  // Gives every stored attachment (one with an id) of `message` a link valid from `now`:
  // called as a message leaves Parley, so each delivery carries a fresh 60-minute link.
  void AddLinks(const crypto::DataKey& key, Message& message, TimePoint now) const;
  // The same for a serialized message or event about a message (its "data"); any other JSON,
  // and a message without stored attachments, is returned unchanged.
  std::string AddLinks(const crypto::DataKey& key, std::string json, TimePoint now) const;

  // Follows a link: the storage URL to redirect to. Errors: kPermissionDenied for every
  // link that is not valid now (unknown id, another tenant's, expired, altered).
  boost::asio::awaitable<Result<std::string>> Follow(std::string_view id, std::string_view expires,
                                                     std::string_view signature);

  // Opens the bytes behind a content URL (local storage). Errors as Follow; kUnavailable.
  boost::asio::awaitable<Result<AttachmentContent>> OpenContent(std::string_view id,
                                                                std::string_view expires,
                                                                std::string_view signature);

  // The attachment's metadata and a fresh link (client API).
  boost::asio::awaitable<Result<StoredAttachment>> Describe(const TenantId& tenant,
                                                            const AttachmentId& id);

  // Deletes the blob, then the row. Errors: kUnavailable, kNotFound.
  boost::asio::awaitable<Status> Delete(const store::AttachmentRecord& record);

  // Deletes up to `limit` attachments past their expiry; returns how many.
  boost::asio::awaitable<Result<int>> SweepExpired(int limit);

  const AttachmentOptions& options() const { return options_; }
  blob::BlobStore& blobs() { return blobs_; }
  const Clock& clock() const { return clock_; }

 private:
  std::string Sign(const crypto::DataKey& key, std::string_view domain, std::string_view id,
                   int64_t expires) const;
  boost::asio::awaitable<Result<store::AttachmentRecord>> Verify(std::string_view domain,
                                                                 std::string_view id,
                                                                 std::string_view expires,
                                                                 std::string_view signature);

  store::Store& store_;
  TenantKeys& keys_;
  blob::BlobStore& blobs_;
  const Clock& clock_;
  AttachmentOptions options_;
  boost::asio::thread_pool scan_pool_;  // inspection and the scan hook block: they run here
};

}  // namespace parley::delivery

// src/blob/s3_blob_store.cc
//
// S3BlobStore and its writer and reader: options and bucket names, multipart writing, ranged
// reading, listing, deletion and presigning. The REST calls and response parsing they are
// built on are in s3_requests.cc.
#include "blob/s3_blob_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdint>
#include <utility>

#include "blob/s3_requests.h"
#include "http/client.h"
#include "http/io_runtime.h"

namespace parley::blob {

namespace asio = boost::asio;

namespace {

using internal::BucketOf;
using internal::DeleteObject;
using internal::EnsureBucket;
using internal::ErrorCode;
using internal::FirstElement;
using internal::ForgetBucket;
using internal::IsLowerAlnum;
using internal::IsPlainToken;
using internal::IsSuccess;
using internal::kXmlns;
using internal::ListObjects;
using internal::ListPage;
using internal::ParseNumber;
using internal::S3Call;
using internal::S3Core;
using internal::S3Error;
using internal::Send;
using internal::XmlUnescape;

constexpr size_t kChunkBytes = 64 * 1024;  // BlobReader::Next's "about 64 KiB"
constexpr std::string_view kContentType = "application/octet-stream";
// Any valid tenant id: every id maps to a bucket name of the same length and alphabet.
constexpr std::string_view kSampleTenant = "tn_00000000000000000000000000";

bool IsValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!IsLowerAlnum(c) && c != '-' && c != '.') return false;
    // Labels between dots start and end with a letter or digit.
    if (c == '.' && (name[i - 1] == '.' || name[i - 1] == '-' || name[i + 1] == '-')) {
      return false;
    }
  }
  return true;
}

Status NotOpen() { return FailedPrecondition("s3: blob writer is committed, aborted or failed"); }

// A writer's failed response: a vanished bucket or upload is worth a retry from scratch.
Status WriteError(S3Core& core, const http::ClientResponse& response, const std::string& bucket,
                  std::string_view what) {
  const std::string code = ErrorCode(response);
  if (code == "NoSuchBucket") ForgetBucket(core, bucket);
  if (code == "NoSuchBucket" || code == "NoSuchUpload") {
    return Unavailable(fmt::format("s3: {} (HTTP {} {}); retry", what, response.status, code));
  }
  return S3Error(response, what);
}

asio::awaitable<void> AbortUpload(std::shared_ptr<S3Core> core, std::string bucket, std::string key,
                                  std::string upload_id) {
  S3Call call{"AbortMultipartUpload", "DELETE", std::move(bucket), std::move(key)};
  call.query = {{"uploadId", std::move(upload_id)}};
  // Best effort: a failure leaves parts for the bucket's lifecycle rule to collect.
  Result<http::ClientResponse> response = co_await Send(core, std::move(call));
  (void)response;
}

class S3Writer final : public BlobWriter {
 public:
  S3Writer(std::shared_ptr<S3Core> core, std::string bucket, std::string key,
           asio::any_io_executor executor)
      : core_(std::move(core)),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        executor_(std::move(executor)) {}

  ~S3Writer() override {
    if (!upload_id_.empty() && state_ != State::kCommitted) {
      http::Spawn(executor_, AbortUpload(core_, bucket_, key_, upload_id_), "s3 abort upload");
    }
  }

  asio::awaitable<Status> Append(std::string_view bytes) override {
    if (state_ != State::kOpen) co_return NotOpen();
    while (!bytes.empty()) {
      // A full buffer becomes a part only when more bytes arrive: an object of exactly one
      // part stays a single PutObject, and the last part is never empty.
      if (buffer_.size() == kS3PartBytes) {
        if (parts_.size() + 1 >= static_cast<size_t>(kS3MaxParts)) {
          state_ = State::kFailed;
          co_return ResourceExhausted("s3: object larger than the multipart limit");
        }
        Status sent = co_await SendPart();
        if (!sent.ok()) {
          state_ = State::kFailed;
          co_return sent;
        }
        buffer_.reserve(kS3PartBytes);  // multipart: the next part is probably full too
      }
      const size_t take = std::min(bytes.size(), kS3PartBytes - buffer_.size());
      // Grow by doubling, but never past one part.
      if (buffer_.size() + take > buffer_.capacity()) {
        buffer_.reserve(
            std::min(kS3PartBytes, std::max(buffer_.size() + take, 2 * buffer_.size())));
      }
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      size_ += take;
    }
    co_return OkStatus();
  }

  asio::awaitable<Status> Commit() override {
    if (state_ != State::kOpen) co_return NotOpen();
    Status status;
    if (upload_id_.empty()) {
      status = co_await PutWhole();
    } else {
      status = co_await SendPart();
      if (status.ok()) status = co_await CompleteUpload();
    }
    state_ = status.ok() ? State::kCommitted : State::kFailed;
    std::string().swap(buffer_);
    co_return status;
  }

  asio::awaitable<void> Abort() override {
    if (state_ == State::kCommitted || state_ == State::kAborted) co_return;
    state_ = State::kAborted;
    std::string().swap(buffer_);
    if (upload_id_.empty()) co_return;
    std::string upload_id = std::exchange(upload_id_, {});
    co_await AbortUpload(core_, bucket_, key_, std::move(upload_id));
  }

  uint64_t size() const override { return size_; }

 private:
  enum class State { kOpen, kFailed, kCommitted, kAborted };

  asio::awaitable<Status> PutWhole() {
    S3Call call{"PutObject", "PUT", bucket_, key_};
    call.headers = {{"Content-Type", std::string(kContentType)}};
    call.body.swap(buffer_);
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(call)));
    if (!IsSuccess(response)) co_return WriteError(*core_, response, bucket_, "PutObject");
    co_return OkStatus();
  }

  // Sends the buffer as the next part, starting the multipart upload first if needed.
  asio::awaitable<Status> SendPart() {
    if (upload_id_.empty()) {
      S3Call start{"CreateMultipartUpload", "POST", bucket_, key_, {{"uploads", ""}}};
      start.headers = {{"Content-Type", std::string(kContentType)}};
      PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(start)));
      if (!IsSuccess(response)) {
        co_return WriteError(*core_, response, bucket_, "CreateMultipartUpload");
      }
      const auto text = FirstElement(response.body, "UploadId");
      std::optional<std::string> id = text ? XmlUnescape(*text) : std::nullopt;
      if (!id || !IsPlainToken(*id, 1024)) {
        co_return Unavailable("s3: CreateMultipartUpload: no UploadId in the response");
      }
      upload_id_ = std::move(*id);
    }
    S3Call put{"UploadPart", "PUT", bucket_, key_};
    put.query = {{"partNumber", std::to_string(parts_.size() + 1)}, {"uploadId", upload_id_}};
    put.body.swap(buffer_);
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(put)));
    if (!IsSuccess(response)) co_return WriteError(*core_, response, bucket_, "UploadPart");
    const std::optional<std::string_view> etag = response.Header("etag");
    if (!etag || !IsPlainToken(*etag, 256)) {
      co_return Unavailable("s3: UploadPart: no ETag in the response");
    }
    parts_.emplace_back(*etag);
    co_return OkStatus();
  }

  asio::awaitable<Status> CompleteUpload() {
    std::string body = fmt::format("<CompleteMultipartUpload xmlns=\"{}\">", kXmlns);
    for (size_t i = 0; i < parts_.size(); ++i) {
      body +=
          fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, parts_[i]);
    }
    body += "</CompleteMultipartUpload>";
    S3Call call{"CompleteMultipartUpload", "POST", bucket_, key_, {{"uploadId", upload_id_}}};
    call.headers = {{"Content-Type", "application/xml"}};
    call.body = std::move(body);
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(call)));
    if (!IsSuccess(response)) {
      co_return WriteError(*core_, response, bucket_, "CompleteMultipartUpload");
    }
    // S3 may answer 200 and report a failure in the body (it has sent the headers early).
    if (response.body.find("<Error>") != std::string::npos) {
      co_return Unavailable(
          fmt::format("s3: CompleteMultipartUpload (HTTP 200 {})", ErrorCode(response)));
    }
    co_return OkStatus();
  }

  const std::shared_ptr<S3Core> core_;
  const std::string bucket_;
  const std::string key_;
  const asio::any_io_executor executor_;  // runs the abort of a writer destroyed mid-upload
  State state_ = State::kOpen;
  std::string buffer_;  // at most kS3PartBytes
  std::string upload_id_;
  std::vector<std::string> parts_;  // ETags of the parts sent, in order
  uint64_t size_ = 0;
};

class S3Reader final : public BlobReader {
 public:
  S3Reader(std::shared_ptr<S3Core> core, std::string bucket, std::string key, uint64_t size)
      : core_(std::move(core)), bucket_(std::move(bucket)), key_(std::move(key)), size_(size) {}

  asio::awaitable<Result<std::string>> Next() override {
    if (pos_ == range_.size()) {
      if (fetched_ >= size_) co_return std::string();
      Status fetched = co_await FetchRange();
      if (!fetched.ok()) co_return fetched;
    }
    const size_t n = std::min(kChunkBytes, range_.size() - pos_);
    std::string chunk = range_.substr(pos_, n);
    pos_ += n;
    co_return chunk;
  }

  uint64_t size() const override { return size_; }

 private:
  asio::awaitable<Status> FetchRange() {
    const uint64_t last = std::min<uint64_t>(size_, fetched_ + kS3ReadBytes) - 1;
    S3Call call{"GetObject", "GET", bucket_, key_};
    call.headers = {{"Range", fmt::format("bytes={}-{}", fetched_, last)}};
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(call)));
    if (!IsSuccess(response)) co_return S3Error(response, "GetObject");
    // A server that ignores Range sends the whole object: fine while it fits the client.
    const bool whole = response.status == 200 && fetched_ == 0 && response.body.size() == size_;
    if (!whole && (response.status != 206 || response.body.size() != last + 1 - fetched_)) {
      co_return Unavailable("s3: GetObject: unexpected range in the response");
    }
    range_ = std::move(response.body);
    pos_ = 0;
    fetched_ += range_.size();
    co_return OkStatus();
  }

  const std::shared_ptr<S3Core> core_;
  const std::string bucket_;
  const std::string key_;
  const uint64_t size_;
  uint64_t fetched_ = 0;  // bytes of the object fetched so far
  std::string range_;     // the last range fetched, at most kS3ReadBytes
  size_t pos_ = 0;        // bytes of range_ handed out
};

}  // namespace

Result<std::string> S3BucketName(std::string_view pattern, const TenantId& tenant) {
  constexpr std::string_view kPlaceholder = "{tenant}";
  if (pattern.find(kPlaceholder) == std::string_view::npos) {
    return InvalidArgument("s3 bucket pattern must contain {tenant}");
  }
  std::string id = tenant.str();
  for (char& c : id) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  std::string name;
  for (size_t pos = 0;;) {
    const size_t found = pattern.find(kPlaceholder, pos);
    name += pattern.substr(pos, found - pos);
    if (found == std::string_view::npos) break;
    name += id;
    pos = found + kPlaceholder.size();
  }
  if (!IsValidBucketName(name)) {
    return InvalidArgument(fmt::format(
        "s3 bucket name \"{}\" is invalid (3..63 of [a-z0-9.-], starting and ending with a "
        "letter or digit)",
        name.size() > 80 ? name.substr(0, 80) + "…" : name));
  }
  return name;
}

Status S3Options::Validate() const {
  Result<crypto::SigV4Url> url = crypto::ParseSigV4Url(endpoint);
  if (!url.ok() || url->path != "/" || !url->query.empty() ||
      (!endpoint.empty() && endpoint.back() == '/')) {
    return InvalidArgument("s3.endpoint: want http(s)://host[:port] without path or query");
  }
  if (region.empty() || region.size() > 64 ||
      !std::all_of(region.begin(), region.end(),
                   [](char c) { return IsLowerAlnum(c) || c == '-'; })) {
    return InvalidArgument("s3.region: want lower-case letters, digits and '-' (us-east-1)");
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgument("s3.credentials: access key id and secret access key are required");
  }
  // A presign at a fixed time checks the credentials' shape and the URL as every request will.
  Result<crypto::SigV4PresignedUrl> probe = crypto::SigV4Presign(
      credentials, {region, "s3"}, {.method = "GET", .url = *url, .expires_seconds = 60},
      TimePoint(std::chrono::seconds(1'700'000'000)));
  if (!probe.ok()) return InvalidArgument("s3.credentials: " + probe.status().message());
  if (Result<std::string> name =
          S3BucketName(bucket_pattern, TenantId::FromTrusted(std::string(kSampleTenant)));
      !name.ok()) {
    return InvalidArgument("s3.bucket_pattern: " + name.status().message());
  }
  if (request_timeout.count() <= 0) return InvalidArgument("s3.request_timeout: must be positive");
  if (list_page_keys < 1 || list_page_keys > 1000) {
    return InvalidArgument("s3.list_page_keys: must be 1..1000");
  }
  return OkStatus();
}

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::Make(S3Options options, http::Client& client,
                                                       const Clock& clock) {
  PARLEY_RETURN_IF_ERROR(options.Validate());
  PARLEY_ASSIGN_OR_RETURN(crypto::SigV4Url endpoint, crypto::ParseSigV4Url(options.endpoint));
  auto core = std::make_shared<S3Core>(std::move(options), std::move(endpoint), client, clock);
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(core)));
}

S3BlobStore::S3BlobStore(std::shared_ptr<internal::S3Core> core) : core_(std::move(core)) {}

S3BlobStore::~S3BlobStore() = default;

asio::awaitable<Result<std::unique_ptr<BlobWriter>>> S3BlobStore::Create(const TenantId& tenant,
                                                                         std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  PARLEY_CO_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  Status created = co_await EnsureBucket(core_, bucket);
  if (!created.ok()) co_return created;
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  co_return std::make_unique<S3Writer>(core_, std::move(bucket), std::move(name),
                                       std::move(executor));
}

asio::awaitable<Result<std::unique_ptr<BlobReader>>> S3BlobStore::Open(const TenantId& tenant,
                                                                       std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  PARLEY_CO_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  S3Call head{"HeadObject", "HEAD", bucket, name};
  PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(head)));
  // A HEAD error has no body to tell NoSuchKey from NoSuchBucket: either way, no object.
  if (response.status == 404) co_return NotFound("s3: no such object");
  if (!IsSuccess(response)) co_return S3Error(response, "HeadObject");
  uint64_t size = 0;
  const std::optional<std::string_view> length = response.Header("content-length");
  if (!length || !ParseNumber(*length, size)) {
    co_return Unavailable("s3: HeadObject: no Content-Length in the response");
  }
  co_return std::make_unique<S3Reader>(core_, std::move(bucket), std::move(name), size);
}

asio::awaitable<Status> S3BlobStore::Delete(const TenantId& tenant, std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  PARLEY_CO_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  co_return co_await DeleteObject(core_, std::move(bucket), std::move(name));
}

asio::awaitable<Status> S3BlobStore::DeleteTenant(const TenantId& tenant) {
  PARLEY_CO_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  ForgetBucket(*core_, bucket);
  // Objects written while listing make DeleteBucket fail with BucketNotEmpty: list again.
  for (int round = 0; round < 3; ++round) {
    std::string token;
    do {
      PARLEY_CO_ASSIGN_OR_RETURN(ListPage page, co_await ListObjects(core_, bucket, token));
      if (page.bucket_missing) co_return OkStatus();
      for (BlobInfo& entry : page.entries) {
        Status deleted = co_await DeleteObject(core_, bucket, std::move(entry.name));
        if (!deleted.ok()) co_return deleted;
      }
      token = std::move(page.next_token);
    } while (!token.empty());
    S3Call call{"DeleteBucket", "DELETE", bucket};
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core_, std::move(call)));
    ForgetBucket(*core_, bucket);
    if (IsSuccess(response) || response.status == 404) co_return OkStatus();
    if (ErrorCode(response) != "BucketNotEmpty") co_return S3Error(response, "DeleteBucket");
  }
  co_return Unavailable("s3: DeleteBucket: the bucket is still not empty; retry");
}

asio::awaitable<Result<std::vector<BlobInfo>>> S3BlobStore::List(const TenantId& tenant,
                                                                 int limit) {
  std::vector<BlobInfo> out;
  if (limit <= 0) co_return out;
  PARLEY_CO_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  std::string token;
  do {
    PARLEY_CO_ASSIGN_OR_RETURN(ListPage page, co_await ListObjects(core_, bucket, token));
    for (BlobInfo& entry : page.entries) {
      if (!IsValidBlobName(entry.name)) continue;
      out.push_back(std::move(entry));
      if (out.size() >= static_cast<size_t>(limit)) co_return out;
    }
    token = std::move(page.next_token);
  } while (!token.empty());
  co_return out;
}

Result<std::optional<std::string>> S3BlobStore::PresignGet(const TenantId& tenant,
                                                           std::string_view name,
                                                           std::chrono::seconds ttl) const {
  if (!IsValidBlobName(name)) return InvalidArgument("invalid blob name");
  if (ttl.count() < crypto::kMinPresignExpiresSeconds ||
      ttl.count() > crypto::kMaxPresignExpiresSeconds) {
    return InvalidArgument("s3: presigned URL lifetime must be 1 s..7 days");
  }
  PARLEY_ASSIGN_OR_RETURN(std::string bucket, BucketOf(*core_, tenant));
  crypto::SigV4PresignRequest request{
      .method = "GET", .url = core_->endpoint, .expires_seconds = ttl.count()};
  request.url.path = fmt::format("/{}/{}", bucket, name);
  PARLEY_ASSIGN_OR_RETURN(
      crypto::SigV4PresignedUrl presigned,
      crypto::SigV4Presign(core_->options.credentials, core_->scope, request, core_->clock.Now()));
  return std::optional<std::string>(std::move(presigned.url));
}

}  // namespace parley::blob

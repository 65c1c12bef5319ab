// src/blob/s3_blob_store.cc
//
// The S3 REST calls behind S3BlobStore. Responses are parsed with a few bounded string scans
// rather than an XML library: S3 escapes '<' and '&' in every text node, so an element's text
// never contains a tag, and the client already caps a response at max_response_bytes.
#include "blob/s3_blob_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <set>
#include <utility>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "http/client.h"
#include "http/io_runtime.h"

namespace parley::blob {

namespace asio = boost::asio;

namespace internal {

// What writers, readers and the store share; writers and readers keep it alive.
struct S3Core {
  S3Core(S3Options o, crypto::SigV4Url e, http::Client& c, const Clock& k)
      : options(std::move(o)), endpoint(std::move(e)), client(c), clock(k) {}

  const S3Options options;
  const crypto::SigV4Url endpoint;  // scheme, host and port; path and query are per request
  const crypto::SigV4Scope scope{options.region, "s3"};
  http::Client& client;
  const Clock& clock;
  std::mutex mu;
  std::set<std::string> buckets;  // known to exist (created or found by this store); mu
};

}  // namespace internal

namespace {

using internal::S3Core;
using Header = std::pair<std::string, std::string>;

constexpr size_t kChunkBytes = 64 * 1024;  // BlobReader::Next's "about 64 KiB"
constexpr std::string_view kContentType = "application/octet-stream";
constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
// Any valid tenant id: every id maps to a bucket name of the same length and alphabet.
constexpr std::string_view kSampleTenant = "tn_00000000000000000000000000";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

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

// Printable ASCII without space and without the characters XML would need escaped.
bool IsPlainToken(std::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '&';
  });
}

// The text of the next <name>…</name> at or after `pos` (advanced past it), or nullopt.
std::optional<std::string_view> NextElement(std::string_view xml, std::string_view name,
                                            size_t& pos) {
  const std::string open = fmt::format("<{}>", name);
  const std::string close = fmt::format("</{}>", name);
  const size_t start = xml.find(open, pos);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  pos = end + close.size();
  return xml.substr(start + open.size(), end - start - open.size());
}

std::optional<std::string_view> FirstElement(std::string_view xml, std::string_view name) {
  size_t pos = 0;
  return NextElement(xml, name, pos);
}

template <typename T>
bool ParseNumber(std::string_view text, T& out, int base = 10) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// XML text → bytes: the five named entities and numeric references to ASCII (S3 writes control
// characters of keys as "&#x0D;"; other characters come as UTF-8). nullopt when malformed.
std::optional<std::string> XmlUnescape(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 8) return std::nullopt;
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    i = semi;
    const auto named = std::find_if(std::begin(kNamed), std::end(kNamed),
                                    [&](const auto& e) { return e.first == entity; });
    unsigned code = 0;
    if (named != std::end(kNamed)) {
      out += named->second;
    } else if (entity.starts_with("#x") && ParseNumber(entity.substr(2), code, 16) && code > 0 &&
               code < 0x80) {
      out += static_cast<char>(code);
    } else if (entity.starts_with("#") && ParseNumber(entity.substr(1), code) && code > 0 &&
               code < 0x80) {
      out += static_cast<char>(code);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

bool IsSuccess(const http::ClientResponse& response) {
  return response.status >= 200 && response.status < 300;
}

// S3's error Code ("NoSuchKey"), or "" when the body has none (HEAD) or it looks odd.
std::string ErrorCode(const http::ClientResponse& response) {
  const auto code = FirstElement(response.body, "Code");
  if (!code || code->size() > 64) return "";
  for (char c : *code) {
    if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '.') return "";
  }
  return std::string(*code);
}

// A failed S3 response as a Status: the operation, HTTP status and Code, nothing else.
Status S3Error(const http::ClientResponse& response, std::string_view what) {
  const std::string code = ErrorCode(response);
  const std::string detail =
      fmt::format("{} (HTTP {}{}{})", what, response.status, code.empty() ? "" : " ", code);
  const int status = response.status;
  if (status >= 500 || status == 408 || status == 429 || code == "SlowDown" ||
      code == "OperationAborted" || code == "RequestTimeout") {
    return Unavailable("s3: unavailable: " + detail);
  }
  if (status == 403) return PermissionDenied("s3: access denied: " + detail);
  if (status == 404) return NotFound("s3: not found: " + detail);
  return InvalidArgument("s3: rejected: " + detail);
}

Status NotOpen() { return FailedPrecondition("s3: blob writer is committed, aborted or failed"); }

// One S3 REST call, built positionally ({"GetObject", "GET", bucket, key}); `key` is empty for
// bucket operations.
struct S3Call {
  std::string_view what;  // the S3 operation, for messages
  std::string method;
  std::string bucket;
  std::string key{};
  std::vector<Header> query{};
  std::vector<Header> headers{};  // signed and sent
  std::string body{};
};

// Signs and sends `call`. Any HTTP status is a response; transport failures (connect, reset,
// timeout, oversized response) are kUnavailable.
asio::awaitable<Result<http::ClientResponse>> Send(std::shared_ptr<S3Core> core, S3Call call) {
  crypto::SigV4HeaderRequest to_sign{.method = call.method,
                                     .url = core->endpoint,
                                     .headers = call.headers,
                                     .payload_hash = crypto::HexEncode(crypto::Sha256(call.body))};
  to_sign.url.path = "/" + call.bucket;
  if (!call.key.empty()) to_sign.url.path += "/" + call.key;
  to_sign.url.query = std::move(call.query);
  Result<crypto::SigV4SignedRequest> signed_request =
      crypto::SigV4SignHeaders(core->options.credentials, core->scope, to_sign, core->clock.Now());
  if (!signed_request.ok()) co_return signed_request.status();
  http::ClientRequest request{.method = std::move(call.method),
                              .url = std::move(signed_request->url),
                              .headers = std::move(call.headers),
                              .body = std::move(call.body),
                              .timeout = core->options.request_timeout};
  for (Header& header : signed_request->headers) request.headers.push_back(std::move(header));
  Result<http::ClientResponse> response = co_await core->client.Send(std::move(request));
  if (!response.ok()) {
    co_return Unavailable(fmt::format("s3: {}: {}", call.what, response.status().message()));
  }
  co_return std::move(response);
}

Result<std::string> BucketOf(const S3Core& core, const TenantId& tenant) {
  return S3BucketName(core.options.bucket_pattern, tenant);
}

void ForgetBucket(S3Core& core, const std::string& bucket) {
  std::lock_guard lock(core.mu);
  core.buckets.erase(bucket);
}

// Creates `bucket` unless this store already knows it exists.
asio::awaitable<Status> EnsureBucket(std::shared_ptr<S3Core> core, std::string bucket) {
  {
    std::lock_guard lock(core->mu);
    if (core->buckets.contains(bucket)) co_return OkStatus();
  }
  S3Call call{"CreateBucket", "PUT", bucket};
  // us-east-1 is S3's default location and rejects being named explicitly.
  if (core->options.region != "us-east-1") {
    call.body = fmt::format(
        "<CreateBucketConfiguration xmlns=\"{}\"><LocationConstraint>{}</LocationConstraint>"
        "</CreateBucketConfiguration>",
        kXmlns, core->options.region);
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
  if (!IsSuccess(response)) {
    // Two nodes (or coroutines) may create it at once; s3rver says BucketAlreadyExists even
    // to its owner. A bucket of another account fails the next request with 403.
    const std::string code = ErrorCode(response);
    if (response.status != 409 ||
        (code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists")) {
      co_return S3Error(response, "CreateBucket");
    }
  }
  std::lock_guard lock(core->mu);
  core->buckets.insert(std::move(bucket));
  co_return OkStatus();
}

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

struct ListPage {
  bool bucket_missing = false;
  std::vector<BlobInfo> entries;  // name = the object's key, whatever it is
  std::string next_token;         // non-empty when truncated
};

Result<ListPage> ParseListPage(std::string_view xml) {
  const Status malformed = Unavailable("s3: ListObjectsV2: malformed response");
  ListPage page;
  size_t pos = 0;
  while (const auto contents = NextElement(xml, "Contents", pos)) {
    BlobInfo entry;
    const auto key = FirstElement(*contents, "Key");
    const auto size = FirstElement(*contents, "Size");
    const auto modified = FirstElement(*contents, "LastModified");
    std::optional<std::string> raw_key = key ? XmlUnescape(*key) : std::nullopt;
    if (!raw_key || raw_key->empty() || !size || !ParseNumber(*size, entry.stored_bytes) ||
        !modified) {
      return malformed;
    }
    entry.name = std::move(*raw_key);
    Result<TimePoint> time = ParseRfc3339(*modified);
    if (!time.ok()) return malformed;
    entry.modified_at = *time;
    page.entries.push_back(std::move(entry));
  }
  if (FirstElement(xml, "IsTruncated") == "true") {
    const auto token = FirstElement(xml, "NextContinuationToken");
    std::optional<std::string> raw = token ? XmlUnescape(*token) : std::nullopt;
    if (!raw || raw->empty()) return malformed;
    page.next_token = std::move(*raw);
  }
  return page;
}

asio::awaitable<Result<ListPage>> ListObjects(std::shared_ptr<S3Core> core, std::string bucket,
                                              std::string token) {
  S3Call call{"ListObjectsV2", "GET", std::move(bucket)};
  call.query = {{"list-type", "2"}, {"max-keys", std::to_string(core->options.list_page_keys)}};
  if (!token.empty()) call.query.emplace_back("continuation-token", std::move(token));
  PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
  if (response.status == 404 && ErrorCode(response) == "NoSuchBucket") {
    ListPage missing;
    missing.bucket_missing = true;
    co_return missing;
  }
  if (!IsSuccess(response)) co_return S3Error(response, "ListObjectsV2");
  co_return ParseListPage(response.body);
}

// Deletes one object; an absent one (or bucket) is success.
asio::awaitable<Status> DeleteObject(std::shared_ptr<S3Core> core, std::string bucket,
                                     std::string key) {
  S3Call call{"DeleteObject", "DELETE", std::move(bucket), std::move(key)};
  PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
  if (!IsSuccess(response) && response.status != 404) co_return S3Error(response, "DeleteObject");
  co_return OkStatus();
}

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

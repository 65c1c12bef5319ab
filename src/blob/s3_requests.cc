// src/blob/s3_requests.cc
//
// The S3 REST calls behind S3BlobStore: signing and sending, error mapping, bucket creation,
// listing and deletion. Responses are parsed with a few bounded string scans rather than an
// XML library: S3 escapes '<' and '&' in every text node, so an element's text never contains
// a tag, and the client already caps a response at max_response_bytes.
#include "blob/s3_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::blob::internal {

namespace asio = boost::asio;

bool IsPlainToken(std::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '&';
  });
}

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

std::string ErrorCode(const http::ClientResponse& response) {
  const auto code = FirstElement(response.body, "Code");
  if (!code || code->size() > 64) return "";
  for (char c : *code) {
    if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '.') return "";
  }
  return std::string(*code);
}

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

namespace {

// ListBuckets pages followed before giving up on finding a bucket.
constexpr int kMaxListBucketsPages = 100;

struct BucketsPage {
  bool listed = false;     // the bucket looked for is on this page
  std::string next_token;  // non-empty when there are more pages
};

// One ListBuckets page: <ListAllMyBucketsResult><Buckets><Bucket><Name>…</Name>…</Bucket>…
// </Buckets><ContinuationToken>…</ContinuationToken></ListAllMyBucketsResult>.
// Errors: kUnavailable (malformed XML).
Result<BucketsPage> ParseBucketsPage(std::string_view xml, std::string_view bucket) {
  const Status malformed = Unavailable("s3: ListBuckets: malformed response");
  if (xml.find("</ListAllMyBucketsResult>") == std::string_view::npos) return malformed;
  BucketsPage page;
  const std::string_view buckets = FirstElement(xml, "Buckets").value_or("");
  size_t pos = 0;
  while (const auto entry = NextElement(buckets, "Bucket", pos)) {
    const auto name = FirstElement(*entry, "Name");
    const std::optional<std::string> raw = name ? XmlUnescape(*name) : std::nullopt;
    if (!raw || raw->empty()) return malformed;
    if (*raw == bucket) page.listed = true;
  }
  if (const auto token = FirstElement(xml, "ContinuationToken")) {
    std::optional<std::string> raw = XmlUnescape(*token);
    if (!raw) return malformed;
    page.next_token = std::move(*raw);
  }
  return page;
}

// Whether ListBuckets — the buckets the credentials' account owns — includes `bucket`.
// Pages are narrowed with `prefix` (servers that ignore it just send more pages) and followed
// through ContinuationToken, at most kMaxListBucketsPages of them.
asio::awaitable<Result<bool>> OwnsBucket(std::shared_ptr<S3Core> core, std::string bucket) {
  std::string token;
  for (int page = 0; page < kMaxListBucketsPages; ++page) {
    S3Call call{"ListBuckets", "GET", ""};  // no bucket: the service endpoint, "GET /"
    call.query = {{"max-buckets", "1000"}, {"prefix", bucket}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
    if (!IsSuccess(response)) co_return S3Error(response, "ListBuckets");
    PARLEY_CO_ASSIGN_OR_RETURN(BucketsPage parsed, ParseBucketsPage(response.body, bucket));
    if (parsed.listed) co_return true;
    if (parsed.next_token.empty()) co_return false;
    if (parsed.next_token == token) {
      co_return Unavailable("s3: ListBuckets: malformed response (repeated continuation token)");
    }
    token = std::move(parsed.next_token);
  }
  co_return Unavailable(fmt::format("s3: ListBuckets: more than {} pages", kMaxListBucketsPages));
}

}  // namespace

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
    // Two nodes (or coroutines) may create it at once: BucketAlreadyOwnedByYou is ours. On
    // AWS, BucketAlreadyExists means another account owns the name — and may let anyone write
    // to it, so uploading there would hand a tenant's files to a stranger. s3rver (and some
    // S3-compatible servers) say it even to the owner, so it is accepted only when ListBuckets,
    // which lists the buckets of the credentials' account, names the bucket.
    const std::string code = ErrorCode(response);
    if (response.status != 409 ||
        (code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists")) {
      co_return S3Error(response, "CreateBucket");
    }
    if (code == "BucketAlreadyExists") {
      PARLEY_CO_ASSIGN_OR_RETURN(bool owned, co_await OwnsBucket(core, bucket));
      if (!owned) {
        co_return FailedPrecondition(fmt::format(
            "s3: CreateBucket: bucket {} exists and belongs to another account", bucket));
      }
    }
  }
  std::lock_guard lock(core->mu);
  core->buckets.insert(std::move(bucket));
  co_return OkStatus();
}

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

asio::awaitable<Status> DeleteObject(std::shared_ptr<S3Core> core, std::string bucket,
                                     std::string key) {
  S3Call call{"DeleteObject", "DELETE", std::move(bucket), std::move(key)};
  PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
  if (!IsSuccess(response) && response.status != 404) co_return S3Error(response, "DeleteObject");
  co_return OkStatus();
}

}  // namespace parley::blob::internal

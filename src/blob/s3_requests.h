// src/blob/s3_requests.h — internal to parley_blob_s3 (s3_blob_store.cc and s3_requests.cc).
//
// The S3 REST layer under S3BlobStore: the state the store, its writers and readers share
// (S3Core), one signed call (S3Call + Send), how S3's responses and errors are read, and the
// bucket and listing calls the store makes.
//
//   S3Call call{"DeleteObject", "DELETE", bucket, key};
//   PARLEY_CO_ASSIGN_OR_RETURN(auto response, co_await Send(core, std::move(call)));
//   if (!IsSuccess(response)) co_return S3Error(response, "DeleteObject");
#pragma once

#include <boost/asio/awaitable.hpp>
#include <charconv>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "blob/s3_blob_store.h"
#include "http/client.h"

namespace parley::blob::internal {

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

using Header = std::pair<std::string, std::string>;

inline constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

inline bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Printable ASCII without space and without the characters XML would need escaped.
bool IsPlainToken(std::string_view text, size_t max_bytes);

// The text of the next <name>…</name> at or after `pos` (advanced past it), or nullopt.
// Responses are scanned rather than parsed: S3 escapes '<' and '&' in every text node.
std::optional<std::string_view> NextElement(std::string_view xml, std::string_view name,
                                            size_t& pos);
std::optional<std::string_view> FirstElement(std::string_view xml, std::string_view name);

// The whole of `text` as a number in `base`; false (and `out` unspecified) otherwise.
template <typename T>
bool ParseNumber(std::string_view text, T& out, int base = 10) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// XML text → bytes: the five named entities and numeric references to ASCII (S3 writes control
// characters of keys as "&#x0D;"; other characters come as UTF-8). nullopt when malformed.
std::optional<std::string> XmlUnescape(std::string_view text);

bool IsSuccess(const http::ClientResponse& response);

// S3's error Code ("NoSuchKey"), or "" when the body has none (HEAD) or it looks odd.
std::string ErrorCode(const http::ClientResponse& response);

// A failed S3 response as a Status: the operation, HTTP status and Code, nothing else.
// kUnavailable (5xx, 408, 429, throttling), kPermissionDenied (403), kNotFound (404),
// kInvalidArgument otherwise.
Status S3Error(const http::ClientResponse& response, std::string_view what);

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
boost::asio::awaitable<Result<http::ClientResponse>> Send(std::shared_ptr<S3Core> core,
                                                          S3Call call);

// The bucket of `tenant` under the store's bucket pattern.
Result<std::string> BucketOf(const S3Core& core, const TenantId& tenant);

// Drops `bucket` from the buckets known to exist (deleted, or found missing).
void ForgetBucket(S3Core& core, const std::string& bucket);

// Creates `bucket` unless this store already knows it exists. A bucket that exists already is
// accepted only when the credentials' account owns it (BucketAlreadyOwnedByYou, or
// BucketAlreadyExists and named by ListBuckets); one of another account is kFailedPrecondition.
boost::asio::awaitable<Status> EnsureBucket(std::shared_ptr<S3Core> core, std::string bucket);

// One page of ListObjectsV2.
struct ListPage {
  bool bucket_missing = false;
  std::vector<BlobInfo> entries;  // name = the object's key, whatever it is
  std::string next_token;         // non-empty when truncated
};

// Errors: kUnavailable (malformed XML).
Result<ListPage> ParseListPage(std::string_view xml);

// The page after `token` ("" for the first); a missing bucket is a page with bucket_missing.
boost::asio::awaitable<Result<ListPage>> ListObjects(std::shared_ptr<S3Core> core,
                                                     std::string bucket, std::string token);

// Deletes one object; an absent one (or bucket) is success.
boost::asio::awaitable<Status> DeleteObject(std::shared_ptr<S3Core> core, std::string bucket,
                                            std::string key);

}  // namespace parley::blob::internal

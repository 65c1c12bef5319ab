// src/blob/s3_blob_store_test.cc
//
// S3BlobStore against a real s3rver behind a SigV4-verifying proxy (s3rver_fixture.h), which
// records the requests it saw and can answer the next one with a chosen failure: round trips,
// multipart uploads, ranged reads, deletion, tenant isolation, presigned URLs and errors.
// Option and bucket-name validation, which need no server, are in s3_options_test.cc.
#include "blob/s3_blob_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "blob/s3rver_fixture.h"
#include "http/client.h"
#include "http/io_runtime.h"

namespace parley::blob {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using s3_testing::ClosedPort;
using s3_testing::S3rver;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

// Lines of `text` containing `needle` (equal to it, when `exact`).
int CountLines(const std::string& text, std::string_view needle, bool exact = false) {
  int count = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = std::string_view(text).substr(pos, end - pos);
    if (exact ? line == needle : line.find(needle) != std::string_view::npos) ++count;
    pos = end + 1;
  }
  return count;
}

template <class T>
asio::awaitable<std::optional<T>> Wrap(asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

struct ReadBack {
  std::string data;
  uint64_t size = 0;
  size_t largest_chunk = 0;
};

class S3BlobStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<S3rver>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(server_->error().empty()) << server_->error();
    runtime_.Start(1);
    store_ = MakeStore(Options());
    ClearLog();
  }
  void TearDown() override {
    runtime_.Stop();  // before the client: no abort may still be running against it
  }

  static S3Options Options() {
    return {.endpoint = server_->url(), .credentials = {"S3RVER", "S3RVER"}, .list_page_keys = 2};
  }

  std::unique_ptr<S3BlobStore> MakeStore(S3Options options, const Clock* clock = nullptr) {
    auto store =
        S3BlobStore::Make(std::move(options), client_, clock ? *clock : SystemClock::Instance());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Runs `task` on the I/O thread and waits (co_spawn's future wants a default-constructible
  // value, hence the optional).
  template <class T>
  T Run(asio::awaitable<T> task) {
    if constexpr (std::is_void_v<T>) {
      auto future = asio::co_spawn(runtime_.context(), std::move(task), asio::use_future);
      PARLEY_CHECK(future.wait_for(60s) == std::future_status::ready);
      future.get();
    } else {
      auto future = asio::co_spawn(runtime_.context(), Wrap(std::move(task)), asio::use_future);
      PARLEY_CHECK(future.wait_for(60s) == std::future_status::ready);
      return std::move(*future.get());
    }
  }

  Status Put(BlobStore& store, const TenantId& tenant, const std::string& name,
             std::string_view data, size_t chunk = 700 * 1024) {
    Result<std::unique_ptr<BlobWriter>> writer = Run(store.Create(tenant, name));
    if (!writer.ok()) return writer.status();
    for (size_t i = 0; i < data.size(); i += chunk) {
      if (Status s = Run((*writer)->Append(data.substr(i, chunk))); !s.ok()) return s;
    }
    if ((*writer)->size() != data.size()) return Internal("writer size is wrong");
    return Run((*writer)->Commit());
  }

  Result<ReadBack> Read(BlobStore& store, const TenantId& tenant, const std::string& name) {
    PARLEY_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, Run(store.Open(tenant, name)));
    ReadBack out;
    out.size = reader->size();
    for (;;) {
      PARLEY_ASSIGN_OR_RETURN(std::string chunk, Run(reader->Next()));
      if (chunk.empty()) return out;
      out.largest_chunk = std::max(out.largest_chunk, chunk.size());
      out.data += chunk;
    }
  }

  StatusCode OpenCode(const TenantId& tenant, const std::string& name) {
    Result<std::unique_ptr<BlobReader>> reader = Run(store_->Open(tenant, name));
    return reader.ok() ? StatusCode::kOk : reader.status().code();
  }

  std::vector<std::string> Names(const TenantId& tenant, int limit = 100) {
    Result<std::vector<BlobInfo>> list = Run(store_->List(tenant, limit));
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<std::string> names;
    if (list.ok()) {
      for (const BlobInfo& info : *list) names.push_back(info.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  http::ClientResponse Fetch(std::string method, std::string url, std::string body = "") {
    Result<http::ClientResponse> response = Run(client_.Send(
        {.method = std::move(method), .url = std::move(url), .body = std::move(body)}));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(*response) : http::ClientResponse{};
  }
  // The requests the proxy forwarded since the last ClearLog: "METHOD /path?query [range=…]".
  std::string Log() { return Fetch("GET", server_->url() + "/__log").body; }
  void ClearLog() { Fetch("DELETE", server_->url() + "/__log"); }
  // The next S3 request gets `status` with `body` (an S3 error document when empty).
  void FailNext(int status, std::string body = "") {
    Fetch("POST", server_->url() + "/__fail/" + std::to_string(status), std::move(body));
  }

  static std::string ErrorXml(std::string_view code) {
    return fmt::format("<Error><Code>{}</Code><Message>{}</Message></Error>", code, code);
  }
  // A ListBuckets page naming `buckets`, pointing to the page `token` ("" for none).
  static std::string BucketsXml(const std::vector<std::string>& buckets, std::string token) {
    std::string xml = "<ListAllMyBucketsResult><Owner><ID>x</ID></Owner><Buckets>";
    for (const std::string& name : buckets) {
      xml += "<Bucket><CreationDate>2024-01-01T00:00:00.000Z</CreationDate><Name>" + name +
             "</Name></Bucket>";
    }
    xml += "</Buckets>";
    if (!token.empty()) xml += "<ContinuationToken>" + token + "</ContinuationToken>";
    return xml + "</ListAllMyBucketsResult>";
  }

  static std::string Bucket(const TenantId& tenant) {
    return *S3BucketName(S3Options().bucket_pattern, tenant);
  }

  inline static std::unique_ptr<S3rver> server_;
  http::IoRuntime runtime_;
  http::Client client_{runtime_.context(), {}};
  std::unique_ptr<S3BlobStore> store_;
  const TenantId tenant_ = TenantId::New(SystemClock::Instance());
};

TEST_F(S3BlobStoreTest, SmallObjectRoundTripsAsOnePut) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "hello, attachment").ok());
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data, "hello, attachment");
  EXPECT_EQ(back->size, 17u);

  const std::string log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_), true), 1) << log;  // bucket created
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_) + "/" + name, true), 1) << log;
  EXPECT_EQ(CountLines(log, "uploads"), 0) << log;

  Result<std::vector<BlobInfo>> list = Run(store_->List(tenant_, 10));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, name);
  EXPECT_EQ((*list)[0].stored_bytes, 17u);
  EXPECT_LT(std::chrono::abs(SystemClock::Instance().Now() - (*list)[0].modified_at), 5min);
  EXPECT_EQ(store_->kind(), "s3");
}

TEST_F(S3BlobStoreTest, EmptyObjectRoundTrips) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "").ok());
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size, 0u);
  EXPECT_EQ(back->data, "");
}

TEST_F(S3BlobStoreTest, LargeObjectIsMultipartAndReadBackInRanges) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(12 << 20, 7);
  ASSERT_TRUE(Put(*store_, tenant_, name, data).ok());
  std::string log = Log();
  EXPECT_EQ(CountLines(log, "?uploads="), 1) << log;
  EXPECT_EQ(CountLines(log, "?partNumber="), 3) << log;  // 5 + 5 + 2 MiB
  EXPECT_EQ(CountLines(log, "POST /" + Bucket(tenant_) + "/" + name + "?uploadId="), 1) << log;

  ClearLog();
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size, data.size());
  EXPECT_TRUE(back->data == data) << "read back differs";
  EXPECT_LE(back->largest_chunk, 64u * 1024);
  log = Log();
  EXPECT_EQ(CountLines(log, "range=bytes="), 12) << log;  // 1 MiB each
  EXPECT_EQ(CountLines(log, "range=bytes=0-1048575"), 1) << log;
  EXPECT_EQ(CountLines(log, "range=bytes=11534336-12582911"), 1) << log;
}

TEST_F(S3BlobStoreTest, ObjectOfExactlyOnePartIsOnePut) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(kS3PartBytes, 8);
  ASSERT_TRUE(Put(*store_, tenant_, name, data, kS3PartBytes).ok());
  EXPECT_EQ(CountLines(Log(), "uploads"), 0);
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->data == data);
}

TEST_F(S3BlobStoreTest, ObjectIsInvisibleBeforeCommitAndAbsentAfterAbort) {
  const std::string small = NewBlobName();
  auto writer = Run(store_->Create(tenant_, small));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE(Run((*writer)->Append("not yet")).ok());
  EXPECT_EQ(OpenCode(tenant_, small), StatusCode::kNotFound);
  Run((*writer)->Abort());
  Run((*writer)->Abort());  // idempotent
  EXPECT_EQ(OpenCode(tenant_, small), StatusCode::kNotFound);
  EXPECT_EQ(Run((*writer)->Append("more")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run((*writer)->Commit()).code(), StatusCode::kFailedPrecondition);

  // Past one part, a part is already stored, yet nothing is visible.
  const std::string large = NewBlobName();
  const std::string data = RandomBytes(6 << 20, 9);
  auto multipart = Run(store_->Create(tenant_, large));
  ASSERT_TRUE(multipart.ok()) << multipart.status().ToString();
  ASSERT_TRUE(Run((*multipart)->Append(data)).ok());
  EXPECT_EQ(CountLines(Log(), "?partNumber=1&"), 1);
  EXPECT_EQ(OpenCode(tenant_, large), StatusCode::kNotFound);
  ClearLog();
  Run((*multipart)->Abort());
  EXPECT_EQ(CountLines(Log(), "DELETE /" + Bucket(tenant_) + "/" + large + "?uploadId="), 1);
  EXPECT_EQ(OpenCode(tenant_, large), StatusCode::kNotFound);
  EXPECT_TRUE(Names(tenant_).empty());

  // Abort after Commit keeps the object.
  const std::string kept = NewBlobName();
  auto committed = Run(store_->Create(tenant_, kept));
  ASSERT_TRUE(committed.ok());
  ASSERT_TRUE(Run((*committed)->Append("kept")).ok());
  ASSERT_TRUE(Run((*committed)->Commit()).ok());
  Run((*committed)->Abort());
  EXPECT_EQ(OpenCode(tenant_, kept), StatusCode::kOk);
}

TEST_F(S3BlobStoreTest, DestroyingAnUncommittedUploadAbortsIt) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(6 << 20, 10);
  auto writer = Run(store_->Create(tenant_, name));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(Run((*writer)->Append(data)).ok());
  ClearLog();
  writer->reset();
  // The abort runs in the background: wait for it to reach the server.
  const std::string abort = "DELETE /" + Bucket(tenant_) + "/" + name + "?uploadId=";
  for (int i = 0; i < 100 && CountLines(Log(), abort) == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(CountLines(Log(), abort), 1);
  EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
}

TEST_F(S3BlobStoreTest, DeleteRemovesTheObjectAndAbsentObjectsAreFine) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "bye").ok());
  EXPECT_TRUE(Run(store_->Delete(tenant_, name)).ok());
  EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
  EXPECT_TRUE(Run(store_->Delete(tenant_, name)).ok());
  const TenantId never_written = TenantId::New(SystemClock::Instance());
  EXPECT_TRUE(Run(store_->Delete(never_written, name)).ok());
  EXPECT_TRUE(Names(never_written).empty());
}

TEST_F(S3BlobStoreTest, TenantsHaveSeparateBuckets) {
  const TenantId other = TenantId::New(SystemClock::Instance());
  std::vector<std::string> mine = {NewBlobName(), NewBlobName(), NewBlobName()};
  std::sort(mine.begin(), mine.end());
  for (const std::string& name : mine) ASSERT_TRUE(Put(*store_, tenant_, name, name).ok());
  const std::string theirs = NewBlobName();
  ASSERT_TRUE(Put(*store_, other, theirs, "theirs").ok());

  EXPECT_NE(Bucket(tenant_), Bucket(other));
  EXPECT_TRUE(fs::is_directory(server_->data_dir() + "/" + Bucket(tenant_)));
  EXPECT_TRUE(fs::is_directory(server_->data_dir() + "/" + Bucket(other)));
  EXPECT_EQ(Names(tenant_), mine);  // two pages of two
  EXPECT_EQ(Names(other), std::vector<std::string>{theirs});
  EXPECT_EQ(Names(tenant_, 2).size(), 2u);
  EXPECT_EQ(OpenCode(other, mine[0]), StatusCode::kNotFound);
  EXPECT_EQ(OpenCode(tenant_, theirs), StatusCode::kNotFound);
}

TEST_F(S3BlobStoreTest, DeleteTenantRemovesEveryObjectAndTheBucket) {
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) {
    names.push_back(NewBlobName());
    ASSERT_TRUE(Put(*store_, tenant_, names.back(), "x").ok());
  }
  const std::string bucket_dir = server_->data_dir() + "/" + Bucket(tenant_);
  ASSERT_TRUE(fs::is_directory(bucket_dir));
  ASSERT_TRUE(Run(store_->DeleteTenant(tenant_)).ok());
  EXPECT_FALSE(fs::exists(bucket_dir));
  EXPECT_TRUE(Names(tenant_).empty());
  for (const std::string& name : names) EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
  EXPECT_TRUE(Run(store_->DeleteTenant(tenant_)).ok());  // no bucket: fine

  // The store forgot the bucket: writing again creates it again.
  ASSERT_TRUE(Put(*store_, tenant_, names[0], "again").ok());
  EXPECT_EQ(Names(tenant_), std::vector<std::string>{names[0]});
}

// s3rver answers CreateBucket of an existing bucket with BucketAlreadyExists even to its owner;
// ListBuckets confirms it is ours.
TEST_F(S3BlobStoreTest, BucketCreatedElsewhereIsConfirmedWithListBuckets) {
  std::unique_ptr<S3BlobStore> elsewhere = MakeStore(Options());  // another node
  ASSERT_TRUE(Put(*elsewhere, tenant_, NewBlobName(), "first").ok());
  ClearLog();
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "second").ok());
  std::string log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_), true), 1) << log;
  EXPECT_EQ(CountLines(log, "GET /?"), 1) << log;
  EXPECT_EQ(CountLines(log, "prefix=" + Bucket(tenant_)), 1) << log;
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_) + "/" + name, true), 1) << log;
  EXPECT_EQ(Names(tenant_).size(), 2u);

  // Known now: the next upload creates nothing.
  ClearLog();
  ASSERT_TRUE(Put(*store_, tenant_, NewBlobName(), "third").ok());
  log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_), true), 0) << log;
  EXPECT_EQ(CountLines(log, "GET /?"), 0) << log;

  // Two creates at once: both send CreateBucket, one of them is told BucketAlreadyExists.
  const TenantId other = TenantId::New(SystemClock::Instance());
  ClearLog();
  auto first = asio::co_spawn(runtime_.context(), Wrap(store_->Create(other, NewBlobName())),
                              asio::use_future);
  auto second = asio::co_spawn(runtime_.context(), Wrap(store_->Create(other, NewBlobName())),
                               asio::use_future);
  ASSERT_EQ(first.wait_for(60s), std::future_status::ready);
  ASSERT_EQ(second.wait_for(60s), std::future_status::ready);
  Result<std::unique_ptr<BlobWriter>> a = std::move(*first.get());
  Result<std::unique_ptr<BlobWriter>> b = std::move(*second.get());
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(other), true), 2) << log;
  // The one told BucketAlreadyExists confirms ownership with ListBuckets. s3rver checks and
  // creates without a lock, so now and then it tells neither: at most one listing.
  EXPECT_LE(CountLines(log, "prefix=" + Bucket(other)), 1) << log;
}

// On AWS, BucketAlreadyExists means another account owns the name: its bucket may take anyone's
// writes, so nothing may go there.
TEST_F(S3BlobStoreTest, BucketOfAnotherAccountIsRefused) {
  FailNext(409, ErrorXml("BucketAlreadyExists"));  // CreateBucket; ListBuckets lacks it
  Result<std::unique_ptr<BlobWriter>> writer = Run(store_->Create(tenant_, NewBlobName()));
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer.status().message(), "s3: CreateBucket: bucket " + Bucket(tenant_) +
                                           " exists and belongs to another account");
  EXPECT_THAT(writer.status().message(), Not(HasSubstr("S3RVER")));
  std::string log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_), true), 1) << log;
  EXPECT_EQ(CountLines(log, "GET /?"), 1) << log;
  EXPECT_EQ(CountLines(log, "/"), 2) << log;  // nothing else
  EXPECT_FALSE(fs::exists(server_->data_dir() + "/" + Bucket(tenant_)));

  // Not remembered as ours: the next attempt asks again.
  ClearLog();
  EXPECT_TRUE(Put(*store_, tenant_, NewBlobName(), "now ours").ok());
  EXPECT_EQ(CountLines(Log(), "PUT /" + Bucket(tenant_), true), 1);
}

TEST_F(S3BlobStoreTest, ListBucketsIsFollowedAcrossPages) {
  std::unique_ptr<S3BlobStore> elsewhere = MakeStore(Options());
  ASSERT_TRUE(Put(*elsewhere, tenant_, NewBlobName(), "x").ok());
  ClearLog();
  FailNext(409, ErrorXml("BucketAlreadyExists"));
  FailNext(200, BucketsXml({"parley-someone-else", "parley-another"}, "page&amp;2"));
  // The second page is s3rver's, which lists the bucket.
  ASSERT_TRUE(Put(*store_, tenant_, NewBlobName(), "y").ok());
  const std::string log = Log();
  EXPECT_EQ(CountLines(log, "GET /?"), 2) << log;
  EXPECT_EQ(CountLines(log, "continuation-token=page%262"), 1) << log;
}

TEST_F(S3BlobStoreTest, UnconfirmedBucketOwnershipFails) {
  // Pages without the bucket, each pointing to another: at most 100 are read.
  FailNext(409, ErrorXml("BucketAlreadyExists"));
  for (int i = 0; i < 100; ++i) FailNext(200, BucketsXml({"parley-x"}, "t" + std::to_string(i)));
  Result<std::unique_ptr<BlobWriter>> writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(writer.status().message(), HasSubstr("ListBuckets: more than 100 pages"));
  EXPECT_EQ(CountLines(Log(), "GET /?"), 100);

  // A page naming the bucket it came from again.
  ClearLog();
  FailNext(409, ErrorXml("BucketAlreadyExists"));
  FailNext(200, BucketsXml({}, "same"));
  FailNext(200, BucketsXml({}, "same"));
  writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(CountLines(Log(), "GET /?"), 2);

  FailNext(409, ErrorXml("BucketAlreadyExists"));
  FailNext(200, "<Error>not a bucket list</Error>");
  writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(writer.status().message(), HasSubstr("ListBuckets: malformed"));

  FailNext(409, ErrorXml("BucketAlreadyExists"));
  FailNext(200,
           "<ListAllMyBucketsResult><Buckets><Bucket><Name>&bogus;</Name></Bucket>"
           "</Buckets></ListAllMyBucketsResult>");
  writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);

  FailNext(409, ErrorXml("BucketAlreadyExists"));
  FailNext(403, ErrorXml("AccessDenied"));  // no s3:ListAllMyBuckets
  writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(writer.status().message(), HasSubstr("ListBuckets (HTTP 403 AccessDenied)"));

  // Other 409s are errors without asking.
  ClearLog();
  FailNext(409, ErrorXml("OperationAborted"));
  writer = Run(store_->Create(tenant_, NewBlobName()));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(CountLines(Log(), "GET /?"), 0);
  EXPECT_FALSE(fs::exists(server_->data_dir() + "/" + Bucket(tenant_)));
}

TEST_F(S3BlobStoreTest, PresignedUrlServesTheObject) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "via a link").ok());
  Result<std::optional<std::string>> url = store_->PresignGet(tenant_, name, 60s);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ASSERT_TRUE(url->has_value());
  EXPECT_THAT(**url, HasSubstr("X-Amz-Expires=60&"));
  http::ClientResponse response = Fetch("GET", **url);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "via a link");
}

TEST_F(S3BlobStoreTest, PresignedUrlPastItsLifetimeIsRefused) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "too late").ok());
  FakeClock two_hours_ago(SystemClock::Instance().Now() - 2h);
  std::unique_ptr<S3BlobStore> past = MakeStore(Options(), &two_hours_ago);
  Result<std::optional<std::string>> expired = past->PresignGet(tenant_, name, 60s);
  ASSERT_TRUE(expired.ok() && expired->has_value());
  EXPECT_EQ(Fetch("GET", **expired).status, 403);
  Result<std::optional<std::string>> valid = past->PresignGet(tenant_, name, 3h);
  ASSERT_TRUE(valid.ok() && valid->has_value());
  EXPECT_EQ(Fetch("GET", **valid).status, 200);
}

TEST_F(S3BlobStoreTest, PresignGetRejectsBadNamesAndLifetimes) {
  const std::string name = NewBlobName();
  EXPECT_EQ(store_->PresignGet(tenant_, name, 0s).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PresignGet(tenant_, name, 604801s).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->PresignGet(tenant_, name, 604800s).ok());
  EXPECT_EQ(store_->PresignGet(tenant_, "../" + name, 60s).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(S3BlobStoreTest, WrongSecretKeyIsPermissionDenied) {
  S3Options options = Options();
  options.credentials.secret_access_key = "not-the-secret";
  std::unique_ptr<S3BlobStore> wrong = MakeStore(options);
  Result<std::unique_ptr<BlobWriter>> writer = Run(wrong->Create(tenant_, NewBlobName()));
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(writer.status().message(), HasSubstr("s3: access denied"));
  EXPECT_THAT(writer.status().message(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(writer.status().message(), Not(HasSubstr("not-the-secret")));
}

TEST_F(S3BlobStoreTest, UnknownAccessKeyIsPermissionDenied) {
  S3Options options = Options();
  options.credentials.access_key_id = "NOBODY";
  std::unique_ptr<S3BlobStore> unknown = MakeStore(options);
  Result<std::vector<BlobInfo>> list = Run(unknown->List(tenant_, 10));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(list.status().message(), HasSubstr("InvalidAccessKeyId"));  // s3rver's own check
}

TEST_F(S3BlobStoreTest, ServerErrorsAreUnavailableAndLeakNoContents) {
  FailNext(503);
  Result<std::vector<BlobInfo>> list = Run(store_->List(tenant_, 10));
  EXPECT_EQ(list.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(list.status().message(), HasSubstr("SlowDown"));

  auto writer = Run(store_->Create(tenant_, NewBlobName()));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(Run((*writer)->Append("confidential bytes")).ok());
  FailNext(500);
  Status commit = Run((*writer)->Commit());
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable);
  EXPECT_THAT(commit.message(), HasSubstr("PutObject (HTTP 500 InternalError)"));
  EXPECT_THAT(commit.message(), Not(HasSubstr("confidential")));
  EXPECT_EQ(Run((*writer)->Commit()).code(), StatusCode::kFailedPrecondition);
  Run((*writer)->Abort());
}

TEST_F(S3BlobStoreTest, MalformedResponsesAreUnavailable) {
  FailNext(200, "<ListBucketResult><Contents><Key>&bogus;</Key><Size>1</Size></Contents>");
  EXPECT_EQ(Run(store_->List(tenant_, 10)).status().code(), StatusCode::kUnavailable);
  FailNext(200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(Run(store_->List(tenant_, 10)).status().code(), StatusCode::kUnavailable);

  auto writer = Run(store_->Create(tenant_, NewBlobName()));
  ASSERT_TRUE(writer.ok());
  FailNext(200, "<InitiateMultipartUploadResult></InitiateMultipartUploadResult>");
  Status no_upload_id = Run((*writer)->Append(RandomBytes(kS3PartBytes + 1, 11)));
  EXPECT_EQ(no_upload_id.code(), StatusCode::kUnavailable);
  EXPECT_THAT(no_upload_id.message(), HasSubstr("UploadId"));
}

TEST_F(S3BlobStoreTest, InvalidNamesAreRejectedWithoutARequest) {
  const std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  EXPECT_EQ(Run(store_->Create(tenant_, "../../etc/passwd")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCode(tenant_, upper), StatusCode::kInvalidArgument);
  EXPECT_EQ(Run(store_->Delete(tenant_, "")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Log(), "");
}

TEST(S3BlobStoreUnreachableTest, ClosedPortIsUnavailable) {
  http::IoRuntime runtime;
  runtime.Start(1);
  http::Client client(runtime.context(), {});
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  auto store = S3BlobStore::Make({.endpoint = "http://127.0.0.1:" + std::to_string(closed.port()),
                                  .credentials = {"S3RVER", "S3RVER"}},
                                 client, SystemClock::Instance());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TenantId tenant = TenantId::New(SystemClock::Instance());
  auto future = asio::co_spawn(runtime.context(), Wrap((*store)->Create(tenant, NewBlobName())),
                               asio::use_future);
  ASSERT_EQ(future.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(future.get()->status().code(), StatusCode::kUnavailable);
  runtime.Stop();
}

}  // namespace
}  // namespace parley::blob

// src/blob/s3_options_test.cc
//
// S3Options::Validate and S3BucketName: the checks S3BlobStore::Make runs before any request,
// so these tests need no server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "blob/s3_blob_store.h"
#include "http/client.h"

namespace parley::blob {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(S3OptionsTest, BucketNameIsThePatternWithTheTenantId) {
  const TenantId tenant = TenantId::FromTrusted("tn_01HX3ABCDEFGHJKMNPQRSTVWXY");
  EXPECT_EQ(*S3BucketName("parley-{tenant}", tenant), "parley-tn-01hx3abcdefghjkmnpqrstvwxy");
  EXPECT_EQ(*S3BucketName("a.{tenant}.b", tenant), "a.tn-01hx3abcdefghjkmnpqrstvwxy.b");
}

TEST(S3OptionsTest, RejectsBadOptions) {
  const auto code = [](auto mutate) {
    S3Options options{.endpoint = "http://127.0.0.1:9000", .credentials = {"KEY", "SECRET"}};
    mutate(options);
    return options.Validate();
  };
  EXPECT_TRUE(code([](S3Options&) {}).ok());
  for (const char* pattern :
       {"parley", "Parley-{tenant}", "-{tenant}", "{tenant}.", "a..{tenant}", "a-.{tenant}",
        "{tenant}_x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-{tenant}"}) {
    Status s = code([&](S3Options& o) { o.bucket_pattern = pattern; });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << pattern;
    EXPECT_THAT(s.message(), HasSubstr("s3.bucket_pattern")) << pattern;
  }
  for (const char* endpoint : {"", "127.0.0.1:9000", "ftp://h", "http://h/bucket", "http://h/",
                               "http://h?x=1", "http://user@h"}) {
    EXPECT_THAT(code([&](S3Options& o) { o.endpoint = endpoint; }).message(),
                HasSubstr("s3.endpoint"))
        << endpoint;
  }
  EXPECT_THAT(code([](S3Options& o) { o.credentials.secret_access_key = ""; }).message(),
              HasSubstr("s3.credentials"));
  EXPECT_THAT(code([](S3Options& o) { o.credentials.access_key_id = "A/B"; }).message(),
              HasSubstr("s3.credentials"));
  EXPECT_THAT(code([](S3Options& o) { o.region = "US_EAST"; }).message(), HasSubstr("s3.region"));
  EXPECT_THAT(code([](S3Options& o) { o.request_timeout = 0ms; }).message(),
              HasSubstr("s3.request_timeout"));
  EXPECT_THAT(code([](S3Options& o) { o.list_page_keys = 1001; }).message(),
              HasSubstr("s3.list_page_keys"));

  asio::io_context io;
  http::Client client(io, {});
  EXPECT_EQ(S3BlobStore::Make({.endpoint = "http://h", .bucket_pattern = "x"}, client,
                              SystemClock::Instance())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::blob

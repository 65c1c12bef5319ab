// src/crypto/sigv4_vector_test.cc
//
// SigV4 against published AWS vectors: the presign entries of the shared fixture file
// signature_vectors.json and the four header-auth examples of the S3 documentation.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/sigv4.h"
#include "crypto/sigv4_test_support.h"

#ifndef PARLEY_FIXTURES_DIR
#error "PARLEY_FIXTURES_DIR must name /work/shared/fixtures (set in src/crypto/CMakeLists.txt)"
#endif

namespace parley::crypto {
namespace {

namespace json = boost::json;
using sigv4_testing::kEmptySha256;
using sigv4_testing::kExampleCredentials;
using sigv4_testing::kExampleScope;
using sigv4_testing::kExampleTime;
using sigv4_testing::Url;
using std::chrono::system_clock;

constexpr std::string_view kExampleCredentialScope = "20130524/us-east-1/s3/aws4_request";

// "YYYYMMDDTHHMMSSZ" → time point, written independently of SigV4Timestamp.
system_clock::time_point ParseAmzDate(std::string_view text) {
  EXPECT_EQ(text.size(), 16u) << text;
  if (text.size() != 16) return {};
  const auto number = [&](size_t pos, size_t len) {
    return std::stoi(std::string(text.substr(pos, len)));
  };
  using namespace std::chrono;
  const sys_days day =
      year(number(0, 4)) / month(static_cast<unsigned>(number(4, 2))) / number(6, 2);
  return day + hours(number(9, 2)) + minutes(number(11, 2)) + seconds(number(13, 2));
}

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    ADD_FAILURE() << "vector field " << key << " missing or not a string";
    return "";
  }
  return std::string(v->get_string());
}

void LoadAwsVectors(std::vector<json::object>& out) {
  const std::string path = std::string(PARLEY_FIXTURES_DIR) + "/providers/signature_vectors.json";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  const json::value root = json::parse(text.str(), ec);
  ASSERT_FALSE(ec) << path << ": " << ec.message();
  ASSERT_TRUE(root.is_object() && root.get_object().contains("vectors")) << path;
  const json::value& vectors = root.get_object().at("vectors");
  ASSERT_TRUE(vectors.is_array()) << path;
  for (const json::value& v : vectors.get_array()) {
    ASSERT_TRUE(v.is_object());
    const json::value* provider = v.get_object().if_contains("provider");
    ASSERT_TRUE(provider != nullptr && provider->is_string());
    if (provider->get_string().starts_with("aws")) out.push_back(v.get_object());
  }
}

void CheckPresignVector(const json::object& v) {
  const AwsCredentials credentials{Field(v, "access_key"), Field(v, "secret_key")};
  const SigV4Scope scope{Field(v, "region"), Field(v, "service")};
  const std::string amz_date = Field(v, "x_amz_date");
  const json::value* expires = v.if_contains("expires");
  ASSERT_TRUE(expires != nullptr && expires->is_int64());
  const system_clock::time_point time = ParseAmzDate(amz_date);

  Result<std::string> timestamp = SigV4Timestamp(time);
  ASSERT_TRUE(timestamp.ok());
  EXPECT_EQ(*timestamp, amz_date);
  EXPECT_EQ(HexEncode(SigV4SigningKey(credentials.secret_access_key, amz_date.substr(0, 8),
                                      scope.region, scope.service)),
            Field(v, "signing_key_hex"));

  Result<SigV4PresignedUrl> presigned = SigV4Presign(credentials, scope,
                                                     {.method = Field(v, "method"),
                                                      .url = Url(Field(v, "url")),
                                                      .expires_seconds = expires->get_int64()},
                                                     time);
  ASSERT_TRUE(presigned.ok()) << presigned.status().ToString();
  EXPECT_EQ(presigned->steps.canonical_request, Field(v, "canonical_request"));
  EXPECT_EQ(HexEncode(Sha256(presigned->steps.canonical_request)),
            Field(v, "canonical_request_sha256"));
  EXPECT_EQ(presigned->steps.string_to_sign, Field(v, "string_to_sign"));
  EXPECT_EQ(HexEncode(presigned->steps.signing_key), Field(v, "signing_key_hex"));
  EXPECT_EQ(presigned->steps.signature, Field(v, "expected_signature"));
  EXPECT_EQ(presigned->url, Field(v, "presigned_url"));
}

TEST(SigV4VectorTest, MatchesEveryAwsVectorInFixtureFile) {
  std::vector<json::object> vectors;
  ASSERT_NO_FATAL_FAILURE(LoadAwsVectors(vectors));
  ASSERT_FALSE(vectors.empty()) << "no aws entries in signature_vectors.json";
  for (const json::object& v : vectors) {
    const std::string provider = Field(v, "provider");
    SCOPED_TRACE(provider);
    if (provider == "aws-s3-sigv4-presign") {
      CheckPresignVector(v);
    } else {
      ADD_FAILURE() << "no check for this aws vector; add one to sigv4_vector_test.cc";
    }
  }
}

// The four header-auth examples of
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (same
// credentials and time as the presign vector). PROVIDERS.md §7 quotes the GET Object hash and
// signature; signature_vectors.json does not carry these entries.
struct HeaderExample {
  std::string name;
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;
  std::string canonical_request;
  std::string canonical_request_sha256;
  std::string signed_headers;
  std::string signature;
  std::string request_url;  // the URL the signer returns
};

std::vector<HeaderExample> HeaderExamples() {
  const std::string empty(kEmptySha256);
  const std::string welcome = HexEncode(Sha256("Welcome to Amazon S3."));
  return {
      {"GetObject",
       "GET",
       "https://examplebucket.s3.amazonaws.com/test.txt",
       {{"Range", "bytes=0-9"}},
       empty,
       "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
       "x-amz-content-sha256:" +
           empty +
           "\nx-amz-date:20130524T000000Z\n\n"
           "host;range;x-amz-content-sha256;x-amz-date\n" +
           empty,
       "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
       "host;range;x-amz-content-sha256;x-amz-date",
       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       "https://examplebucket.s3.amazonaws.com/test.txt"},
      {"PutObject",
       "PUT",
       "https://examplebucket.s3.amazonaws.com/test$file.text",
       {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
       welcome,
       "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
       "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" +
           welcome +
           "\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
           "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" +
           welcome,
       "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
       "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
       "https://examplebucket.s3.amazonaws.com/test%24file.text"},
      {"GetBucketLifecycle",
       "GET",
       "https://examplebucket.s3.amazonaws.com/?lifecycle",
       {},
       empty,
       "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" + empty +
           "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + empty,
       "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
       "host;x-amz-content-sha256;x-amz-date",
       "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
       "https://examplebucket.s3.amazonaws.com/?lifecycle="},
      {"ListObjects",
       "GET",
       "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
       {},
       empty,
       "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" +
           empty + "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" +
           empty,
       "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
       "host;x-amz-content-sha256;x-amz-date",
       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
       "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"},
  };
}

TEST(SigV4VectorTest, MatchesAwsHeaderAuthExamples) {
  for (const HeaderExample& example : HeaderExamples()) {
    SCOPED_TRACE(example.name);
    Result<SigV4SignedRequest> signed_request =
        SigV4SignHeaders(kExampleCredentials, kExampleScope,
                         {.method = example.method,
                          .url = Url(example.url),
                          .headers = example.headers,
                          .payload_hash = example.payload_hash},
                         kExampleTime);
    ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
    const SigV4Steps& steps = signed_request->steps;
    EXPECT_EQ(steps.canonical_request, example.canonical_request);
    EXPECT_EQ(HexEncode(Sha256(steps.canonical_request)), example.canonical_request_sha256);
    EXPECT_EQ(steps.string_to_sign, "AWS4-HMAC-SHA256\n20130524T000000Z\n" +
                                        std::string(kExampleCredentialScope) + "\n" +
                                        example.canonical_request_sha256);
    EXPECT_EQ(HexEncode(steps.signing_key),
              "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
    EXPECT_EQ(steps.signature, example.signature);
    EXPECT_EQ(signed_request->url, example.request_url);
    EXPECT_EQ(signed_request->host, "examplebucket.s3.amazonaws.com");
    const std::vector<std::pair<std::string, std::string>> expected_headers = {
        {"Authorization",
         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
         "SignedHeaders=" +
             example.signed_headers + ",Signature=" + example.signature},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-content-sha256", example.payload_hash},
    };
    EXPECT_EQ(signed_request->headers, expected_headers);
  }
}

}  // namespace
}  // namespace parley::crypto

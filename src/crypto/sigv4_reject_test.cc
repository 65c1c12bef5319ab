// src/crypto/sigv4_reject_test.cc
//
// SigV4 input validation: every malformed credential, scope, method, URL, header, payload hash
// and lifetime is kInvalidArgument in both signing modes, and no message quotes a secret.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "crypto/sigv4.h"
#include "crypto/sigv4_test_support.h"

namespace parley::crypto {
namespace {

using sigv4_testing::kExampleTime;
using sigv4_testing::Url;
using std::chrono::system_clock;

// Secrets that must never appear in an error message.
constexpr std::string_view kSecretSentinel = "SECRET-SENTINEL-7f3a";
constexpr std::string_view kTokenSentinel = "TOKEN-SENTINEL-91c2";

struct Inputs {
  AwsCredentials credentials{"AKIDEXAMPLE", std::string(kSecretSentinel),
                             std::string(kTokenSentinel)};
  SigV4Scope scope{"us-east-1", "s3"};
  SigV4PresignRequest presign{.url = Url("http://127.0.0.1:4569/b/k"), .expires_seconds = 60};
  SigV4HeaderRequest header{.method = "GET",
                            .url = Url("http://127.0.0.1:4569/b/k"),
                            .headers = {{"Range", "bytes=0-9"}},
                            .payload_hash = std::string(kUnsignedPayload)};
  system_clock::time_point now = kExampleTime;
};

void ExpectInvalid(const Status& status, std::string_view fragment) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.ToString();
  EXPECT_EQ(status.message().find(kSecretSentinel), std::string::npos) << status.ToString();
  EXPECT_EQ(status.message().find(kTokenSentinel), std::string::npos) << status.ToString();
}

TEST(SigV4RejectTest, BaselineInputsAreAccepted) {
  const Inputs in;
  EXPECT_TRUE(SigV4Presign(in.credentials, in.scope, in.presign, in.now).ok());
  EXPECT_TRUE(SigV4SignHeaders(in.credentials, in.scope, in.header, in.now).ok());
}

TEST(SigV4RejectTest, RejectsBadCredentialsScopeMethodAndUrlInBothModes) {
  const std::vector<std::pair<std::function<void(Inputs&)>, std::string>> cases = {
      {[](Inputs& in) { in.credentials.access_key_id.clear(); }, "access key id is empty"},
      {[](Inputs& in) { in.credentials.access_key_id = "AK/ID"; }, "access key id must"},
      {[](Inputs& in) { in.credentials.access_key_id = "AK ID"; }, "access key id must"},
      {[](Inputs& in) { in.credentials.secret_access_key.clear(); }, "secret access key is empty"},
      {[](Inputs& in) { in.credentials.secret_access_key = std::string(1025, 's'); },
       "secret access key is longer"},
      {[](Inputs& in) { in.credentials.session_token += "\r\nX-Evil: 1"; }, "session token"},
      {[](Inputs& in) { in.credentials.session_token = std::string(8193, 't'); },
       "session token is longer"},
      {[](Inputs& in) { in.scope.region.clear(); }, "region is empty"},
      {[](Inputs& in) { in.scope.region = "us-east-1/x"; }, "region must"},
      {[](Inputs& in) { in.scope.service.clear(); }, "service is empty"},
      {[](Inputs& in) { in.scope.service = "s 3"; }, "service must"},
      {[](Inputs& in) { in.presign.method = in.header.method = ""; }, "method is empty"},
      {[](Inputs& in) { in.presign.method = in.header.method = "get"; }, "method must"},
      {[](Inputs& in) { in.presign.method = in.header.method = "GET\r\n"; }, "method must"},
      {[](Inputs& in) { in.presign.url.scheme = in.header.url.scheme = "ftp"; }, "scheme"},
      {[](Inputs& in) { in.presign.url.host = in.header.url.host = ""; }, "no host"},
      {[](Inputs& in) { in.presign.url.host = in.header.url.host = "h\r\nx: y"; }, "host"},
      {[](Inputs& in) { in.presign.url.host = in.header.url.host = "a@b"; }, "host"},
      {[](Inputs& in) { in.presign.url.port = in.header.url.port = 0; }, "port"},
      {[](Inputs& in) { in.presign.url.path = in.header.url.path = "b/k"; }, "start with '/'"},
      {[](Inputs& in) { in.presign.url.path = in.header.url.path = ""; }, "start with '/'"},
      {[](Inputs& in) {
         in.presign.url.path = in.header.url.path = "/" + std::string(kMaxSigV4PathBytes, 'k');
       },
       "path is longer"},
      {[](Inputs& in) {
         in.presign.url.query = in.header.url.query = {{"", "v"}};
       },
       "without a name"},
      {[](Inputs& in) {
         in.presign.url.query = in.header.url.query = {{"k", std::string(8193, 'v')}};
       },
       "longer than 8192"},
      {[](Inputs& in) {
         in.presign.url.query.assign(kMaxSigV4Fields + 1, {"k", "v"});
         in.header.url.query = in.presign.url.query;
       },
       "more than 64 query"},
      {[](Inputs& in) { in.now = system_clock::time_point{} - std::chrono::seconds(1); }, "1970"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    Inputs in;
    cases[i].first(in);
    ExpectInvalid(SigV4Presign(in.credentials, in.scope, in.presign, in.now).status(),
                  cases[i].second);
    ExpectInvalid(SigV4SignHeaders(in.credentials, in.scope, in.header, in.now).status(),
                  cases[i].second);
  }
}

TEST(SigV4RejectTest, RejectsExpiresOutOfRange) {
  for (int64_t expires : {int64_t{0}, int64_t{-1}, kMaxPresignExpiresSeconds + 1,
                          std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(expires);
    Inputs in;
    in.presign.expires_seconds = expires;
    ExpectInvalid(SigV4Presign(in.credentials, in.scope, in.presign, in.now).status(),
                  "expires_seconds must be 1..604800");
  }
  for (int64_t expires : {kMinPresignExpiresSeconds, kMaxPresignExpiresSeconds}) {
    Inputs in;
    in.presign.expires_seconds = expires;
    Result<SigV4PresignedUrl> r = SigV4Presign(in.credentials, in.scope, in.presign, in.now);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->url.find("X-Amz-Expires=" + std::to_string(expires) + "&"), std::string::npos);
  }
}

TEST(SigV4RejectTest, RejectsReservedQueryParametersWhenPresigning) {
  for (const char* name : {"X-Amz-Signature", "x-amz-signature", "X-Amz-Credential",
                           "X-Amz-Security-Token", "X-Amz-Expires"}) {
    SCOPED_TRACE(name);
    Inputs in;
    in.presign.url.query = {{name, "v"}};
    ExpectInvalid(SigV4Presign(in.credentials, in.scope, in.presign, in.now).status(),
                  "must not contain");
  }
}

TEST(SigV4RejectTest, RejectsBadHeadersAndPayloadHash) {
  const std::vector<std::pair<std::function<void(SigV4HeaderRequest&)>, std::string>> cases = {
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range\r\nX-Evil", "1"}};
       },
       "not an HTTP token"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"X-Evil\n", "1"}};
       },
       "not an HTTP token"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"", "1"}};
       },
       "not an HTTP token"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Bad Name", "1"}};
       },
       "not an HTTP token"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range", "bytes=0-9\r\nX-Evil: 1"}};
       },
       "contains CR, LF or NUL"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range", "bytes=0-9\n"}};
       },
       "contains CR, LF or NUL"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range", std::string("a\0b", 3)}};
       },
       "contains CR, LF or NUL"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range", std::string(8193, 'v')}};
       },
       "longer than 8192"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Host", "evil.example"}};
       },
       "set by the signer"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"X-Amz-Date", "20200101T000000Z"}};
       },
       "set by the signer"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"authorization", "x"}};
       },
       "set by the signer"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"x-amz-security-token", "x"}};
       },
       "set by the signer"},
      {[](SigV4HeaderRequest& r) {
         r.headers = {{"Range", "a"}, {"range", "b"}};
       },
       "more than once"},
      {[](SigV4HeaderRequest& r) {
         r.headers.assign(kMaxSigV4Fields + 1, {"X-A", "1"});
       },
       "more than 64 headers"},
      {[](SigV4HeaderRequest& r) { r.payload_hash = ""; }, "payload hash"},
      {[](SigV4HeaderRequest& r) { r.payload_hash = "unsigned-payload"; }, "payload hash"},
      {[](SigV4HeaderRequest& r) { r.payload_hash = std::string(64, 'A'); }, "payload hash"},
      {[](SigV4HeaderRequest& r) { r.payload_hash = std::string(63, 'a'); }, "payload hash"},
      {[](SigV4HeaderRequest& r) { r.payload_hash = std::string(64, 'g'); }, "payload hash"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    Inputs in;
    cases[i].first(in.header);
    ExpectInvalid(SigV4SignHeaders(in.credentials, in.scope, in.header, in.now).status(),
                  cases[i].second);
  }
}

}  // namespace
}  // namespace parley::crypto

// src/crypto/sigv4_test.cc
//
// SigV4's building blocks (URI encoding, timestamps, URL parsing), canonicalization of paths,
// queries, headers and hosts in both signing modes, and session tokens. Published AWS vectors
// are in sigv4_vector_test.cc, rejected inputs in sigv4_reject_test.cc.
#include "crypto/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/sigv4_test_support.h"

namespace parley::crypto {
namespace {

using sigv4_testing::ExpectStepsConsistent;
using sigv4_testing::kEmptySha256;
using sigv4_testing::kExampleCredentials;
using sigv4_testing::kExampleScope;
using sigv4_testing::kExampleTime;
using sigv4_testing::Lines;
using sigv4_testing::Url;
using std::chrono::system_clock;

// ---- Building blocks ----------------------------------------------------------------------

TEST(SigV4UriEncodeTest, KeepsUnreservedAndEncodesEverythingElseUppercase) {
  EXPECT_EQ(SigV4UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(SigV4UriEncode("a b+c", false), "a%20b%2Bc");
  EXPECT_EQ(SigV4UriEncode("/a/b", true), "/a/b");
  EXPECT_EQ(SigV4UriEncode("/a/b", false), "%2Fa%2Fb");
  EXPECT_EQ(SigV4UriEncode("\xc3\xa9", true), "%C3%A9");  // é in UTF-8
  EXPECT_EQ(SigV4UriEncode("!*'();:@&=$,?#[]%", true),
            "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%3F%23%5B%5D%25");
  EXPECT_EQ(SigV4UriEncode(std::string_view("\0\x7f\xff", 3), true), "%00%7F%FF");
  EXPECT_EQ(SigV4UriEncode("", true), "");
}

TEST(SigV4TimestampTest, FormatsUtcAndTruncatesToTheSecond) {
  EXPECT_EQ(SigV4Timestamp(kExampleTime).value(), "20130524T000000Z");
  const system_clock::time_point leap_day_end =
      system_clock::time_point(std::chrono::seconds(1709251199)) + std::chrono::milliseconds(999);
  EXPECT_EQ(SigV4Timestamp(leap_day_end).value(), "20240229T235959Z");
  EXPECT_EQ(SigV4Timestamp(system_clock::time_point{}).value(), "19700101T000000Z");
}

TEST(SigV4TimestampTest, RejectsTimeBefore1970) {
  const Result<std::string> r = SigV4Timestamp(system_clock::time_point{} - std::chrono::hours(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseSigV4UrlTest, SplitsComponentsAndDecodes) {
  const SigV4Url url =
      Url("HTTP://127.0.0.1:4569/parley-media/photos/%C3%A9t%C3%A9%202024/a+b.jpg"
          "?list-type=2&prefix=a%2Fb&&uploads&empty=");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "127.0.0.1");
  ASSERT_TRUE(url.port.has_value());
  EXPECT_EQ(*url.port, 4569);
  EXPECT_EQ(url.path, "/parley-media/photos/\xc3\xa9t\xc3\xa9 2024/a+b.jpg");
  const std::vector<std::pair<std::string, std::string>> query = {
      {"list-type", "2"}, {"prefix", "a/b"}, {"uploads", ""}, {"empty", ""}};
  EXPECT_EQ(url.query, query);

  const SigV4Url bare = Url("https://examplebucket.s3.amazonaws.com");
  EXPECT_EQ(bare.path, "/");
  EXPECT_FALSE(bare.port.has_value());
  EXPECT_TRUE(bare.query.empty());

  const SigV4Url v6 = Url("http://[::1]:9000/b/k");
  EXPECT_EQ(v6.host, "[::1]");
  EXPECT_EQ(v6.port, std::optional<uint16_t>(9000));
}

TEST(ParseSigV4UrlTest, RejectsMalformedUrls) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://host/x", "scheme"},
      {"examplebucket.s3.amazonaws.com/x", "http:// or https://"},
      {"https:///x", "no host"},
      {"https://", "no host"},
      {"https://:443/x", "no host"},
      {"https://user:pw@host/x", "credentials"},
      {"https://host:0/x", "port"},
      {"https://host:70000/x", "port"},
      {"https://host:/x", "port"},
      {"https://host:12a/x", "port"},
      {"https://[::1/x", "host"},
      {"https://ho_st/x", "host"},
      {"https://host/a b", "space"},
      {"https://host/a\r\nb", "control"},
      {"https://host/\xc3\xa9", "non-ASCII"},
      {"https://host/a%zz", "%XX"},
      {"https://host/a%2", "%XX"},
      {"https://host/?k=%4", "%XX"},
      {"https://host/?=v", "without a name"},
      {"https://host/x#frag", "fragment"},
      {"https://host/" + std::string(kMaxSigV4UrlBytes, 'a'), "longer"},
  };
  for (const auto& [text, fragment] : cases) {
    SCOPED_TRACE(text.substr(0, 40));
    const Result<SigV4Url> r = ParseSigV4Url(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
  }
}

// ---- Canonicalization ---------------------------------------------------------------------

Result<SigV4SignedRequest> SignGet(SigV4Url url,
                                   std::vector<std::pair<std::string, std::string>> headers = {}) {
  return SigV4SignHeaders(kExampleCredentials, kExampleScope,
                          {.method = "GET",
                           .url = std::move(url),
                           .headers = std::move(headers),
                           .payload_hash = std::string(kUnsignedPayload)},
                          kExampleTime);
}

TEST(SigV4CanonicalTest, EncodesKeysWithSpacesUnicodeAndSpecialCharacters) {
  SigV4Url url = Url("https://s3.us-east-1.amazonaws.com");
  url.path = "/my-bucket/photos/\xc3\xa9t\xc3\xa9 2024/a+b(1)*?#%=~.jpg";
  const std::string encoded =
      "/my-bucket/photos/%C3%A9t%C3%A9%202024/a%2Bb%281%29%2A%3F%23%25%3D~.jpg";

  Result<SigV4SignedRequest> signed_request = SignGet(url);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(Lines(signed_request->steps.canonical_request)[1], encoded);
  EXPECT_EQ(signed_request->url, "https://s3.us-east-1.amazonaws.com" + encoded);
  ExpectStepsConsistent(signed_request->steps, "20130524T000000Z");

  Result<SigV4PresignedUrl> presigned = SigV4Presign(
      kExampleCredentials, kExampleScope, {.url = url, .expires_seconds = 60}, kExampleTime);
  ASSERT_TRUE(presigned.ok()) << presigned.status().ToString();
  EXPECT_EQ(Lines(presigned->steps.canonical_request)[1], encoded);
  EXPECT_TRUE(presigned->url.starts_with("https://s3.us-east-1.amazonaws.com" + encoded + "?"))
      << presigned->url;
  ExpectStepsConsistent(presigned->steps, "20130524T000000Z");
}

TEST(SigV4CanonicalTest, PercentEncodedUrlIsEncodedOnceNotTwice) {
  // A URL's %20 is a space in the key: signed (and requested) as %20, not %2520.
  Result<SigV4SignedRequest> from_url = SignGet(Url("https://h.example/b/my%20file%2Bx.txt"));
  ASSERT_TRUE(from_url.ok());
  EXPECT_EQ(Lines(from_url->steps.canonical_request)[1], "/b/my%20file%2Bx.txt");
  EXPECT_EQ(from_url->url, "https://h.example/b/my%20file%2Bx.txt");

  // A raw key holding a literal "%20" is a different object: its '%' is encoded.
  SigV4Url raw = Url("https://h.example");
  raw.path = "/b/my%20file";
  Result<SigV4SignedRequest> from_raw = SignGet(raw);
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ(Lines(from_raw->steps.canonical_request)[1], "/b/my%2520file");
}

TEST(SigV4CanonicalTest, KeepsEmptyAndRepeatedSlashesInPath) {
  // S3 keys are not normalized: "a//b" and "a/./b" are keys of their own.
  SigV4Url url = Url("https://h.example");
  url.path = "/b/a//c/./d/";
  Result<SigV4SignedRequest> signed_request = SignGet(url);
  ASSERT_TRUE(signed_request.ok());
  EXPECT_EQ(Lines(signed_request->steps.canonical_request)[1], "/b/a//c/./d/");
}

TEST(SigV4CanonicalTest, SortsQueryByEncodedKeyThenValue) {
  SigV4Url url = Url("https://h.example/bucket");
  url.query = {{"prefix", "photos/2024 06/"},
               {"list-type", "2"},
               {"continuation-token", "a+b=="},
               {"a", "2"},
               {"a", "1"},
               {"Z", "x"},
               {"\xc3\xa9", "e"},  // encodes to %C3%A9, which sorts before "A"
               {"delete", ""}};
  const std::string expected =
      "%C3%A9=e&Z=x&a=1&a=2&continuation-token=a%2Bb%3D%3D&delete=&list-type=2&"
      "prefix=photos%2F2024%2006%2F";
  Result<SigV4SignedRequest> signed_request = SignGet(url);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(Lines(signed_request->steps.canonical_request)[2], expected);
  EXPECT_EQ(signed_request->url, "https://h.example/bucket?" + expected);
  ExpectStepsConsistent(signed_request->steps, "20130524T000000Z");

  // Presigning sorts the caller's parameters among the X-Amz-* ones.
  Result<SigV4PresignedUrl> presigned = SigV4Presign(
      kExampleCredentials, kExampleScope,
      {.url = Url("https://h.example/b/k?versionId=3&response-content-type=text/plain"),
       .expires_seconds = 900},
      kExampleTime);
  ASSERT_TRUE(presigned.ok()) << presigned.status().ToString();
  EXPECT_EQ(Lines(presigned->steps.canonical_request)[2],
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=900&"
            "X-Amz-SignedHeaders=host&response-content-type=text%2Fplain&versionId=3");
}

TEST(SigV4CanonicalTest, TrimsCollapsesLowercasesAndSortsHeaders) {
  Result<SigV4SignedRequest> signed_request =
      SignGet(Url("https://h.example/b/k"), {{"X-Amz-Meta-Note", "  a   b \t c  "},
                                             {"Content-Type", "text/plain"},
                                             {"Range", "bytes=0-9"}});
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->steps.canonical_request,
            "GET\n/b/k\n\ncontent-type:text/plain\nhost:h.example\nrange:bytes=0-9\n"
            "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n"
            "x-amz-meta-note:a b c\n\n"
            "content-type;host;range;x-amz-content-sha256;x-amz-date;x-amz-meta-note\n"
            "UNSIGNED-PAYLOAD");
  ExpectStepsConsistent(signed_request->steps, "20130524T000000Z");
}

TEST(SigV4CanonicalTest, HostIncludesNonDefaultPortOnly) {
  struct Case {
    std::string url;
    std::string host;
    std::string request_url;
  };
  const std::vector<Case> cases = {
      {"http://127.0.0.1:4569/parley-media/a.txt", "127.0.0.1:4569",
       "http://127.0.0.1:4569/parley-media/a.txt"},
      {"http://localhost:9000/b/k", "localhost:9000", "http://localhost:9000/b/k"},
      {"http://[::1]:9000/b/k", "[::1]:9000", "http://[::1]:9000/b/k"},
      {"https://h.example:443/b/k", "h.example", "https://h.example/b/k"},
      {"http://h.example:80/b/k", "h.example", "http://h.example/b/k"},
      {"http://h.example:443/b/k", "h.example:443", "http://h.example:443/b/k"},
      {"https://h.example:80/b/k", "h.example:80", "https://h.example:80/b/k"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    Result<SigV4SignedRequest> signed_request = SignGet(Url(c.url));
    ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
    EXPECT_EQ(signed_request->host, c.host);
    EXPECT_EQ(signed_request->url, c.request_url);
    EXPECT_EQ(Lines(signed_request->steps.canonical_request)[3], "host:" + c.host);

    Result<SigV4PresignedUrl> presigned =
        SigV4Presign(kExampleCredentials, kExampleScope, {.url = Url(c.url), .expires_seconds = 60},
                     kExampleTime);
    ASSERT_TRUE(presigned.ok()) << presigned.status().ToString();
    EXPECT_EQ(Lines(presigned->steps.canonical_request)[3], "host:" + c.host);
    EXPECT_TRUE(presigned->url.starts_with(c.request_url + "?X-Amz-Algorithm=")) << presigned->url;
  }
}

TEST(SigV4CanonicalTest, SignsEveryMethodTheClientUses) {
  const std::string body_hash = HexEncode(Sha256("<CreateBucketConfiguration/>"));
  struct Case {
    std::string method;
    std::string url;
    std::string payload_hash;
  };
  const std::vector<Case> cases = {
      {"PUT", "http://127.0.0.1:4569/parley-media/k.bin", HexEncode(Sha256("bytes"))},
      {"GET", "http://127.0.0.1:4569/parley-media/k.bin", std::string(kEmptySha256)},
      {"HEAD", "http://127.0.0.1:4569/parley-media/k.bin", std::string(kEmptySha256)},
      {"DELETE", "http://127.0.0.1:4569/parley-media/k.bin", std::string(kEmptySha256)},
      {"PUT", "http://127.0.0.1:4569/parley-media", body_hash},
      {"GET", "http://127.0.0.1:4569/parley-media?list-type=2&prefix=t1/",
       std::string(kUnsignedPayload)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.url);
    Result<SigV4SignedRequest> signed_request = SigV4SignHeaders(
        kExampleCredentials, kExampleScope,
        {.method = c.method, .url = Url(c.url), .payload_hash = c.payload_hash}, kExampleTime);
    ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
    const std::vector<std::string> lines = Lines(signed_request->steps.canonical_request);
    EXPECT_EQ(lines.front(), c.method);
    EXPECT_EQ(lines.back(), c.payload_hash);
    EXPECT_EQ(signed_request->headers.at(2),
              std::make_pair(std::string("x-amz-content-sha256"), c.payload_hash));
    ExpectStepsConsistent(signed_request->steps, "20130524T000000Z");
  }
}

// The Authorization header, not just the signature: SigV4 signs the scope's date, region and
// service but not the access key id, which only the header names.
TEST(SigV4CanonicalTest, AuthorizationDependsOnEveryInput) {
  const SigV4HeaderRequest base{.method = "GET",
                                .url = Url("https://h.example/b/k?x=1"),
                                .headers = {{"Range", "bytes=0-9"}},
                                .payload_hash = std::string(kEmptySha256)};
  const std::string reference =
      SigV4SignHeaders(kExampleCredentials, kExampleScope, base, kExampleTime)
          ->headers.at(0)
          .second;
  std::vector<std::function<void(AwsCredentials&, SigV4Scope&, SigV4HeaderRequest&,
                                 system_clock::time_point&)>>
      changes = {
          [](auto& c, auto&, auto&, auto&) { c.secret_access_key += "x"; },
          [](auto& c, auto&, auto&, auto&) { c.access_key_id += "X"; },
          [](auto& c, auto&, auto&, auto&) { c.session_token = "token"; },
          [](auto&, auto& s, auto&, auto&) { s.region = "eu-west-1"; },
          [](auto&, auto&, auto& r, auto&) { r.method = "HEAD"; },
          [](auto&, auto&, auto& r, auto&) { r.url.path = "/b/K"; },
          [](auto&, auto&, auto& r, auto&) { r.url.query[0].second = "2"; },
          [](auto&, auto&, auto& r, auto&) { r.url.port = 8443; },
          [](auto&, auto&, auto& r, auto&) { r.headers[0].second = "bytes=0-8"; },
          [](auto&, auto&, auto& r, auto&) { r.payload_hash = kUnsignedPayload; },
          [](auto&, auto&, auto&, auto& t) { t += std::chrono::seconds(1); },
      };
  for (size_t i = 0; i < changes.size(); ++i) {
    SCOPED_TRACE(i);
    AwsCredentials credentials = kExampleCredentials;
    SigV4Scope scope = kExampleScope;
    SigV4HeaderRequest request = base;
    system_clock::time_point time = kExampleTime;
    changes[i](credentials, scope, request, time);
    Result<SigV4SignedRequest> r = SigV4SignHeaders(credentials, scope, request, time);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->headers.at(0).second, reference);
  }
}

// ---- Session tokens -----------------------------------------------------------------------

const AwsCredentials kTemporaryCredentials{"ASIAIOSFODNN7EXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                           "FwoGZXIvYXdzEJr//////////wEaDOx+tok=="};
constexpr std::string_view kEncodedToken =
    "FwoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDOx%2Btok%3D%3D";

TEST(SigV4SessionTokenTest, PresignSignsTokenInCanonicalQuery) {
  Result<SigV4PresignedUrl> presigned = SigV4Presign(
      kTemporaryCredentials, kExampleScope,
      {.url = Url("https://examplebucket.s3.amazonaws.com/test.txt"), .expires_seconds = 3600},
      kExampleTime);
  ASSERT_TRUE(presigned.ok()) << presigned.status().ToString();
  const std::string query =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20130524%2F"
      "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&"
      "X-Amz-Security-Token=" +
      std::string(kEncodedToken) + "&X-Amz-SignedHeaders=host";
  EXPECT_EQ(Lines(presigned->steps.canonical_request)[2], query);
  EXPECT_EQ(presigned->url, "https://examplebucket.s3.amazonaws.com/test.txt?" + query +
                                "&X-Amz-Signature=" + presigned->steps.signature);
  ExpectStepsConsistent(presigned->steps, "20130524T000000Z", kTemporaryCredentials);
}

TEST(SigV4SessionTokenTest, HeaderAuthSignsAndReturnsTokenHeader) {
  Result<SigV4SignedRequest> signed_request =
      SigV4SignHeaders(kTemporaryCredentials, kExampleScope,
                       {.method = "GET",
                        .url = Url("https://examplebucket.s3.amazonaws.com/test.txt"),
                        .payload_hash = std::string(kEmptySha256)},
                       kExampleTime);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  const std::vector<std::string> lines = Lines(signed_request->steps.canonical_request);
  EXPECT_EQ(lines[6], "x-amz-security-token:" + kTemporaryCredentials.session_token);
  EXPECT_EQ(lines[8], "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  ASSERT_EQ(signed_request->headers.size(), 4u);
  EXPECT_EQ(signed_request->headers[3], std::make_pair(std::string("x-amz-security-token"),
                                                       kTemporaryCredentials.session_token));
  EXPECT_NE(signed_request->headers[0].second.find(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  ExpectStepsConsistent(signed_request->steps, "20130524T000000Z", kTemporaryCredentials);
}

}  // namespace
}  // namespace parley::crypto

// src/crypto/sigv4_test_support.h — for the tests of sigv4.h only (sigv4_test.cc,
// sigv4_vector_test.cc, sigv4_reject_test.cc); not part of parley_crypto.
//
// AWS's example credentials, scope and time from the S3 SigV4 documentation, and checks
// shared by the test files:
//
//   Result<SigV4SignedRequest> r = SigV4SignHeaders(kExampleCredentials, kExampleScope,
//                                                   {.url = Url("https://h.example/b/k"), …},
//                                                   kExampleTime);
//   ExpectStepsConsistent(r->steps, "20130524T000000Z");
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/sigv4.h"

namespace parley::crypto::sigv4_testing {

// AWS's example credentials, scope and time (20130524T000000Z) from the S3 SigV4 docs.
inline const AwsCredentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE",
                                                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
inline const SigV4Scope kExampleScope{"us-east-1", "s3"};
inline const std::chrono::system_clock::time_point kExampleTime{std::chrono::seconds(1369353600)};
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// `text` parsed with ParseSigV4Url; a parse failure fails the test and gives an empty URL.
inline SigV4Url Url(std::string_view text) {
  Result<SigV4Url> url = ParseSigV4Url(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status().ToString();
  return url.ok() ? *url : SigV4Url{};
}

// `text` split at each '\n' (a trailing '\n' gives a last, empty line).
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line, '\n');) lines.push_back(line);
  if (!text.empty() && text.back() == '\n') lines.emplace_back();
  return lines;
}

// The steps agree with each other: string to sign over the canonical request's hash,
// signing key from the secret, signature over the string to sign.
inline void ExpectStepsConsistent(const SigV4Steps& steps, std::string_view amz_date,
                                  const AwsCredentials& credentials = kExampleCredentials,
                                  const SigV4Scope& scope = kExampleScope) {
  const std::string date(amz_date.substr(0, 8));
  EXPECT_EQ(steps.string_to_sign, "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + date + "/" +
                                      scope.region + "/" + scope.service + "/aws4_request\n" +
                                      HexEncode(Sha256(steps.canonical_request)));
  EXPECT_EQ(steps.signing_key,
            SigV4SigningKey(credentials.secret_access_key, date, scope.region, scope.service));
  EXPECT_EQ(steps.signature, HexEncode(HmacSha256(steps.signing_key, steps.string_to_sign)));
}

}  // namespace parley::crypto::sigv4_testing

#include "crypto/signing.h"

#include <gtest/gtest.h>

#include <cctype>
#include <limits>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kTolerance = 300;
const std::string kBody = R"({"id":"ev_1"})";

void ExpectUnauthenticated(const Status& s, std::string_view fragment) {
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
}

TEST(SignatureHeaderTest, HasDocumentedShape) {
  const std::string header = SignatureHeader({"whsec"}, kNow, kBody);
  const std::string expected_mac =
      HexEncode(HmacSha256("whsec", std::to_string(kNow) + "." + kBody));
  EXPECT_EQ(header, "t=1700000000,v1=" + expected_mac);
}

TEST(SignatureHeaderTest, SignsWithEverySecretDuringRotation) {
  const std::string header = SignatureHeader({"old", "new"}, kNow, kBody);
  EXPECT_EQ(header.size(), std::string("t=1700000000").size() + 2 * (4 + 64));
  EXPECT_TRUE(VerifySignatureHeader(header, {"old"}, kBody, kNow, kTolerance).ok());
  EXPECT_TRUE(VerifySignatureHeader(header, {"new"}, kBody, kNow, kTolerance).ok());
  EXPECT_TRUE(VerifySignatureHeader(header, {"unrelated", "new"}, kBody, kNow, kTolerance).ok());
}

TEST(VerifySignatureTest, AcceptsOldHeaderWithNewSecrets) {
  // The sender still signs with the old secret only; the receiver already has both.
  const std::string header = SignatureHeader({"old"}, kNow, kBody);
  EXPECT_TRUE(VerifySignatureHeader(header, {"new", "old"}, kBody, kNow, kTolerance).ok());
}

TEST(VerifySignatureTest, AcceptsEdgesOfWindowAndRejectsBeyond) {
  EXPECT_TRUE(VerifySignatureHeader(SignatureHeader({"s"}, kNow - kTolerance, kBody), {"s"}, kBody,
                                    kNow, kTolerance)
                  .ok());
  EXPECT_TRUE(VerifySignatureHeader(SignatureHeader({"s"}, kNow + kTolerance, kBody), {"s"}, kBody,
                                    kNow, kTolerance)
                  .ok());
  ExpectUnauthenticated(VerifySignatureHeader(SignatureHeader({"s"}, kNow - kTolerance - 1, kBody),
                                              {"s"}, kBody, kNow, kTolerance),
                        "too old");
  ExpectUnauthenticated(VerifySignatureHeader(SignatureHeader({"s"}, kNow + kTolerance + 1, kBody),
                                              {"s"}, kBody, kNow, kTolerance),
                        "future");
}

TEST(VerifySignatureTest, RejectsTamperedBodyWrongSecretAndNoSecrets) {
  const std::string header = SignatureHeader({"s"}, kNow, kBody);
  ExpectUnauthenticated(VerifySignatureHeader(header, {"s"}, kBody + " ", kNow, kTolerance),
                        "no matching");
  ExpectUnauthenticated(VerifySignatureHeader(header, {"other"}, kBody, kNow, kTolerance),
                        "no matching");
  ExpectUnauthenticated(VerifySignatureHeader(header, {}, kBody, kNow, kTolerance), "no matching");
}

TEST(VerifySignatureTest, RejectsTimestampChangedAfterSigning) {
  const std::string header = SignatureHeader({"s"}, kNow, kBody);
  std::string moved = header;
  moved.replace(2, 10, "1700000001");
  ExpectUnauthenticated(VerifySignatureHeader(moved, {"s"}, kBody, kNow, kTolerance),
                        "no matching");
}

TEST(VerifySignatureTest, AcceptsUppercaseHexAndIgnoresUnknownSchemes) {
  std::string header = SignatureHeader({"s"}, kNow, kBody);
  const std::string mac = header.substr(header.find("v1=") + 3);
  std::string upper = mac;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifySignatureHeader("v0=abc,t=1700000000,v1=" + upper + ",v2=zzz", {"s"}, kBody,
                                    kNow, kTolerance)
                  .ok());
}

TEST(VerifySignatureTest, RejectsMalformedHeaders) {
  const std::string mac = std::string(64, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "missing"},
      {"v1=" + mac, "no t"},
      {"t=1700000000", "no v1"},
      {"t=abc,v1=" + mac, "unix seconds"},
      {"t=-1,v1=" + mac, "unix seconds"},
      {"t=,v1=" + mac, "unix seconds"},
      {"t=1e9,v1=" + mac, "unix seconds"},
      {"t=1234567890123,v1=" + mac, "unix seconds"},
      {"t=1700000000,t=1700000000,v1=" + mac, "more than one t"},
      {"t=1700000000,v1=abcd", "64 hex"},
      {"t=1700000000,v1=" + std::string(64, 'g'), "64 hex"},
      {"t=1700000000,,v1=" + mac, "key=value"},
      {"t=1700000000,v1=" + mac + ",", "key=value"},
      // " v1" is an unknown key (no spaces allowed), so no v1 remains.
      {"t=1700000000, v1=" + mac, "no v1"},
      {"t=1700000000,=x,v1=" + mac, "key=value"},
      {"garbage", "key=value"},
  };
  for (const auto& [header, fragment] : cases) {
    SCOPED_TRACE(header);
    ExpectUnauthenticated(VerifySignatureHeader(header, {"s"}, kBody, kNow, kTolerance), fragment);
  }
}

TEST(VerifySignatureTest, RejectsHugeHeaderAndTooManySignatures) {
  const std::string valid = SignatureHeader({"s"}, kNow, kBody);
  ExpectUnauthenticated(
      VerifySignatureHeader(valid + ",x=" + std::string(2000, 'a'), {"s"}, kBody, kNow, kTolerance),
      "too long");
  std::string many = "t=1700000000";
  for (int i = 0; i < 9; ++i) many += ",v1=" + std::string(64, 'a');
  ExpectUnauthenticated(VerifySignatureHeader(many, {"s"}, kBody, kNow, kTolerance), "too many");
}

TEST(VerifySignatureTest, ExtremeClockValuesDoNotOverflow) {
  const std::string header = SignatureHeader({"s"}, kNow, kBody);
  ExpectUnauthenticated(
      VerifySignatureHeader(header, {"s"}, kBody, std::numeric_limits<int64_t>::min(), kTolerance),
      "future");
  ExpectUnauthenticated(
      VerifySignatureHeader(header, {"s"}, kBody, std::numeric_limits<int64_t>::max(), kTolerance),
      "too old");
}

}  // namespace
}  // namespace parley::crypto

// src/crypto/jwt_test.cc
//
// VerifyHs256Jwt against the RFC 7515 Appendix A.1 example and tokens signed here: each
// rule of jwt.h with its accepted and rejected side, and error messages free of secrets.
#include "crypto/jwt.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {
namespace {

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret = "conn-secret-SENTINEL-7f3a";
const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";

TimePoint At(int64_t unix_seconds) { return TimePoint(std::chrono::seconds(unix_seconds)); }

// "<b64url header>.<b64url payload>.<b64url HMAC-SHA256>", as a business's server makes it.
std::string Sign(std::string_view header, std::string_view payload,
                 std::string_view secret = kSecret) {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return input + "." + Base64UrlEncode(HmacSha256(secret, input));
}

// A payload expiring in 10 minutes, with `extra` members appended (",\"iat\":1").
std::string Claims(std::string_view extra = "") {
  return R"({"sub":"user-42","authenticated":true,"exp":)" + std::to_string(kNow + 600) +
         std::string(extra) + "}";
}

std::string Dates(std::string_view members) { return "{" + std::string(members) + "}"; }

Result<VerifiedJwt> Verify(std::string_view token, const JwtOptions& options = {}) {
  return VerifyHs256Jwt(token, kSecret, At(kNow), options);
}

void ExpectError(const Result<VerifiedJwt>& r, StatusCode code, std::string_view message) {
  ASSERT_FALSE(r.ok()) << "accepted, expected: " << message;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "private data token: " + std::string(message));
}

void ExpectMalformed(const Result<VerifiedJwt>& r, std::string_view why) {
  ExpectError(r, StatusCode::kInvalidArgument, "malformed: " + std::string(why));
}

void ExpectRejected(const Result<VerifiedJwt>& r, std::string_view message) {
  ExpectError(r, StatusCode::kUnauthenticated, message);
}

// Replaces one segment (0 header, 1 payload, 2 signature) of a compact token.
std::string WithSegment(const std::string& token, int index, std::string_view segment) {
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  const std::string parts[3] = {token.substr(0, first), token.substr(first + 1, second - first - 1),
                                token.substr(second + 1)};
  std::string out;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) out += '.';
    out += i == index ? std::string(segment) : parts[i];
  }
  return out;
}

// RFC 7515 Appendix A.1: header {"typ":"JWT",\r\n "alg":"HS256"}, payload
// {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}.
constexpr std::string_view kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kRfcJwkK =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr int64_t kRfcExp = 1300819380;

TEST(JwtTest, VerifiesRfc7515AppendixA1Example) {
  Result<std::string> key = Base64UrlDecode(kRfcJwkK);
  ASSERT_TRUE(key.ok());
  Result<VerifiedJwt> r = VerifyHs256Jwt(kRfcToken, *key, At(kRfcExp - 3600));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->claims.at("iss").as_string(), "joe");
  EXPECT_EQ(r->claims.at("exp").to_number<int64_t>(), kRfcExp);
  EXPECT_TRUE(r->claims.at("http://example.com/is_root").as_bool());

  ExpectRejected(VerifyHs256Jwt(kRfcToken, *key, At(kRfcExp + 61)), "expired");
  ExpectRejected(VerifyHs256Jwt(kRfcToken, "other key", At(kRfcExp - 3600)), "bad signature");
}

TEST(JwtTest, AcceptsValidTokenAndReturnsItsClaims) {
  Result<VerifiedJwt> r = Verify(Sign(kHeader, Claims(R"(,"iat":1700000000,"nbf":1700000000)")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->claims.at("sub").as_string(), "user-42");
  EXPECT_TRUE(r->claims.at("authenticated").as_bool());
  EXPECT_EQ(r->claims.size(), 5u);
}

TEST(JwtTest, AcceptsHeaderVariants) {
  for (const char* header : {R"({"alg":"HS256"})", R"({"typ":"jwt","alg":"HS256"})",
                             R"({ "alg" : "HS256", "typ": "Jwt", "kid": "k1" })"}) {
    EXPECT_TRUE(Verify(Sign(header, Claims())).ok()) << header;
  }
}

TEST(JwtTest, RejectsTamperedPayloadAndSignature) {
  const std::string token = Sign(kHeader, Claims());
  ExpectRejected(Verify(WithSegment(token, 1, Base64UrlEncode(Claims(R"(,"admin":true)")))),
                 "bad signature");
  std::string signature = Base64UrlEncode(HmacSha256(kSecret, "x"));
  ExpectRejected(Verify(WithSegment(token, 2, signature)), "bad signature");
  signature = token.substr(token.rfind('.') + 1);
  signature[0] = signature[0] == 'A' ? 'B' : 'A';
  ExpectRejected(Verify(WithSegment(token, 2, signature)), "bad signature");
}

TEST(JwtTest, RejectsWrongOrEmptySecret) {
  ExpectRejected(Verify(Sign(kHeader, Claims(), "another-connection")), "bad signature");
  ExpectError(VerifyHs256Jwt(Sign(kHeader, Claims(), ""), "", At(kNow)),
              StatusCode::kInvalidArgument, "no secret configured");
}

TEST(JwtTest, RejectsEveryAlgButHs256) {
  for (const char* header :
       {R"({"alg":"none"})", R"({"alg":"HS384"})", R"({"alg":"HS512"})", R"({"alg":"RS256"})",
        R"({"alg":"ES256"})", R"({"alg":"hs256"})", R"({"alg":"Hs256"})", R"({"alg":"HS256 "})",
        R"({"alg":""})", R"({"typ":"JWT"})", R"({"alg":256})", R"({"alg":null})",
        R"({"alg":["HS256"]})"}) {
    // Correctly HMAC-signed, so only the alg can be the reason.
    ExpectError(Verify(Sign(header, Claims())), StatusCode::kInvalidArgument,
                "unsupported alg (only HS256)");
  }
  // The usual "alg":"none" token has an empty signature.
  const std::string unsigned_token =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(Claims()) + ".";
  ExpectMalformed(Verify(unsigned_token), "empty segment");
}

TEST(JwtTest, RejectsCritAndOtherTyp) {
  ExpectError(Verify(Sign(R"({"alg":"HS256","crit":["exp"],"exp":1})", Claims())),
              StatusCode::kInvalidArgument, "unsupported crit header");
  ExpectError(Verify(Sign(R"({"alg":"HS256","crit":[]})", Claims())), StatusCode::kInvalidArgument,
              "unsupported crit header");
  for (const char* header : {R"({"alg":"HS256","typ":"JWS"})", R"({"alg":"HS256","typ":""})",
                             R"({"alg":"HS256","typ":"JWT "})", R"({"alg":"HS256","typ":1})"}) {
    ExpectError(Verify(Sign(header, Claims())), StatusCode::kInvalidArgument,
                "unsupported typ (only JWT)");
  }
}

TEST(JwtTest, RejectsSignatureOfWrongLength) {
  const std::string token = Sign(kHeader, Claims());
  const std::string mac = HmacSha256(kSecret, token.substr(0, token.rfind('.')));
  ExpectMalformed(Verify(WithSegment(token, 2, Base64UrlEncode(mac.substr(0, 31)))),
                  "signature is not 32 bytes");
  ExpectMalformed(Verify(WithSegment(token, 2, Base64UrlEncode(mac + mac))),
                  "signature is not 32 bytes");
}

TEST(JwtTest, ExpiryAllowsLeewayOnly) {
  EXPECT_TRUE(Verify(Sign(kHeader, Dates("\"exp\":1699999941"))).ok());           // 59 s ago
  ExpectRejected(Verify(Sign(kHeader, Dates("\"exp\":1699999940"))), "expired");  // 60 s ago
  ExpectRejected(Verify(Sign(kHeader, Dates("\"exp\":1690000000"))), "expired");
  ExpectRejected(Verify(Sign(kHeader, Dates("\"exp\":-5"))), "expired");
  const JwtOptions strict{.leeway = std::chrono::seconds(0)};
  ExpectRejected(Verify(Sign(kHeader, Dates("\"exp\":1700000000")), strict), "expired");
  EXPECT_TRUE(Verify(Sign(kHeader, Dates("\"exp\":1700000000.5")), strict).ok());
}

TEST(JwtTest, NotBeforeAndIssuedAtAllowLeewayOnly) {
  EXPECT_TRUE(Verify(Sign(kHeader, Claims(R"(,"nbf":1700000060)"))).ok());
  ExpectRejected(Verify(Sign(kHeader, Claims(R"(,"nbf":1700000061)"))), "not yet valid (nbf)");
  EXPECT_TRUE(Verify(Sign(kHeader, Claims(R"(,"iat":1700000060)"))).ok());
  ExpectRejected(Verify(Sign(kHeader, Claims(R"(,"iat":1700000061)"))),
                 "issued in the future (iat)");
}

TEST(JwtTest, RejectsLifetimeTooLong) {
  EXPECT_TRUE(Verify(Sign(kHeader, Dates(R"("iat":1700000000,"exp":1700086400)"))).ok());
  ExpectRejected(Verify(Sign(kHeader, Dates(R"("iat":1700000000,"exp":1700086401)"))),
                 "lifetime too long");
  // Without iat the lifetime counts from now.
  EXPECT_TRUE(Verify(Sign(kHeader, Dates(R"("exp":1700086400)"))).ok());
  ExpectRejected(Verify(Sign(kHeader, Dates(R"("exp":1700086401)"))), "lifetime too long");
  // An old iat makes an otherwise short remaining life too long.
  ExpectRejected(Verify(Sign(kHeader, Dates(R"("iat":1600000000,"exp":1700000100)"))),
                 "lifetime too long");
  ExpectRejected(Verify(Sign(kHeader, Dates(R"("exp":18446744073709551615)"))),
                 "lifetime too long");
  const JwtOptions short_lived{.max_lifetime = std::chrono::seconds(300)};
  ExpectRejected(Verify(Sign(kHeader, Claims()), short_lived), "lifetime too long");
  EXPECT_TRUE(Verify(Sign(kHeader, Dates(R"("exp":1700000300)")), short_lived).ok());
}

TEST(JwtTest, RequiresExpUnlessConfiguredOtherwise) {
  const std::string token = Sign(kHeader, R"({"sub":"user-42","iat":1700000000})");
  ExpectRejected(Verify(token), "no exp claim");
  EXPECT_TRUE(Verify(token, {.require_exp = false}).ok());
  ExpectRejected(Verify(Sign(kHeader, R"({"nbf":1800000000})"), {.require_exp = false}),
                 "not yet valid (nbf)");
}

TEST(JwtTest, RejectsNonNumericTimeClaims) {
  ExpectMalformed(Verify(Sign(kHeader, Dates(R"("exp":"1700000600")"))), "exp is not a number");
  ExpectMalformed(Verify(Sign(kHeader, Dates(R"("exp":null)"))), "exp is not a number");
  ExpectMalformed(Verify(Sign(kHeader, Dates(R"("exp":true)"))), "exp is not a number");
  ExpectMalformed(Verify(Sign(kHeader, Claims(R"(,"nbf":"soon")"))), "nbf is not a number");
  ExpectMalformed(Verify(Sign(kHeader, Claims(R"(,"iat":[1700000000])"))), "iat is not a number");
  ExpectMalformed(Verify(Sign(kHeader, Claims(R"(,"nbf":{})")), {.require_exp = false}),
                  "nbf is not a number");
}

TEST(JwtTest, RejectsNonFiniteNumbersAnywhere) {
  ExpectMalformed(Verify(Sign(kHeader, Dates(R"("exp":1e400)"))), "number out of range");
  ExpectMalformed(Verify(Sign(kHeader, Claims(R"(,"score":{"x":[-1e999]})"))),
                  "number out of range");
  ExpectMalformed(Verify(Sign(R"({"alg":"HS256","x":1e400})", Claims())), "number out of range");
}

TEST(JwtTest, RejectsPaddingAndForeignCharacters) {
  // 25 header bytes encode to 34 characters, which padding brings to 36.
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","kid":"k"})");
  ASSERT_EQ(header.size(), 34u);
  const std::string input = header + "==." + Base64UrlEncode(Claims());
  const std::string padded = input + "." + Base64UrlEncode(HmacSha256(kSecret, input));
  ExpectMalformed(Verify(padded), "segment is not base64url");
  const std::string token = Sign(kHeader, Claims());
  ExpectMalformed(Verify(token + "="), "segment is not base64url");
  ExpectMalformed(Verify(" " + token), "segment is not base64url");
  ExpectMalformed(Verify(token + "\n"), "segment is not base64url");
  std::string standard_alphabet = token;
  standard_alphabet[token.rfind('.') + 1] = '+';
  ExpectMalformed(Verify(standard_alphabet), "segment is not base64url");
}

TEST(JwtTest, RejectsNonCanonicalBase64) {
  const std::string token = Sign(kHeader, Claims());
  // The last of 43 characters carries 4 bits and 2 zero bits; setting one gives another
  // spelling of the same MAC, which must not verify.
  std::string signature = token.substr(token.rfind('.') + 1);
  ASSERT_EQ(signature.size(), 43u);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  signature.back() = alphabet[alphabet.find(signature.back()) | 1];
  ExpectMalformed(Verify(WithSegment(token, 2, signature)), "segment is not canonical base64url");
  ExpectMalformed(Verify(WithSegment(token, 0, Base64UrlEncode(kHeader) + "A")),
                  "segment is not canonical base64url");
}

TEST(JwtTest, RejectsWrongNumberOfSegments) {
  const std::string token = Sign(kHeader, Claims());
  const std::string two = token.substr(0, token.rfind('.'));
  for (const std::string& bad : {std::string(), two, token + ".", token + "." + two,
                                 "." + token.substr(token.find('.') + 1), std::string("..")}) {
    EXPECT_FALSE(Verify(bad).ok()) << bad;
  }
  ExpectMalformed(Verify(""), "expected three segments");
  ExpectMalformed(Verify(two), "expected three segments");
  ExpectMalformed(Verify(token + "." + token.substr(token.rfind('.') + 1)),
                  "expected three segments");
  ExpectMalformed(Verify("." + token.substr(token.find('.') + 1)), "empty segment");
  ExpectMalformed(Verify(WithSegment(token, 1, "")), "empty segment");
}

TEST(JwtTest, RejectsOversizeTokenBeforeParsing) {
  const std::string big = Sign(kHeader, Claims(",\"pad\":\"" + std::string(6200, 'x') + "\""));
  ASSERT_GT(big.size(), 8192u);
  ExpectError(Verify(big), StatusCode::kInvalidArgument, "too large");
  EXPECT_TRUE(Verify(big, {.max_token_bytes = big.size()}).ok());
  ExpectError(Verify(big, {.max_token_bytes = big.size() - 1}), StatusCode::kInvalidArgument,
              "too large");
  // The bound comes first: even garbage of that size gets the same answer.
  ExpectError(Verify(std::string(9000, '!')), StatusCode::kInvalidArgument, "too large");
}

TEST(JwtTest, RejectsNonObjectOrInvalidJson) {
  for (const char* payload : {"[]", "\"user-42\"", "1700000600", "null"}) {
    ExpectMalformed(Verify(Sign(kHeader, payload)), "payload is not a JSON object");
  }
  for (const char* payload : {"{", R"({"exp":1700000600}x)", R"({"exp":1700000600,})", "{/*c*/}",
                              "{\"s\":\"\xff\"}", ""}) {
    ExpectMalformed(Verify(Sign(kHeader, payload)),
                    *payload == '\0' ? "empty segment" : "payload is not JSON");
  }
  ExpectMalformed(Verify(Sign("[\"HS256\"]", Claims())), "header is not a JSON object");
  ExpectMalformed(Verify(Sign("alg=HS256", Claims())), "header is not JSON");
}

TEST(JwtTest, ChecksSignatureBeforeLookingAtThePayload) {
  const std::string token = Sign(kHeader, "not json");
  ExpectMalformed(Verify(token), "payload is not JSON");
  ExpectRejected(VerifyHs256Jwt(token, "wrong", At(kNow)), "bad signature");
  ExpectRejected(Verify(Sign(kHeader, Dates(R"("exp":"x")"), "wrong")), "bad signature");
}

// jwt.h documents this: Boost.JSON 1.81 cannot refuse duplicate names, the last one wins.
TEST(JwtTest, DuplicateNamesKeepTheLastValue) {
  Result<VerifiedJwt> r = Verify(Sign(kHeader, Claims(R"(,"sub":"user-43")")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->claims.at("sub").as_string(), "user-43");
  EXPECT_TRUE(Verify(Sign(R"({"alg":"none","alg":"HS256"})", Claims())).ok());
  EXPECT_FALSE(Verify(Sign(R"({"alg":"HS256","alg":"none"})", Claims())).ok());
  ExpectRejected(Verify(Sign(kHeader, Claims(R"(,"exp":1600000000)"))), "expired");
}

TEST(JwtTest, ErrorsNeverContainTheTokenSecretOrClaimValues) {
  const std::string value = "CLAIM-SENTINEL";
  const std::string with_value = R"(,"user":")" + value + R"(")";
  std::vector<std::string> tokens = {
      Sign(kHeader, Claims(with_value), "other-secret"),
      Sign(kHeader, Dates(R"("exp":1600000000)" + with_value)),
      Sign(kHeader, Dates(R"("exp":")" + value + R"(")")),
      Sign(kHeader, Claims(R"(,"nbf":1800000000)" + with_value)),
      Sign(kHeader, Claims(R"(,"iat":1800000000)" + with_value)),
      Sign(kHeader, Dates(R"("exp":1900000000)" + with_value)),
      Sign(kHeader, R"({"user":")" + value + R"("})"),
      Sign(kHeader, "[\"" + value + "\"]"),
      Sign(R"({"alg":")" + value + R"("})", Claims()),
      Sign(R"({"alg":"HS256","typ":")" + value + R"("})", Claims()),
      Sign(kHeader, Claims(with_value)) + "." + value,
      Sign(kHeader, Claims(with_value)) + "=",
  };
  tokens.push_back(kSecret + "." + kSecret + "." + kSecret);
  tokens.push_back(
      Sign(kHeader, Claims(with_value + ",\"pad\":\"" + std::string(9000, 'x') + "\"")));
  for (const std::string& token : tokens) {
    Result<VerifiedJwt> r = Verify(token);
    ASSERT_FALSE(r.ok()) << token;
    const std::string& message = r.status().message();
    EXPECT_EQ(message.rfind("private data token: ", 0), 0u) << message;
    EXPECT_EQ(message.find(value), std::string::npos) << message;
    EXPECT_EQ(message.find("SENTINEL"), std::string::npos) << message;
    EXPECT_EQ(message.find(token.substr(0, 8)), std::string::npos) << message;
    EXPECT_LT(message.size(), 80u) << message;
  }
}

}  // namespace
}  // namespace parley::crypto

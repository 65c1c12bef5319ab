#include "channels/meta/meta_common.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#ifndef PARLEY_FIXTURES_DIR
#error "PARLEY_FIXTURES_DIR must name ../shared/fixtures (set in src/channels/CMakeLists.txt)"
#endif

namespace parley::channels::meta {
namespace {

namespace json = boost::json;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

http::Request Signed(std::string body, std::string header) {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  r.headers.emplace_back("x-hub-signature-256", std::move(header));
  return r;
}

TEST(MetaSignatureTest, PublishedVectorsVerify) {
  json::value vectors = json::parse(ReadFixture("signature_vectors.json"));
  int checked = 0;
  for (const auto& v : vectors.at("vectors").as_array()) {
    const json::object& o = v.as_object();
    if (!o.contains("header") || o.at("header").as_string() != "X-Hub-Signature-256") continue;
    std::string secret(o.at("secret").as_string());
    std::string body = o.contains("body_file")
                           ? ReadFixture(std::string(o.at("body_file").as_string()))
                           : std::string(o.at("body").as_string());
    std::string header = o.contains("expected_header")
                             ? std::string(o.at("expected_header").as_string())
                             : std::string(o.at("expected").as_string());
    if (o.contains("body_len")) {
      ASSERT_EQ(body.size(), static_cast<size_t>(o.at("body_len").as_int64()));
    }
    EXPECT_TRUE(VerifyHubSignature(Signed(body, header), secret).ok()) << secret;
    // One byte changed in the body, the secret or the signature fails.
    std::string altered_body = body;
    altered_body[altered_body.size() / 2] ^= 0x01;
    EXPECT_EQ(VerifyHubSignature(Signed(altered_body, header), secret).code(),
              StatusCode::kUnauthenticated);
    std::string altered_secret = secret;
    altered_secret[0] ^= 0x01;
    EXPECT_EQ(VerifyHubSignature(Signed(body, header), altered_secret).code(),
              StatusCode::kUnauthenticated);
    std::string altered_header = header;
    altered_header.back() = altered_header.back() == '0' ? '1' : '0';
    EXPECT_EQ(VerifyHubSignature(Signed(body, altered_header), secret).code(),
              StatusCode::kUnauthenticated);
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(MetaSignatureTest, RejectsMissingAndMalformedHeaders) {
  http::Request none;
  none.body = "hello world";
  EXPECT_EQ(VerifyHubSignature(none, "sesame").code(), StatusCode::kUnauthenticated);
  for (std::string bad : {"", "sha256=", "sha1=f39034b29165ec6a5104d9aef27266484ab26c8c",
                          "sha256=zz9034b29165ec6a5104d9aef27266484ab26c8caa7bca8bcb2dd02e8be61b17",
                          "f39034b29165ec6a5104d9aef27266484ab26c8caa7bca8bcb2dd02e8be61b17"}) {
    EXPECT_EQ(VerifyHubSignature(Signed("hello world", bad), "sesame").code(),
              StatusCode::kUnauthenticated)
        << bad;
  }
  EXPECT_EQ(VerifyHubSignature(Signed("hello world",
                                      "sha256=f39034b29165ec6a5104d9aef27266484ab26c8caa7bca8bcb2"
                                      "dd02e8be61b17"),
                               "")
                .code(),
            StatusCode::kUnauthenticated);
}

http::Request Handshake(std::string mode, std::string token, std::string challenge) {
  http::Request r;
  r.method = "GET";
  r.query["hub.mode"] = std::move(mode);
  r.query["hub.verify_token"] = std::move(token);
  r.query["hub.challenge"] = std::move(challenge);
  return r;
}

TEST(MetaHandshakeTest, EchoesTheChallengeOnlyForTheRightToken) {
  // The example from Meta's "Getting started" page.
  http::Response ok =
      AnswerHubHandshake(Handshake("subscribe", "meatyhamhock", "1158201444"), "meatyhamhock");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "text/plain");
  EXPECT_EQ(ok.body, "1158201444");
  EXPECT_EQ(AnswerHubHandshake(Handshake("subscribe", "meatyhamhocK", "1"), "meatyhamhock").status,
            403);
  EXPECT_EQ(
      AnswerHubHandshake(Handshake("unsubscribe", "meatyhamhock", "1"), "meatyhamhock").status,
      403);
  EXPECT_EQ(AnswerHubHandshake(Handshake("subscribe", "", "1"), "").status, 403);
  EXPECT_EQ(AnswerHubHandshake(Handshake("subscribe", "meatyhamhock", ""), "meatyhamhock").status,
            400);
  EXPECT_EQ(
      AnswerHubHandshake(Handshake("subscribe", "meatyhamhock", "<script>"), "meatyhamhock").status,
      200);
  EXPECT_EQ(
      AnswerHubHandshake(Handshake("subscribe", "meatyhamhock", "a b"), "meatyhamhock").status,
      400);
}

TEST(MetaConnectionTest, FillsDefaultsAndNamesBadFields) {
  json::object settings{{"phone_number_id", "106540352242922"}};
  json::object credentials{
      {"app_secret", "s1"}, {"verify_token", "v1"}, {"access_token", "EAAG-token"}};
  ASSERT_TRUE(PrepareMetaConnection(settings, credentials, "phone_number_id").ok());
  EXPECT_EQ(settings.at("api_base_url").as_string(), kDefaultGraphBaseUrl);
  EXPECT_EQ(settings.at("api_version").as_string(), kDefaultGraphVersion);
  ConnectionContext c;
  c.settings = settings;
  EXPECT_EQ(GraphUrl(c, "106540352242922/messages"),
            "https://graph.facebook.com/v21.0/106540352242922/messages");

  auto error_of = [](json::object s, json::object cr) {
    return PrepareMetaConnection(s, cr, "phone_number_id").message();
  };
  EXPECT_EQ(error_of({{"phone_number_id", "12a"}}, credentials),
            "settings.phone_number_id: required string of 1 to 64 digits");
  EXPECT_EQ(error_of({{"phone_number_id", "1"}, {"api_base_url", "ftp://x"}}, credentials),
            "settings.api_base_url: must be an http(s) URL without query or trailing '/'");
  EXPECT_EQ(error_of({{"phone_number_id", "1"}, {"api_version", "21"}}, credentials),
            "settings.api_version: must look like \"v21.0\"");
  EXPECT_EQ(error_of({{"phone_number_id", "1"}, {"colour", "red"}}, credentials),
            "settings.colour: unknown key");
  EXPECT_EQ(error_of({{"phone_number_id", "1"}}, {{"app_secret", "s"}, {"verify_token", "v"}}),
            "credentials.access_token: required string");
}

http::ClientResponse Answer(int status, std::string body) {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(MetaGraphErrorTest, ThrottlingIsRetriedAndRefusalsAreFinal) {
  using Kind = SendOutcome::Kind;
  // Throughput exceeded arrives as HTTP 400 with code 130429: the code decides.
  SendOutcome throttled = ClassifyGraphError(Answer(
      400, R"({"error":{"message":"Rate limit hit","type":"OAuthException","code":130429}})"));
  EXPECT_EQ(throttled.kind, Kind::kRetry);
  EXPECT_EQ(throttled.error.code, "meta_130429");
  EXPECT_EQ(ClassifyGraphError(Answer(400, R"({"error":{"code":613,"message":"x"}})")).kind,
            Kind::kRetry);
  EXPECT_EQ(ClassifyGraphError(Answer(500, R"({"error":{"code":100,"message":"x"}})")).kind,
            Kind::kRetry);
  EXPECT_EQ(ClassifyGraphError(Answer(400, R"({"error":{"code":100,"is_transient":true}})")).kind,
            Kind::kRetry);
  http::ClientResponse limited = Answer(429, "");
  limited.headers.emplace_back("retry-after", "7");
  SendOutcome later = ClassifyGraphError(limited);
  EXPECT_EQ(later.kind, Kind::kRetry);
  EXPECT_EQ(later.error.code, "http_429");
  EXPECT_EQ(later.retry_after, Millis{7000});

  // Meta's own example of an expired token (messenger_error_response.json): permanent.
  std::ifstream in(std::string(PARLEY_FIXTURES_DIR) + "/providers/messenger_error_response.json");
  std::stringstream body;
  body << in.rdbuf();
  SendOutcome refused = ClassifyGraphError(Answer(400, body.str()));
  EXPECT_EQ(refused.kind, Kind::kPermanentFailure);
  EXPECT_EQ(refused.error.code, "meta_190");
  EXPECT_FALSE(refused.error.message.empty());
  EXPECT_EQ(ClassifyGraphError(Answer(404, "<html>")).error.code, "http_404");
}

}  // namespace
}  // namespace parley::channels::meta

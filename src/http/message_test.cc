// src/http/message_test.cc
#include "http/message.h"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

TEST(ErrorResponseTest, HasErrorJsonShapeWithLowerCaseCode) {
  Response response = ErrorResponse(NotFound("conversation not found"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":"not_found","message":"conversation not found"}})");
}

TEST(ErrorResponseTest, EscapesMessageAsJson) {
  Response response = ErrorResponse(400, "invalid_argument", "bad \"quote\"\n\\");
  EXPECT_EQ(response.body,
            R"({"error":{"code":"invalid_argument","message":"bad \"quote\"\n\\"}})");
}

TEST(ErrorResponseTest, MapsStatusCodesToHttp) {
  EXPECT_EQ(ErrorResponse(InvalidArgument("x")).status, 400);
  EXPECT_EQ(ErrorResponse(Unauthenticated("x")).status, 401);
  EXPECT_EQ(ErrorResponse(PermissionDenied("x")).status, 403);
  EXPECT_EQ(ErrorResponse(NotFound("x")).status, 404);
  EXPECT_EQ(ErrorResponse(AlreadyExists("x")).status, 409);
  EXPECT_EQ(ErrorResponse(FailedPrecondition("x")).status, 409);
  EXPECT_EQ(ErrorResponse(ResourceExhausted("x")).status, 429);
  EXPECT_EQ(ErrorResponse(Unavailable("x")).status, 503);
  EXPECT_EQ(ErrorResponse(DeadlineExceeded("x")).status, 504);
  EXPECT_EQ(ErrorResponse(Internal("x")).status, 500);
}

TEST(ErrorResponseTest, RateLimitCarriesRetryAfterRoundedUpToSeconds) {
  Status limited = ResourceExhausted("slow down");
  limited.set_retry_after(std::chrono::milliseconds(1500));
  Response response = ErrorResponse(limited);
  EXPECT_EQ(response.status, 429);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Retry-After");
  EXPECT_EQ(response.headers[0].second, "2");
  EXPECT_TRUE(ErrorResponse(ResourceExhausted("x")).headers.empty());
}

TEST(RequestTest, HeaderFindsLowerCaseName) {
  Request request;
  request.headers = {{"content-type", "text/plain"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.Header("x-a"), "1");
  EXPECT_FALSE(request.Header("missing").has_value());
}

}  // namespace
}  // namespace parley::http

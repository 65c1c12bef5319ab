#include "http/response_head.h"

#include <gtest/gtest.h>

namespace parley::http::internal {
namespace {

TEST(ResponseHeadTest, RendersStatusHeadersAndLength) {
  Response r = JsonResponse(201, R"({"ok":true})");
  r.headers.emplace_back("Location", "/v1/x/1");
  EXPECT_EQ(RenderResponseHead(r, 11, true, "req_1", r.body.size()),
            "HTTP/1.1 201 Created\r\n"
            "Location: /v1/x/1\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: req_1\r\n"
            "Content-Length: 11\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, ConnectionHeaderFollowsTheVersion) {
  Response r;
  r.content_type = "text/plain";
  EXPECT_EQ(RenderResponseHead(r, 11, false, "a", 0),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: a\r\n"
            "Connection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(RenderResponseHead(r, 10, true, "a", 0),
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: a\r\n"
            "Connection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(RenderResponseHead(r, 9, false, "a", 0),
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: a\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(ResponseHeadTest, ServerHeadersWinAndUnsafeOnesAreDropped) {
  Response r = JsonResponse(200, "{}");
  r.headers.emplace_back("Cache-Control", "max-age=60");  // JSON is never cached
  r.headers.emplace_back("Content-Length", "999");
  r.headers.emplace_back("connection", "upgrade");
  r.headers.emplace_back("Transfer-Encoding", "chunked");
  r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: b");
  r.headers.emplace_back("Bad\nName", "v");
  r.headers.emplace_back("Vary", " Origin\t");
  r.headers.emplace_back("vary", "Accept");  // a later one of the same name replaces it
  r.headers.emplace_back("X-Blank", "  padded \t");
  std::string head = RenderResponseHead(r, 11, true, "req_2", 2);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\n"
            "Cache-Control: no-store\r\n"
            "vary: Accept\r\n"
            "X-Blank: padded\r\n"
            "Content-Type: application/json\r\n"
            "X-Request-Id: req_2\r\n"
            "Content-Length: 2\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, BodilessStatusesHaveNoLengthAndOutOfRangeIs500) {
  Response none{.status = 204, .content_type = "", .headers = {}, .body = ""};
  EXPECT_EQ(RenderResponseHead(none, 11, true, "r", 0),
            "HTTP/1.1 204 No Content\r\nX-Request-Id: r\r\n\r\n");
  Response odd;
  odd.status = 42;
  odd.content_type = "text/plain";
  EXPECT_TRUE(RenderResponseHead(odd, 11, true, "r", 3).starts_with("HTTP/1.1 500 "));
  Response unsafe;
  unsafe.content_type = "text/html\r\nX: y";
  EXPECT_NE(RenderResponseHead(unsafe, 11, true, "r", 0).find("application/octet-stream"),
            std::string::npos);
  EXPECT_TRUE(StatusForbidsBody(304));
  EXPECT_TRUE(StatusForbidsBody(101));
  EXPECT_FALSE(StatusForbidsBody(200));
}

}  // namespace
}  // namespace parley::http::internal

// src/http/router_test.cc
#include "http/router.h"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

boost::asio::awaitable<Response> Ok(Request) { co_return Response{}; }
boost::asio::awaitable<void> Ws(Request, std::unique_ptr<WebSocketUpgrade>) { co_return; }

std::vector<std::string> Segments(std::initializer_list<const char*> parts) {
  return std::vector<std::string>(parts.begin(), parts.end());
}

TEST(RouterTest, MatchesLiteralAndParamSegments) {
  Router router;
  router.Add("GET", "/v1/conversations/{id}/messages", Ok);
  auto match = router.Match("GET", Segments({"v1", "conversations", "cv_1", "messages"}), false);
  EXPECT_EQ(match.kind, RouteMatch::Kind::kHandler);
  EXPECT_NE(match.handler, nullptr);
  EXPECT_EQ(match.route, "/v1/conversations/{id}/messages");
  EXPECT_EQ(match.path_params.at("id"), "cv_1");
}

TEST(RouterTest, LiteralWinsOverParamAndBacktracks) {
  Router router;
  router.Add("GET", "/a/b", Ok);
  router.Add("GET", "/a/{x}/c", Ok);
  EXPECT_EQ(router.Match("GET", Segments({"a", "b"}), false).route, "/a/b");
  auto match = router.Match("GET", Segments({"a", "b", "c"}), false);
  EXPECT_EQ(match.route, "/a/{x}/c");
  EXPECT_EQ(match.path_params.at("x"), "b");
}

TEST(RouterTest, UnknownPathIsNotFound) {
  Router router;
  router.Add("GET", "/a/{x}", Ok);
  EXPECT_EQ(router.Match("GET", Segments({"a"}), false).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", Segments({"a", "b", "c"}), false).kind,
            RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", Segments({"b", "x"}), false).kind, RouteMatch::Kind::kNotFound);
  // An empty segment ("/a/") never fills a param.
  EXPECT_EQ(router.Match("GET", Segments({"a", ""}), false).kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, WrongMethodListsAllowedMethods) {
  Router router;
  router.Add("POST", "/items", Ok);
  router.Add("GET", "/items", Ok);
  auto match = router.Match("DELETE", Segments({"items"}), false);
  EXPECT_EQ(match.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.allow, "GET, POST");
  EXPECT_EQ(match.route, "/items");
}

TEST(RouterTest, RootPatternMatchesNoSegments) {
  Router router;
  router.Add("GET", "/", Ok);
  EXPECT_EQ(router.Match("GET", {}, false).kind, RouteMatch::Kind::kHandler);
}

TEST(RouterTest, WebSocketRouteNeedsGet) {
  Router router;
  router.AddWebSocket("/v1/stream", Ws);
  auto match = router.Match("GET", Segments({"v1", "stream"}), true);
  EXPECT_EQ(match.kind, RouteMatch::Kind::kWebSocket);
  EXPECT_NE(match.websocket_handler, nullptr);
  auto post = router.Match("POST", Segments({"v1", "stream"}), false);
  EXPECT_EQ(post.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(post.allow, "GET");
}

TEST(RouterTest, UpgradeSelectsWebSocketOverPlainGetOnSamePattern) {
  Router router;
  router.Add("GET", "/live", Ok);
  router.AddWebSocket("/live", Ws);
  EXPECT_EQ(router.Match("GET", Segments({"live"}), true).kind, RouteMatch::Kind::kWebSocket);
  EXPECT_EQ(router.Match("GET", Segments({"live"}), false).kind, RouteMatch::Kind::kHandler);
}

TEST(RouterDeathTest, DuplicateRouteIsAProgrammingError) {
  Router router;
  router.Add("GET", "/a", Ok);
  EXPECT_DEATH(router.Add("GET", "/a", Ok), "PARLEY_CHECK");
}

TEST(RouterDeathTest, ConflictingParamNamesAreAProgrammingError) {
  Router router;
  router.Add("GET", "/a/{id}", Ok);
  EXPECT_DEATH(router.Add("GET", "/a/{name}/b", Ok), "PARLEY_CHECK");
}

}  // namespace
}  // namespace parley::http

// src/http/router.h
//
// Maps (method, path) to a handler. Patterns are literal segments and `{name}` params:
//
//   Router router;
//   router.Add("GET", "/v1/conversations/{id}/messages", ListMessages);
//   router.AddWebSocket("/v1/stream", Stream);
//
// Matching walks a segment trie (literal children before the param child), so it costs
// O(segments), not a scan over every route.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/websocket.h"

namespace parley::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

// The outcome of Router::Match.
struct RouteMatch {
  enum class Kind {
    kHandler,           // `handler` is set
    kWebSocket,         // `websocket_handler` is set (GET on a WebSocket route)
    kNotFound,          // no pattern matches the path
    kMethodNotAllowed,  // the path matches, the method does not; see `allow`
  };
  Kind kind = Kind::kNotFound;
  const Handler* handler = nullptr;                     // owned by the Router
  const WebSocketHandler* websocket_handler = nullptr;  // owned by the Router
  std::string route;                                    // the matched pattern
  std::map<std::string, std::string> path_params;
  std::string allow;  // for kMethodNotAllowed: "GET, POST"
};

// Thread safety: Add/AddWebSocket before serving (not concurrently with anything);
// afterwards Match may be called concurrently.
class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` for `method` (upper case) on `pattern`, which starts with '/'.
  // A second registration of the same (method, pattern), a malformed pattern, or two
  // different param names at the same position are programming errors (PARLEY_CHECK).
  void Add(std::string method, std::string pattern, Handler handler);

  // Registers a WebSocket route: a GET with `Upgrade: websocket` on `pattern`.
  void AddWebSocket(std::string pattern, WebSocketHandler handler);

  // Matches percent-decoded path `segments` (the path split on '/', without the empty
  // leading one; "/" is no segments). `is_websocket_upgrade` selects a WebSocket route
  // over a plain GET on the same pattern.
  RouteMatch Match(std::string_view method, const std::vector<std::string>& segments,
                   bool is_websocket_upgrade) const;

 private:
  struct Node;
  Node* Insert(const std::string& pattern);
  const Node* Find(const Node& node, const std::vector<std::string>& segments, size_t index,
                   std::vector<std::pair<std::string, std::string>>& params) const;

  std::unique_ptr<Node> root_;
};

}  // namespace parley::http

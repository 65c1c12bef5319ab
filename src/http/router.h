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
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/websocket.h"

namespace parley::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

// The body of a request to a streaming route, read as it arrives instead of whole.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The next bytes of the body (at most 64 KiB); empty once the body is complete.
  // Errors: kResourceExhausted (more than the route's limit), kDeadlineExceeded (the client
  // sent nothing for the server's read timeout), kUnavailable (the client disconnected),
  // kInvalidArgument (malformed chunked encoding). After an error, Next fails again.
  virtual boost::asio::awaitable<Result<std::string>> Next() = 0;
  // The declared Content-Length, if any (chunked bodies have none).
  virtual std::optional<uint64_t> content_length() const = 0;
};

// A handler that reads its own body. A handler that answers before reading the whole body
// (e.g. 413 or 403) makes the server close the connection after the response.
using StreamingHandler = std::function<boost::asio::awaitable<Response>(Request, BodyReader& body)>;

// The outcome of Router::Match.
struct RouteMatch {
  enum class Kind {
    kHandler,           // `handler` is set
    kStreaming,         // `streaming_handler` and `max_body_bytes` are set
    kWebSocket,         // `websocket_handler` is set (GET on a WebSocket route)
    kNotFound,          // no pattern matches the path
    kMethodNotAllowed,  // the path matches, the method does not; see `allow`
  };
  Kind kind = Kind::kNotFound;
  const Handler* handler = nullptr;                     // owned by the Router
  const WebSocketHandler* websocket_handler = nullptr;  // owned by the Router
  const StreamingHandler* streaming_handler = nullptr;  // owned by the Router
  uint64_t max_body_bytes = 0;                          // kStreaming: the route's limit
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

  // Registers a streaming route: `handler` reads the body itself, up to `max_body_bytes`
  // (which replaces the server's max_body_bytes for this route). A method registered both
  // with Add and AddStreaming is a programming error.
  void AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                    uint64_t max_body_bytes);

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

// src/http/router.cc
#include "http/router.h"

#include <utility>

namespace parley::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::string param_name;  // valid when `param` is set
  std::string pattern;     // set on nodes that end a registered pattern
  struct Route {
    Handler handler;              // set, or
    StreamingHandler streaming;   //   this
    uint64_t max_body_bytes = 0;  // streaming only
  };
  std::map<std::string, Route> handlers;  // by method; std::map keeps `Allow` sorted
  std::unique_ptr<WebSocketHandler> websocket;
};

namespace {

std::vector<std::string> SplitPattern(const std::string& pattern) {
  PARLEY_CHECK(!pattern.empty() && pattern[0] == '/');
  std::vector<std::string> segments;
  if (pattern == "/") return segments;
  size_t start = 1;
  while (true) {
    const size_t slash = pattern.find('/', start);
    std::string segment = pattern.substr(start, slash == std::string::npos ? slash : slash - start);
    PARLEY_CHECK(!segment.empty());  // no "//" and no trailing '/'
    segments.push_back(std::move(segment));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Router::Node* Router::Insert(const std::string& pattern) {
  Node* node = root_.get();
  for (const std::string& segment : SplitPattern(pattern)) {
    if (IsParam(segment)) {
      std::string name = segment.substr(1, segment.size() - 2);
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = std::move(name);
      } else {
        PARLEY_CHECK(node->param_name == name);
      }
      node = node->param.get();
    } else {
      PARLEY_CHECK(segment.find_first_of("{}") == std::string::npos);
      auto& child = node->literals[segment];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  node->pattern = pattern;
  return node;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
  PARLEY_CHECK(!method.empty() && handler);
  Node* node = Insert(pattern);
  const bool inserted =
      node->handlers.emplace(std::move(method), Node::Route{std::move(handler), {}, 0}).second;
  PARLEY_CHECK(inserted);
}

void Router::AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                          uint64_t max_body_bytes) {
  PARLEY_CHECK(!method.empty() && handler);
  Node* node = Insert(pattern);
  const bool inserted =
      node->handlers.emplace(std::move(method), Node::Route{{}, std::move(handler), max_body_bytes})
          .second;
  PARLEY_CHECK(inserted);
}

void Router::AddWebSocket(std::string pattern, WebSocketHandler handler) {
  PARLEY_CHECK(handler);
  Node* node = Insert(pattern);
  PARLEY_CHECK(!node->websocket);
  node->websocket = std::make_unique<WebSocketHandler>(std::move(handler));
}

// Depth-first: literal children win over the param child, and we backtrack when a literal
// branch dead-ends, so "/a/b" and "/a/{x}/c" both work. Depth is bounded by the segment
// count, which the server limits.
const Router::Node* Router::Find(const Node& node, const std::vector<std::string>& segments,
                                 size_t index,
                                 std::vector<std::pair<std::string, std::string>>& params) const {
  if (index == segments.size()) {
    return node.pattern.empty() ? nullptr : &node;
  }
  const std::string& segment = segments[index];
  if (auto it = node.literals.find(segment); it != node.literals.end()) {
    if (const Node* found = Find(*it->second, segments, index + 1, params)) return found;
  }
  if (node.param && !segment.empty()) {
    params.emplace_back(node.param_name, segment);
    if (const Node* found = Find(*node.param, segments, index + 1, params)) return found;
    params.pop_back();
  }
  return nullptr;
}

RouteMatch Router::Match(std::string_view method, const std::vector<std::string>& segments,
                         bool is_websocket_upgrade) const {
  RouteMatch match;
  std::vector<std::pair<std::string, std::string>> params;
  const Node* node = Find(*root_, segments, 0, params);
  if (node == nullptr) {
    match.kind = RouteMatch::Kind::kNotFound;
    return match;
  }
  match.route = node->pattern;
  match.path_params.insert(params.begin(), params.end());
  if (method == "GET" && node->websocket && (is_websocket_upgrade || node->handlers.empty())) {
    match.kind = RouteMatch::Kind::kWebSocket;
    match.websocket_handler = node->websocket.get();
    return match;
  }
  if (auto it = node->handlers.find(std::string(method)); it != node->handlers.end()) {
    if (it->second.streaming) {
      match.kind = RouteMatch::Kind::kStreaming;
      match.streaming_handler = &it->second.streaming;
      match.max_body_bytes = it->second.max_body_bytes;
    } else {
      match.kind = RouteMatch::Kind::kHandler;
      match.handler = &it->second.handler;
    }
    return match;
  }
  match.kind = RouteMatch::Kind::kMethodNotAllowed;
  for (const auto& [allowed, handler] : node->handlers) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += allowed;
  }
  if (node->websocket && node->handlers.find("GET") == node->handlers.end()) {
    match.allow += match.allow.empty() ? "GET" : ", GET";
  }
  return match;
}

}  // namespace parley::http

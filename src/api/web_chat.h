// src/api/web_chat.h
//
// The web chat sessions (docs/channels/web.md): one per widget WebSocket. A session answers
// the widget's frames (hello, message, typing, read, end, …), stores customer messages through
// the same path as channel webhooks, and passes the events of its conversation (agent
// messages, statuses, typing, the end) from the event bus to the widget. Sessions are indexed
// by conversation, so an event reaches only the sockets of its conversation.
//
//   WebChat chat(app, options);
//   co_await chat.Serve(socket, connection, context_json);  // until the socket closes
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/app.h"
#include "api/connection_cache.h"
#include "http/metrics.h"
#include "http/websocket.h"

namespace parley::api {

struct WebChatOptions {
  double frames_per_second = 10;  // per session
  double frame_burst = 30;
  size_t max_frame_bytes = 16 * 1024;
  size_t max_text_bytes = 4096;
  size_t max_private_data_token_bytes = 4096;
  int history_limit = 200;          // messages sent in `welcome`
  size_t max_queued_frames = 1000;  // a widget this far behind is closed (4408); it resumes
};

// The visitor id (the customer's contact id on the web channel) of a session token: the token
// itself is never stored. Exposed for tests.
std::string VisitorIdOf(std::string_view session_token);

// True for tokens of the form Parley issues ("wst_" + 43 base64url characters).
bool IsSessionToken(std::string_view token);

// A new session token (256 random bits).
std::string NewSessionToken();

// Thread safety: Serve may run concurrently for many sockets.
class WebChat {
 public:
  // `app` outlives the WebChat; every session ends before it is destroyed.
  WebChat(App& app, WebChatOptions options);
  ~WebChat();

  // Runs one widget session until the socket closes. `context_json` is the chat context of
  // the upgrade request (channels/web/context.h ContextJson).
  boost::asio::awaitable<void> Serve(std::shared_ptr<http::WebSocket> socket,
                                     std::shared_ptr<const OpenConnection> connection,
                                     std::string context_json);

  int64_t open_sessions() const { return open_.load(); }

  struct Session;

 private:
  friend struct Session;
  // The conversation index, filled as sessions learn their conversation.
  void Index(const ConversationId& conversation, const std::shared_ptr<Session>& session);
  void Unindex(const ConversationId& conversation, const Session* session);
  // One bus subscription per tenant with sessions.
  void Attach(const TenantId& tenant);
  void Detach(const TenantId& tenant);
  void OnEvent(const bus::BusEvent& event);

  App& app_;
  WebChatOptions options_;
  std::atomic<int64_t> open_{0};
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<Session>>> by_conversation_;
  struct TenantSubscription {
    std::unique_ptr<bus::Subscription> subscription;
    int sessions = 0;
  };
  std::map<std::string, TenantSubscription, std::less<>> tenants_;
  std::vector<std::unique_ptr<bus::Subscription>> orphans_;
  http::Counter* messages_in_ = nullptr;
};

}  // namespace parley::api

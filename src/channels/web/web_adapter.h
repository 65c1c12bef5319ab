// src/channels/web/web_adapter.h
//
// The web chat channel (docs/channels/web.md). Parley hosts it itself: customers write from the
// widget over a WebSocket (src/api/web_chat.h), not through a provider's webhook, and agent
// messages reach the widget live from the event bus. The adapter checks connection settings
// and answers the dispatcher for the rare outbound row that reaches it.
//
//   WebSettings s = *WebSettings::From(connection.settings);
//   if (!s.AllowsOrigin(request.Header("origin"))) …
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "channels/channel_adapter.h"

namespace parley::channels::web {

inline constexpr size_t kMaxOrigins = 20;
inline constexpr size_t kMaxCookieNames = 20;
inline constexpr size_t kMaxCookieValueBytes = 1024;
inline constexpr size_t kMaxTitleBytes = 100;
inline constexpr size_t kMinPrivateDataSecretBytes = 32;
inline constexpr size_t kMaxPrivateDataSecretBytes = 256;

// A web connection's settings, read back from its stored (already validated) JSON.
struct WebSettings {
  std::vector<std::string> allowed_origins;  // "https://host[:port]", lower-case
  std::vector<std::string> cookie_names;
  std::string title;

  static WebSettings From(const boost::json::object& settings);
  // True if `origin` (the request's Origin header) is exactly one of the allowed origins,
  // compared without case.
  bool AllowsOrigin(std::string_view origin) const;
};

// "https://Example.com:443/" style input to "https://example.com"; kInvalidArgument unless an
// http(s) origin without path, query, fragment or credentials.
Result<std::string> CanonicalOrigin(std::string_view origin);

class WebAdapter final : public ChannelAdapter {
 public:
  std::string_view kind() const override { return "web"; }
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  // Web connections have no webhook: customers come through the widget socket.
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  // Agent messages are stored for the widget, which reads them live or on resume: sending
  // is storing, so this reports kSent.
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;
};

}  // namespace parley::channels::web

// src/channels/custom/custom_adapter.h
//
// The custom channel (docs/channels/custom.md): any system posts customer messages in the
// common format, signed with the connection's secret, and receives the replies the same way
// at its outbound URL.
#pragma once

#include "channels/channel_adapter.h"

namespace parley::channels::custom {

inline constexpr size_t kMaxExternalIdBytes = 256;
inline constexpr size_t kMinSecretBytes = 16;
inline constexpr size_t kMaxSecretBytes = 256;

class CustomAdapter final : public ChannelAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit CustomAdapter(const AdapterDeps& deps) : deps_(deps) {}

  std::string_view kind() const override { return "custom"; }
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;

  // The JSON body Parley POSTs to the outbound URL (exposed for tests).
  static std::string RenderOutbound(const OutboundRequest& request);

 private:
  AdapterDeps deps_;
};

}  // namespace parley::channels::custom

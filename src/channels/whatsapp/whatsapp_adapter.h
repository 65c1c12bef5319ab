// src/channels/whatsapp/whatsapp_adapter.h
//
// The WhatsApp Business Cloud API channel (docs/channels/whatsapp.md): Meta's signed webhooks
// in, Graph API sends out, media fetched in two steps with the access token. Parsing lives in
// whatsapp_webhook.h, rendering in whatsapp_render.h; this file is the glue over deps.client.
//
//   WhatsAppAdapter adapter(deps);
//   PARLEY_RETURN_IF_ERROR(adapter.VerifyWebhook(request, connection, clock.Now()));
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter.ParseWebhook(request));
//
// Connection settings: phone_number_id (the identity), api_base_url, api_version;
// credentials: app_secret, verify_token, access_token (meta::PrepareMetaConnection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/channel_adapter.h"
#include "http/client.h"

namespace parley::channels::whatsapp {

// What GET /<version>/<media_id> answers (whatsapp_media_url_response.json).
struct MediaInfo {
  std::string url;  // where to GET the bytes, with the same Bearer token; valid 5 minutes
  std::string mime_type;
  std::string sha256;                 // "" when absent
  std::optional<uint64_t> file_size;  // Meta sends it as a string
};

// Errors: kInvalidArgument naming the field.
Result<MediaInfo> ParseMediaInfo(std::string_view body);

// Checks `bytes` against a SHA-256 `digest` given as 64 hex characters or base64. An empty
// or unrecognisable digest (Meta's docs show "<HASH>") is not checked.
// Errors: kInvalidArgument (mismatch).
Status CheckDigest(std::string_view bytes, std::string_view digest);

// A media id safe to put in a Graph URL path: 1..128 of [A-Za-z0-9_-].
bool ValidMediaId(std::string_view id);

// Thread safety: every method may be called concurrently.
class WhatsAppAdapter final : public ChannelAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit WhatsAppAdapter(const AdapterDeps& deps) : deps_(deps) {}

  std::string_view kind() const override { return "whatsapp"; }
  Result<boost::json::object> PrepareConnection(boost::json::object& settings,
                                                boost::json::object& credentials) const override;
  // X-Hub-Signature-256 with credentials.app_secret. Meta signs no timestamp, so there is no
  // replay window: duplicates are deduplicated by wamid.
  Status VerifyWebhook(const http::Request& request, const ConnectionContext& connection,
                       TimePoint now) const override;
  Result<InboundBatch> ParseWebhook(const http::Request& request) const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundRequest request,
                                           ConnectionContext connection) override;
  // hub.challenge against credentials.verify_token.
  http::Response AnswerHandshake(const http::Request& request,
                                 const ConnectionContext& connection) const override;
  // settings.phone_number_id.
  std::string ClientIdentity(const ConnectionContext& connection) const override;
  // GET /<version>/<media id> then GET its url, both with the access token. Refuses a
  // declared or actual size over `max_bytes` (kResourceExhausted) and a digest mismatch
  // (kInvalidArgument). Transport errors, 5xx and 429 -> kUnavailable (timeouts
  // kDeadlineExceeded), 404 -> kNotFound, 401/403 -> kPermissionDenied, other 4xx ->
  // kInvalidArgument.
  boost::asio::awaitable<Result<FetchedMedia>> FetchMedia(MediaRef media,
                                                          ConnectionContext connection,
                                                          uint64_t max_bytes) override;
  // Read marks only: the typing indicator rides on a read mark of the customer's message,
  // which the client API's typing request does not name.
  bool SendsSignal(SignalRequest::Kind kind) const override {
    return kind == SignalRequest::Kind::kRead;
  }
  // kRead and kTypingOn (the typing indicator rides on the read mark) with a
  // provider_message_id; anything else does nothing.
  boost::asio::awaitable<Status> SendSignal(SignalRequest request,
                                            ConnectionContext connection) override;

 private:
  http::Client& MediaClient() const;

  AdapterDeps deps_;
};

}  // namespace parley::channels::whatsapp

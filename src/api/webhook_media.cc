// src/api/webhook_media.cc
#include "api/webhook_media.h"

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "blob/inspect.h"
#include "core/log.h"
#include "delivery/attachments.h"
#include "delivery/tenant_keys.h"
#include "store/async.h"

namespace parley::api {

using boost::asio::awaitable;

WebhookMedia::WebhookMedia(App& app, http::Counter& fetches)
    : app_(app), fetches_(fetches), slots_(app.media_fetches, app.media_fetches_per_tenant) {
  app.metrics->AddGauge(
      "parley_media_fetches_waiting",
      "Provider media downloads waiting for a slot (media_fetches, per tenant too).",
      [slots = &slots_] { return static_cast<double>(slots->waiting()); });
}

awaitable<Status> WebhookMedia::Fetch(std::shared_ptr<const OpenConnection> connection,
                                      channels::ChannelAdapter* adapter,
                                      channels::InboundBatch& batch, WebhookTry attempt,
                                      bool* busy) {
  const channels::ConnectionContext& ctx = connection->context;
  const auto slot_wait =
      attempt == WebhookTry::kFirst ? kMediaSlotWait : std::chrono::milliseconds::zero();
  for (channels::InboundMessage& m : batch.messages) {
    if (m.media.empty()) continue;
    auto* media = std::get_if<MediaContent>(&m.content);
    if (!media || media->attachments.size() != m.media.size()) {
      m.content = UnsupportedContent{"media", "the provider's media list did not parse"};
      m.media.clear();
      continue;
    }
    std::string dedupe = connection->key->BlindIndex(delivery::InboundProviderIdDomain(ctx.id),
                                                     m.provider_message_id);
    std::function<Result<std::optional<MessageId>>(store::Reader&)> seen =
        [tenant = ctx.tenant, id = ctx.id, dedupe](store::Reader& r) {
          return r.FindInboundKey(tenant, id, dedupe);
        };
    auto stored_before =
        co_await store::Read<std::optional<MessageId>>(*app_.store, std::move(seen));
    if (!stored_before.ok()) co_return stored_before.status();
    if (stored_before->has_value()) continue;  // the write below will find the duplicate
    for (size_t i = 0; i < m.media.size(); ++i) {
      Result<AttachmentId> stored =
          co_await FetchOne(ctx, adapter, m.media[i], media->attachments[i], slot_wait, busy);
      if (stored.ok()) {
        media->attachments[i].id = *stored;
        continue;
      }
      StatusCode code = stored.status().code();
      bool transient = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
      if (*busy || (transient && attempt != WebhookTry::kLast)) {
        fetches_.Inc({ctx.kind, "retry"});
        log::Warn("media.fetch_failed",
                  {{"connection", ctx.id.str()}, {"code", StatusCodeName(code)}, {"retry", true}});
        Status busy = Unavailable("could not fetch the message's media; retry later");
        busy.set_retry_after(std::chrono::seconds(30));
        co_return busy;
      }
      fetches_.Inc({ctx.kind, "refused"});
      log::Warn("media.fetch_failed",
                {{"connection", ctx.id.str()}, {"code", StatusCodeName(code)}, {"retry", false}});
      m.content = UnsupportedContent{std::string(WireName(media->kind)),
                                     fmt::format("media not stored ({})", StatusCodeName(code))};
      break;
    }
    m.media.clear();
  }
  co_return OkStatus();
}

awaitable<Result<AttachmentId>> WebhookMedia::FetchOne(const channels::ConnectionContext& ctx,
                                                       channels::ChannelAdapter* adapter,
                                                       channels::MediaRef ref, Attachment declared,
                                                       std::chrono::milliseconds slot_wait,
                                                       bool* busy) {
  // At most the tenant's limit is downloaded: a larger file is refused by the adapter
  // before or while it arrives, not after.
  auto max_bytes = co_await app_.attachments->MaxBytes(ctx.tenant);
  if (!max_bytes.ok()) co_return max_bytes.status();
  // The file is held whole until stored, so only media_fetches downloads run at once, and
  // only media_fetches_per_tenant of them for one tenant. A call that waits too long for
  // one is kept and tried again (a transient failure).
  std::optional<http::KeyedSemaphore::Permit> slot =
      co_await slots_.Acquire(ctx.tenant.str(), slot_wait);
  if (!slot) {
    *busy = true;
    fetches_.Inc({ctx.kind, "busy"});
    co_return Unavailable("too many media downloads in progress");
  }
  auto fetched = co_await adapter->FetchMedia(ref, ctx, *max_bytes);
  if (!fetched.ok()) co_return fetched.status();
  std::string bytes = std::move(fetched->bytes);
  bool sent = false;
  delivery::UploadRequest up;
  up.tenant = ctx.tenant;
  up.declared_type = !fetched->mime_type.empty() ? fetched->mime_type : declared.mime_type;
  // The provider's claim is a hint, not the sender's word: when the bytes are recognisably
  // something else, the customer's file is judged by what it is (the allow-list still
  // applies), instead of refused for the provider's label.
  up.declared_type = blob::NormalizeMimeType(up.declared_type);
  auto sniffed = blob::SniffMimeType(std::string_view(bytes).substr(0, blob::kSniffBytes));
  if (sniffed.ok() && *sniffed != "application/octet-stream" && !up.declared_type.empty() &&
      blob::CanonicalMimeType(*sniffed) != blob::CanonicalMimeType(up.declared_type)) {
    up.declared_type.clear();
  }
  up.filename = !declared.filename.empty() ? declared.filename : fetched->filename;
  if (up.filename.size() > 255) up.filename.clear();
  up.declared_length = bytes.size();
  up.next = [&bytes, &sent]() -> boost::asio::awaitable<Result<std::string>> {
    if (sent) co_return std::string();
    sent = true;
    co_return std::move(bytes);
  };
  auto stored = co_await app_.attachments->Upload(std::move(up));
  if (!stored.ok()) co_return stored.status();
  fetches_.Inc({ctx.kind, "stored"});
  co_return stored->record.id;
}

}  // namespace parley::api

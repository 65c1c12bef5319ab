// src/api/webhook_media.h
//
// The provider media a webhook call refers to, fetched through the channel's adapter into
// the tenant's attachment storage before the call's messages are stored (DESIGN.md §5: 2xx
// only after the commit). A download is held whole in memory, at most the tenant's
// attachment limit, so only `media_fetches` (App) run at once, and only
// `media_fetches_per_tenant` of them for one tenant.
//
//   WebhookMedia media(app, fetches_counter);
//   bool busy = false;
//   Status s = co_await media.Fetch(connection, adapter, batch, WebhookTry::kFirst, &busy);
//   if (s.code() == StatusCode::kUnavailable) keep_the_call_for_later();
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "api/app.h"
#include "api/connection_cache.h"
#include "channels/channel_adapter.h"
#include "core/ids.h"
#include "core/message.h"
#include "core/result.h"
#include "http/metrics.h"
#include "http/semaphore.h"

namespace parley::api {

// Which try of a webhook call this is: the first (when it arrived), another of a kept call,
// or the last of those (api/webhook_retries.h).
enum class WebhookTry { kFirst, kAgain, kLast };

// How long a first try waits for a download slot before the call is kept for later. A kept
// call tried again does not wait: it is put back, and that try is not counted.
inline constexpr std::chrono::milliseconds kMediaSlotWait{5000};

// Thread safety: Fetch may run concurrently on any of the runtime's loops.
class WebhookMedia {
 public:
  // `fetches` counts downloads by channel and result; both outlive this.
  WebhookMedia(App& app, http::Counter& fetches);

  // Downloads every media file the batch's messages refer to into the tenant's attachment
  // storage, before anything is stored. A transient failure fails the whole call
  // (kUnavailable: it is tried again later) unless this is the last try; a file that cannot
  // be had or kept turns its message into `unsupported`, so the customer's message still
  // arrives. No free download slot fails the call on any try, and sets `*busy`. Messages
  // already stored (a retried webhook) are not fetched again.
  boost::asio::awaitable<Status> Fetch(std::shared_ptr<const OpenConnection> connection,
                                       channels::ChannelAdapter* adapter,
                                       channels::InboundBatch& batch, WebhookTry attempt,
                                       bool* busy);

 private:
  boost::asio::awaitable<Result<AttachmentId>> FetchOne(const channels::ConnectionContext& ctx,
                                                        channels::ChannelAdapter* adapter,
                                                        channels::MediaRef ref, Attachment declared,
                                                        std::chrono::milliseconds slot_wait,
                                                        bool* busy);

  App& app_;
  http::Counter& fetches_;
  http::KeyedSemaphore slots_;  // provider media downloads in progress, by tenant
};

}  // namespace parley::api

// src/channels/messenger/messenger_adapter.h
//
// The messenger channel: a Facebook Page's conversations through the Messenger Platform
// (docs/channels/messenger.md). All of the work is in MessagingAdapter (messenger_common.h),
// shared with the instagram channel; this picks Messenger's flavor.
//
//   MessengerAdapter adapter(deps);
//   PARLEY_RETURN_IF_ERROR(adapter.VerifyWebhook(request, connection, clock.Now()));
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter.ParseWebhook(request));
#pragma once

#include "channels/messenger/messenger_common.h"

namespace parley::channels::messenger {

class MessengerAdapter final : public MessagingAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit MessengerAdapter(const AdapterDeps& deps);
};

}  // namespace parley::channels::messenger

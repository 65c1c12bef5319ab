// src/channels/instagram/instagram_adapter.h
//
// The instagram channel: an Instagram professional account's direct messages through the
// Messenger Platform's Instagram Messaging (docs/channels/instagram.md). The webhooks and the
// Send API are Messenger's (src/channels/messenger/messenger_common.h); what differs is named
// in kInstagramFlavor: the envelope's object "instagram", the identity setting instagram_id,
// no button template (buttons become quick replies), and the ❤ reaction as a sender action.
//
//   InstagramAdapter adapter(deps);
//   PARLEY_ASSIGN_OR_RETURN(InboundBatch batch, adapter.ParseWebhook(request));
#pragma once

#include "channels/messenger/messenger_common.h"

namespace parley::channels::instagram {

inline constexpr messenger::Flavor kInstagramFlavor{.kind = "instagram",
                                                    .object = "instagram",
                                                    .id_setting = "instagram_id",
                                                    .display_name = "Instagram",
                                                    .button_template = false,
                                                    .react_action = true};

class InstagramAdapter final : public messenger::MessagingAdapter {
 public:
  // `deps` pointers must outlive the adapter.
  explicit InstagramAdapter(const AdapterDeps& deps);
};

}  // namespace parley::channels::instagram

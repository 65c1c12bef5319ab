#include "channels/messenger/messenger_adapter.h"

namespace parley::channels::messenger {

MessengerAdapter::MessengerAdapter(const AdapterDeps& deps)
    : MessagingAdapter(deps, kMessengerFlavor) {}

}  // namespace parley::channels::messenger

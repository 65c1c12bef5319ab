#include "channels/instagram/instagram_adapter.h"

namespace parley::channels::instagram {

InstagramAdapter::InstagramAdapter(const AdapterDeps& deps)
    : messenger::MessagingAdapter(deps, kInstagramFlavor) {}

}  // namespace parley::channels::instagram

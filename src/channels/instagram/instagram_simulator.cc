#include "channels/instagram/instagram_simulator.h"

namespace parley::channels::instagram {

InstagramSimulator::InstagramSimulator(const Clock& clock)
    : messenger::MessagingSimulator(kInstagramFlavor, clock) {}

}  // namespace parley::channels::instagram

#pragma once

#include <string_view>

namespace parley::core {

// Names the calling thread (shown by `top -H`, `ps -L` and `perf report --sort comm`).
// Linux keeps at most 15 bytes; longer names are cut. Best effort: failures are ignored.
void NameThisThread(std::string_view name);

}  // namespace parley::core

// src/cli/version.h — the release version, printed by `parley version`.
#pragma once

#include <string_view>

namespace parley::cli {
inline constexpr std::string_view kVersion = "0.1.0";
}  // namespace parley::cli

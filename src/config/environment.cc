#include "config/environment.h"

#include <unistd.h>  // environ

namespace parley::config {

Environment Environment::FromProcess() {
  constexpr std::string_view kPrefix = "PARLEY_";
  Map vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || !kv.starts_with(kPrefix)) continue;
    vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return Environment(std::move(vars));
}

std::optional<std::string_view> Environment::Get(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace parley::config

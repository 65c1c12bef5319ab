#include "channels/registry.h"

#include "channels/custom/custom_adapter.h"
#include "channels/web/web_adapter.h"

namespace parley::channels {

Registry::Registry(const AdapterDeps& deps) {
  // Built-in kinds, listed here and nowhere else.
  adapters_.emplace("custom", std::make_unique<custom::CustomAdapter>(deps));
  adapters_.emplace("web", std::make_unique<web::WebAdapter>());
}

Registry::~Registry() = default;

ChannelAdapter* Registry::Find(std::string_view kind) const {
  auto it = adapters_.find(kind);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Registry::Kinds() const {
  std::vector<std::string> kinds;
  for (const auto& [kind, adapter] : adapters_) kinds.push_back(kind);
  return kinds;
}

}  // namespace parley::channels

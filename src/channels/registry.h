// src/channels/registry.h
//
// The explicit list of channel kinds Parley knows. Adding a channel is one folder under
// src/channels/ and one line in registry.cc.
//
//   Registry registry(deps);
//   ChannelAdapter* a = registry.Find("custom");  // nullptr for an unknown kind
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "channels/channel_adapter.h"

namespace parley::channels {

class Registry {
 public:
  explicit Registry(const AdapterDeps& deps);
  ~Registry();

  ChannelAdapter* Find(std::string_view kind) const;
  std::vector<std::string> Kinds() const;

 private:
  std::map<std::string, std::unique_ptr<ChannelAdapter>, std::less<>> adapters_;
};

}  // namespace parley::channels

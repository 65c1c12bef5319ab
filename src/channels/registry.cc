#include "channels/registry.h"

#include "channels/custom/custom_adapter.h"
#include "channels/instagram/instagram_adapter.h"
#include "channels/messenger/messenger_adapter.h"
#include "channels/telegram/telegram_adapter.h"
#include "channels/twilio/twilio_adapter.h"
#include "channels/web/web_adapter.h"
#include "channels/whatsapp/whatsapp_adapter.h"

namespace parley::channels {

Registry::Registry(const AdapterDeps& deps) {
  // Built-in kinds, listed here and nowhere else.
  adapters_.emplace("custom", std::make_unique<custom::CustomAdapter>(deps));
  adapters_.emplace("web", std::make_unique<web::WebAdapter>());
  adapters_.emplace("whatsapp", std::make_unique<whatsapp::WhatsAppAdapter>(deps));
  adapters_.emplace("messenger", std::make_unique<messenger::MessengerAdapter>(deps));
  adapters_.emplace("instagram", std::make_unique<instagram::InstagramAdapter>(deps));
  adapters_.emplace("twilio", std::make_unique<twilio::TwilioAdapter>(deps));
  adapters_.emplace("telegram", std::make_unique<telegram::TelegramAdapter>(deps));
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

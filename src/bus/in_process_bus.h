// src/bus/in_process_bus.h
//
// The embedded default: subscribers of this process only.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "bus/bus.h"

namespace parley::bus {

class InProcessBus final : public EventBus {
 public:
  InProcessBus();
  ~InProcessBus() override;
  void Publish(const BusEvent& event) override;
  std::unique_ptr<Subscription> Subscribe(const TenantId& tenant, Callback callback) override;

  struct State;  // shared with subscriptions, which may outlive the bus

 private:
  std::shared_ptr<State> state_;
};

}  // namespace parley::bus

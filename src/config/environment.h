// src/config/environment.h
//
// Environment is the set of variables config::Load reads overrides from. It is injected,
// so tests never touch (or depend on) the real process environment.
//
//   auto config = config::Load(path, config::Environment::FromProcess());
//   auto in_test = config::Load(std::nullopt, config::Environment({{"PARLEY_LISTEN",
//   "127.0.0.1:0"}}));
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace parley::config {

// Thread safety: a value type; const methods may be called concurrently.
class Environment {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  Environment() = default;
  Environment(std::initializer_list<std::pair<const std::string, std::string>> vars)
      : vars_(vars) {}
  explicit Environment(Map vars) : vars_(std::move(vars)) {}

  // Copies the variables whose names start with "PARLEY_" from the process environment
  // (`environ`); other variables are not Parley's business and are not kept.
  static Environment FromProcess();

  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  std::optional<std::string_view> Get(std::string_view name) const;
  const Map& vars() const { return vars_; }

 private:
  Map vars_;
};

}  // namespace parley::config

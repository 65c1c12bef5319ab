// src/config/secret.h
//
// Secret holds a credential read from config (operator token, master key). It cannot be
// streamed or formatted, converts to nothing implicitly, and wipes its bytes when destroyed,
// so it does not end up in a log line or an error message by accident.
//
//   if (!config.security.admin_token.empty()) Check(config.security.admin_token.reveal());
#pragma once

#include <string.h>  // explicit_bzero

#include <string>
#include <utility>

namespace parley::config {

// Thread safety: like std::string (const methods may be called concurrently).
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();  // a moved-from short string keeps its bytes in the inline buffer
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  // The secret itself. Never log it or put it in a Status message.
  const std::string& reveal() const { return value_; }

 private:
  void Wipe() {
    // Wipes the whole buffer (SSO or heap) before the string forgets it.
    value_.resize(value_.capacity());
    explicit_bzero(value_.data(), value_.size());
    value_.clear();
  }

  std::string value_;
};

}  // namespace parley::config

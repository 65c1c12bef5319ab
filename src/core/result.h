// src/core/result.h
//
// Result<T> holds either a value or a non-ok Status (C++20 has no std::expected).
//
//   Result<Tenant> r = store.GetTenant(id);
//   if (!r.ok()) return r.status();
//   Use(*r);
//
//   PARLEY_ASSIGN_OR_RETURN(Tenant t, store.GetTenant(id));
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "core/status.h"

namespace parley {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value or from a non-ok Status, so `return value;` and
  // `return NotFound(...)` both work.
  Result(const T& value) : value_(value) {}  // NOLINT
  Result(T&& value) : value_(std::move(value)) {}  // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    PARLEY_CHECK(!status_.ok());
  }
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, Status> &&
             !std::is_same_v<std::decay_t<U>, Result<T>> && !std::is_same_v<std::decay_t<U>, T>)
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    PARLEY_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    PARLEY_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    PARLEY_CHECK(ok());
    return std::move(*value_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
template <typename T>
const Status& ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace parley

// PARLEY_ASSIGN_OR_RETURN(auto x, Expr()) — declares `x` from a Result, or returns its status.
#define PARLEY_ASSIGN_OR_RETURN(lhs, expr) \
  PARLEY_ASSIGN_OR_RETURN_IMPL(PARLEY_STATUS_CONCAT(parley_result_, __LINE__), lhs, expr, return)
#define PARLEY_CO_ASSIGN_OR_RETURN(lhs, expr) \
  PARLEY_ASSIGN_OR_RETURN_IMPL(PARLEY_STATUS_CONCAT(parley_result_, __LINE__), lhs, expr, co_return)
#define PARLEY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) ret tmp.status();                        \
  lhs = std::move(tmp).value()

// src/core/status.h
//
// Status is the outcome of an operation that can fail: a code with absl's meaning and a
// message for humans. Request paths return Status or Result<T> (result.h), never throw.
//
//   Status s = store.DeleteTenant(id);
//   if (!s.ok()) return s;
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace parley {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; do not retry as is
  kNotFound,            // the thing does not exist (or belongs to another tenant)
  kAlreadyExists,       // a create collided with an existing thing
  kPermissionDenied,    // authenticated, but not allowed (missing scope)
  kUnauthenticated,     // no or bad credentials / signature
  kResourceExhausted,   // rate limited or too large; may carry retry_after
  kFailedPrecondition,  // the system is not in a state to do this (e.g. conversation ended)
  kUnavailable,         // transient; retry later
  kDeadlineExceeded,    // took too long
  kInternal,            // a bug or a broken invariant
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // For kResourceExhausted/kUnavailable: how long the caller should wait before retrying
  // (zero when unknown).
  std::chrono::milliseconds retry_after() const { return retry_after_; }
  Status& set_retry_after(std::chrono::milliseconds d) {
    retry_after_ = d;
    return *this;
  }

  // "NOT_FOUND: tenant tn_… not found"
  std::string ToString() const;

  // Intentionally ignores a status (e.g. best-effort cleanup).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::chrono::milliseconds retry_after_{0};
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

}  // namespace parley

#define PARLEY_STATUS_CONCAT_INNER(a, b) a##b
#define PARLEY_STATUS_CONCAT(a, b) PARLEY_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if `expr` is not ok.
#define PARLEY_RETURN_IF_ERROR(expr)                                      \
  do {                                                                    \
    ::parley::Status parley_status_tmp = ::parley::internal::ToStatus(expr); \
    if (!parley_status_tmp.ok()) return parley_status_tmp;                \
  } while (0)

// The same for coroutines.
#define PARLEY_CO_RETURN_IF_ERROR(expr)                                   \
  do {                                                                    \
    ::parley::Status parley_status_tmp = ::parley::internal::ToStatus(expr); \
    if (!parley_status_tmp.ok()) co_return parley_status_tmp;             \
  } while (0)

// Always-on invariant check: logs and aborts when `cond` is false.
#define PARLEY_CHECK(cond)                                                 \
  do {                                                                     \
    if (!(cond)) ::parley::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace parley::internal {
inline const Status& ToStatus(const Status& s) { return s; }
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace parley::internal

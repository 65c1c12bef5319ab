// src/core/ids.h
//
// Strong, prefixed, time-sortable ids ("tn_01jd…"): 48 bits of milliseconds and 80 random
// bits in Crockford base32, like ULID. Each kind is its own type, so a TenantId cannot be
// passed where a ConversationId is expected.
//
//   TenantId t = TenantId::New(clock);
//   PARLEY_ASSIGN_OR_RETURN(ConversationId cv, ConversationId::Parse(path_param));
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace parley {

namespace internal {
// 26 characters: 10 of time, 16 of randomness.
std::string NewIdBody(TimePoint now);
// The smallest body of `now`'s millisecond: every id made before `now` sorts below it.
std::string IdBodyFloor(TimePoint now);
bool IsValidIdBody(std::string_view body);
}  // namespace internal

template <typename Tag>
class Id {
 public:
  static constexpr std::string_view kPrefix = Tag::kPrefix;

  Id() = default;

  static Id New(const Clock& clock) { return New(clock.Now()); }
  static Id New(TimePoint now) {
    std::string s(kPrefix);
    s += '_';
    s += internal::NewIdBody(now);
    return Id(std::move(s));
  }
  // A bound, not an id: compares below every id made at or after `t` and above every id made
  // before it (ids sort by creation time). For range scans over id-keyed tables.
  static Id Floor(TimePoint t) {
    std::string s(kPrefix);
    s += '_';
    s += internal::IdBodyFloor(t);
    return Id(std::move(s));
  }
  // Validates prefix and shape. Errors: kInvalidArgument.
  static Result<Id> Parse(std::string_view text) {
    if (text.size() != kPrefix.size() + 27 || text.substr(0, kPrefix.size()) != kPrefix ||
        text[kPrefix.size()] != '_' || !internal::IsValidIdBody(text.substr(kPrefix.size() + 1))) {
      return InvalidArgument(std::string("malformed ") + std::string(kPrefix) + "_ id");
    }
    return Id(std::string(text));
  }
  // For values read back from our own store (already validated when written).
  static Id FromTrusted(std::string text) { return Id(std::move(text)); }

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const Id&) const = default;

 private:
  explicit Id(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

#define PARLEY_DEFINE_ID(Name, prefix)                     \
  struct Name##Tag {                                      \
    static constexpr std::string_view kPrefix = prefix;   \
  };                                                      \
  using Name = Id<Name##Tag>

PARLEY_DEFINE_ID(TenantId, "tn");
PARLEY_DEFINE_ID(ApiKeyId, "pk");
PARLEY_DEFINE_ID(EndpointId, "ep");
PARLEY_DEFINE_ID(ConnectionId, "ch");
PARLEY_DEFINE_ID(CustomerId, "cu");
PARLEY_DEFINE_ID(ConversationId, "cv");
PARLEY_DEFINE_ID(MessageId, "msg");
PARLEY_DEFINE_ID(AttachmentId, "att");
PARLEY_DEFINE_ID(EventId, "ev");
PARLEY_DEFINE_ID(DeadLetterId, "dl");
PARLEY_DEFINE_ID(AuditId, "au");

#undef PARLEY_DEFINE_ID

}  // namespace parley

template <typename Tag>
struct std::hash<parley::Id<Tag>> {
  size_t operator()(const parley::Id<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.str());
  }
};

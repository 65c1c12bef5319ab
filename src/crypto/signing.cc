#include "crypto/signing.h"

#include <optional>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {
namespace {

// 12 digits reach the year 33658; more is not a timestamp and could overflow.
constexpr size_t kMaxTimestampDigits = 12;
constexpr size_t kSignatureHexSize = 2 * kSha256Size;

std::string Sign(std::string_view secret, std::string_view timestamp, std::string_view body) {
  return HmacSha256(secret, {timestamp, ".", body});
}

struct ParsedHeader {
  std::string_view timestamp_text;
  int64_t timestamp = 0;
  std::vector<std::string> signatures;  // raw 32-byte MACs
};

Status Malformed(std::string_view why) {
  std::string message = "malformed Parley-Signature header: ";
  message += why;
  return Unauthenticated(std::move(message));
}

std::optional<int64_t> ParseTimestamp(std::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

Status Parse(std::string_view header, ParsedHeader& out) {
  if (header.empty()) return Unauthenticated("missing Parley-Signature header");
  if (header.size() > kMaxSignatureHeaderBytes) return Malformed("too long");
  bool have_t = false;
  while (true) {
    const size_t comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return Malformed("expected key=value items");
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (have_t) return Malformed("more than one t");
      const std::optional<int64_t> t = ParseTimestamp(value);
      if (!t) return Malformed("t must be unix seconds");
      out.timestamp_text = value;
      out.timestamp = *t;
      have_t = true;
    } else if (key == "v1") {
      if (out.signatures.size() == kMaxSignatures) return Malformed("too many v1 signatures");
      if (value.size() != kSignatureHexSize) return Malformed("v1 must be 64 hex digits");
      Result<std::string> raw = HexDecode(value);
      if (!raw.ok()) return Malformed("v1 must be 64 hex digits");
      out.signatures.push_back(std::move(*raw));
    }
    // Other keys are future schemes (v2, …): ignored so senders can add them first.
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (!have_t) return Malformed("no t");
  if (out.signatures.empty()) return Malformed("no v1 signature");
  return OkStatus();
}

}  // namespace

std::string SignatureHeader(const std::vector<std::string>& secrets, int64_t unix_seconds,
                            std::string_view body) {
  PARLEY_CHECK(!secrets.empty() && secrets.size() <= kMaxSignatures);
  PARLEY_CHECK(unix_seconds >= 0);
  const std::string timestamp = std::to_string(unix_seconds);
  std::string header = "t=" + timestamp;
  for (const std::string& secret : secrets) {
    header += ",v1=";
    header += HexEncode(Sign(secret, timestamp, body));
  }
  return header;
}

Status VerifySignatureHeader(std::string_view header, const std::vector<std::string>& secrets,
                             std::string_view body, int64_t now_unix_seconds,
                             int64_t tolerance_seconds) {
  std::vector<HmacSha256Key> keys;
  keys.reserve(secrets.size());
  std::vector<const HmacSha256Key*> pointers;
  for (const std::string& secret : secrets) pointers.push_back(&keys.emplace_back(secret));
  return VerifySignatureHeaderWithKeys(header, pointers, body, now_unix_seconds, tolerance_seconds);
}

Status VerifySignatureHeaderWithKeys(std::string_view header,
                                     std::span<const HmacSha256Key* const> keys,
                                     std::string_view body, int64_t now_unix_seconds,
                                     int64_t tolerance_seconds) {
  PARLEY_CHECK(tolerance_seconds >= 0);
  ParsedHeader parsed;
  PARLEY_RETURN_IF_ERROR(Parse(header, parsed));

  // |now - t| computed in unsigned arithmetic, so no int64 pair can overflow.
  const uint64_t now = static_cast<uint64_t>(now_unix_seconds);
  const uint64_t t = static_cast<uint64_t>(parsed.timestamp);
  const bool future = parsed.timestamp > now_unix_seconds;
  const uint64_t skew = future ? t - now : now - t;
  if (skew > static_cast<uint64_t>(tolerance_seconds)) {
    return Unauthenticated(future ? "signature timestamp is too far in the future"
                                  : "signature timestamp is too old");
  }

  // The MAC covers the timestamp exactly as sent, so "t=0042" and "t=42" sign differently.
  bool match = false;
  for (const HmacSha256Key* key : keys) {
    PARLEY_CHECK(key != nullptr);
    const std::string expected = key->Mac({parsed.timestamp_text, ".", body});
    for (const std::string& candidate : parsed.signatures) {
      // No early exit: the loop's timing depends only on the counts, not on which matched.
      match |= ConstantTimeEqual(expected, candidate);
    }
  }
  if (!match) return Unauthenticated("no matching Parley-Signature");
  return OkStatus();
}

}  // namespace parley::crypto

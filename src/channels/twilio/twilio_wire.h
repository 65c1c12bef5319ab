// src/channels/twilio/twilio_wire.h
//
// Twilio's wire details that do not depend on a connection: the lenient
// application/x-www-form-urlencoded codec its webhooks and API use, and the X-Twilio-Signature
// algorithm (../shared/fixtures/PROVIDERS.md §3b).
//
//   PARLEY_ASSIGN_OR_RETURN(FormParams params, ParseForm(request.body));
//   std::string expected = ComputeSignature(auth_token, url, params);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace parley::channels::twilio {

// Bounds of one form body: Twilio's largest webhook (an MMS with ten media and every geo
// field) is a few kilobytes.
inline constexpr size_t kMaxFormBytes = 256 * 1024;
inline constexpr size_t kMaxFormParams = 256;
inline constexpr size_t kMaxFormKeyBytes = 256;

// The parameters in the order received; a key may repeat.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// Parses a form body leniently, as Twilio's own SDKs do: '+' is a space, %XX is decoded, a
// '%' not followed by two hex digits and any other byte (an un-encoded ':') is kept as is,
// a pair without '=' has an empty value and empty pairs are skipped.
// Errors: kInvalidArgument ("body: …") beyond kMaxFormBytes, kMaxFormParams or a key longer
// than kMaxFormKeyBytes.
Result<FormParams> ParseForm(std::string_view body);

// The first value of `key`, or nullptr.
const std::string* FindParam(const FormParams& params, std::string_view key);

// Percent-encodes every byte except A-Za-z0-9 and "-_.~" ("application/x-www-form-urlencoded"
// with %20 for a space, which every form decoder accepts).
std::string FormEscape(std::string_view value);
std::string EncodeForm(const FormParams& params);

// base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2 …)) with the parameters sorted by key
// (byte order) and, for a repeated key, by value, duplicates counted once (as the SDKs do).
std::string ComputeSignature(std::string_view auth_token, std::string_view url,
                             const FormParams& params);

// `url` as given, plus the same URL with the scheme's default port (:443 for https, :80 for
// http) removed when present or added when absent: Twilio signs either form.
std::vector<std::string> SignatureUrlVariants(std::string_view url);

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// The longest prefix of `s` of at most `max` bytes that does not split a UTF-8 sequence.
std::string TruncateUtf8(std::string s, size_t max);

}  // namespace parley::channels::twilio

// src/crypto/encoding.h
//
// Hex and Base64 codecs for binary data carried in std::string. Decoders are strict (they
// reject anything but the canonical alphabet) and their errors never echo the input, which
// may be a secret.
//
//   std::string hex = HexEncode(Sha256(body));
//   PARLEY_ASSIGN_OR_RETURN(std::string raw, Base64UrlDecode(token));
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace parley::crypto {

// Lowercase hex, two characters per byte.
std::string HexEncode(std::string_view bytes);

// Accepts upper- and lowercase digits. Errors: kInvalidArgument (odd length, non-hex).
Result<std::string> HexDecode(std::string_view hex);

// RFC 4648 §5 alphabet ("-_"), without '=' padding.
std::string Base64UrlEncode(std::string_view bytes);

// Accepts input with or without '=' padding (padding, when present, must be complete).
// Rejects whitespace, other alphabets and non-zero trailing bits.
// Errors: kInvalidArgument.
Result<std::string> Base64UrlDecode(std::string_view text);

// RFC 4648 §4 alphabet ("+/"), with '=' padding.
std::string Base64Encode(std::string_view bytes);

// Requires the padding (length a multiple of 4). Rejects whitespace and non-zero trailing
// bits. Errors: kInvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace parley::crypto

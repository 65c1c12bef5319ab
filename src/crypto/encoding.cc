#include "crypto/encoding.h"

#include <array>
#include <cstdint>

namespace parley::crypto {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Maps each byte to its 6-bit value, or -1 outside the alphabet.
constexpr std::array<int8_t, 256> MakeReverse(const char* alphabet) {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kReverseStd = MakeReverse(kBase64Std);
constexpr auto kReverseUrl = MakeReverse(kBase64Url);

std::string Encode64(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

enum class Padding { kRequired, kOptional };

Result<std::string> Decode64(std::string_view text, const std::array<int8_t, 256>& reverse,
                             Padding padding) {
  // Strip the padding first, then check that the amount matches what the length implies.
  size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  const size_t rest = text.size() % 4;
  if (rest == 1) return InvalidArgument("invalid base64: bad length");
  const size_t expected_pad = rest == 0 ? 0 : 4 - rest;
  if (pad != 0 && pad != expected_pad) return InvalidArgument("invalid base64: bad padding");
  if (padding == Padding::kRequired && pad != expected_pad) {
    return InvalidArgument("invalid base64: missing padding");
  }

  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = reverse[static_cast<uint8_t>(c)];
    if (v < 0) return InvalidArgument("invalid base64: unexpected character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one accepted encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgument("invalid base64: non-zero trailing bits");
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0xf];
  }
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgument("invalid hex: odd length");
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("invalid hex: unexpected character");
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) { return Encode64(bytes, kBase64Url, false); }

Result<std::string> Base64UrlDecode(std::string_view text) {
  return Decode64(text, kReverseUrl, Padding::kOptional);
}

std::string Base64Encode(std::string_view bytes) { return Encode64(bytes, kBase64Std, true); }

Result<std::string> Base64Decode(std::string_view text) {
  return Decode64(text, kReverseStd, Padding::kRequired);
}

}  // namespace parley::crypto

// src/core/json_scan.h
//
// Where the text of a JSON string next needs an escape, found eight bytes at a time. The
// strings Parley writes into JSON (message text, ids, log fields) are mostly plain: the
// writers copy each plain run at once (message_json_write.cc, log.cc), and these find the
// run's end without a comparison per byte. Each word test below answers exactly whether
// some byte of the word matches (a borrow or carry can only come from a byte that does);
// the byte itself is then found one at a time.
//
//   size_t end = PlainJsonRun(s, i);       // first byte at or after i: < 0x20, '"' or '\\'
//   size_t end = PlainAsciiJsonRun(s, i);  // the same, or >= 0x7F
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace parley {

namespace json_scan_internal {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Some byte of v is below n (n <= 128).
constexpr bool HasLess(uint64_t v, uint8_t n) { return ((v - kOnes * n) & ~v & kHighs) != 0; }
// Some byte of v equals b.
constexpr bool HasByte(uint64_t v, uint8_t b) { return HasLess(v ^ (kOnes * b), 1); }
// Some byte of v is 0x7F or above.
constexpr bool HasDelOrHigh(uint64_t v) { return (((v + kOnes) | v) & kHighs) != 0; }

constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

inline uint64_t Word(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace json_scan_internal

// The index of the first byte at or after `i` that a JSON string must escape (a control
// character, '"' or '\\'), or s.size(). Precondition: i <= s.size().
inline size_t PlainJsonRun(std::string_view s, size_t i) {
  using namespace json_scan_internal;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v = Word(s.data() + i);
    if (HasLess(v, 0x20) || HasByte(v, '"') || HasByte(v, '\\')) break;
  }
  while (i < s.size() && !NeedsEscape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// As PlainJsonRun, and also stops at DEL and at every byte of 0x80 or above (for a writer
// whose output is ASCII only).
inline size_t PlainAsciiJsonRun(std::string_view s, size_t i) {
  using namespace json_scan_internal;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v = Word(s.data() + i);
    if (HasLess(v, 0x20) || HasByte(v, '"') || HasByte(v, '\\') || HasDelOrHigh(v)) break;
  }
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (NeedsEscape(c) || c >= 0x7F) break;
    ++i;
  }
  return i;
}

}  // namespace parley

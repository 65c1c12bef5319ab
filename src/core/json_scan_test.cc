#include "core/json_scan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

namespace parley {
namespace {

size_t SlowPlainRun(std::string_view s, size_t i, bool ascii) {
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || (ascii && c >= 0x7F)) break;
  }
  return i;
}

// Every byte value at every position of strings that span one, two and three words, from
// every start: the word tests must neither miss a byte nor stop early.
TEST(JsonScanTest, FindsEveryByteThatNeedsAnEscapeWhereverItIs) {
  for (size_t len = 0; len <= 19; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(b);
        for (size_t from = 0; from <= len; ++from) {
          ASSERT_EQ(PlainJsonRun(s, from), SlowPlainRun(s, from, false))
              << "len " << len << " byte " << b << " at " << at << " from " << from;
          ASSERT_EQ(PlainAsciiJsonRun(s, from), SlowPlainRun(s, from, true))
              << "len " << len << " byte " << b << " at " << at << " from " << from;
        }
      }
    }
  }
}

// Neighbouring bytes that could carry or borrow into each other (0x00, 0x1F, 0x20, 0x7E,
// 0x7F, 0xFF and the quote and backslash next to their neighbours), in random mixes.
TEST(JsonScanTest, AgreesWithAByteByByteScanOnRandomMixes) {
  const std::string alphabet(
      "\x00\x01\x1f\x20\x21\x22\x23\x5b\x5c\x5d\x7e\x7f\x80\xc3\xff"
      "abc",
      18);
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 40, 'a');
    for (char& c : s) {
      if (rng() % 3 == 0) c = alphabet[rng() % alphabet.size()];
    }
    for (size_t from = 0; from <= s.size(); ++from) {
      ASSERT_EQ(PlainJsonRun(s, from), SlowPlainRun(s, from, false));
      ASSERT_EQ(PlainAsciiJsonRun(s, from), SlowPlainRun(s, from, true));
    }
  }
}

// The word tests themselves, against a test per byte: one special byte at each position of a
// word of any other byte. A test that said yes too often would still give right answers
// above (the byte loop corrects it), only slower; here it fails.
TEST(JsonScanTest, EachWordTestAnswersExactly) {
  using namespace json_scan_internal;
  for (int background = 0; background < 256; ++background) {
    for (int special = 0; special < 256; ++special) {
      for (int at = 0; at < 8; ++at) {
        unsigned char bytes[8];
        std::memset(bytes, background, sizeof(bytes));
        bytes[at] = static_cast<unsigned char>(special);
        uint64_t v;
        std::memcpy(&v, bytes, sizeof(v));
        bool less = false, quote = false, backslash = false, high = false;
        for (unsigned char b : bytes) {
          less |= b < 0x20;
          quote |= b == '"';
          backslash |= b == '\\';
          high |= b >= 0x7F;
        }
        ASSERT_EQ(HasLess(v, 0x20), less) << background << " " << special << " " << at;
        ASSERT_EQ(HasByte(v, '"'), quote) << background << " " << special << " " << at;
        ASSERT_EQ(HasByte(v, '\\'), backslash) << background << " " << special << " " << at;
        ASSERT_EQ(HasDelOrHigh(v), high) << background << " " << special << " " << at;
      }
    }
  }
}

}  // namespace
}  // namespace parley

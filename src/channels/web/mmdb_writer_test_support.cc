// src/channels/web/mmdb_writer_test_support.cc
//
// Test only: the MaxMind DB encoder behind MmdbWriter, following the format's specification.
#include "channels/web/mmdb_writer_test_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <fstream>

namespace parley::channels::web::testing {
namespace {

// Data section types; 8 and above are "extended", written as type 0 plus a byte (type - 7).
constexpr int kUtf8String = 2;
constexpr int kDouble = 3;
constexpr int kUint16 = 5;
constexpr int kUint32 = 6;
constexpr int kMap = 7;
constexpr int kUint64 = 9;
constexpr int kArray = 11;

constexpr int kRecordBits = 24;
constexpr size_t kDataSectionSeparator = 16;
constexpr std::string_view kMetadataMarker = "\xAB\xCD\xEFMaxMind.com";
constexpr uint64_t kBuildEpoch = 1'763'708'000;  // fixed, so files are reproducible

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// The control byte, the extended type byte if any, then the size in 5 bits or 1-3 more bytes.
void AppendControl(std::string& out, int type, size_t size) {
  const bool extended = type > 7;
  const uint8_t type_bits = static_cast<uint8_t>((extended ? 0 : type) << 5);
  auto control = [&](uint8_t size_bits) {
    out.push_back(static_cast<char>(type_bits | size_bits));
    if (extended) out.push_back(static_cast<char>(type - 7));
  };
  if (size < 29) {
    control(static_cast<uint8_t>(size));
  } else if (size < 29 + 256) {
    control(29);
    AppendBigEndian(out, size - 29, 1);
  } else if (size < 285 + 65536) {
    control(30);
    AppendBigEndian(out, size - 285, 2);
  } else {
    PARLEY_CHECK(size < 65821 + (size_t{1} << 24));
    control(31);
    AppendBigEndian(out, size - 65821, 3);
  }
}

void AppendUnsigned(std::string& out, int type, uint64_t value) {
  const int bytes = (std::bit_width(value) + 7) / 8;  // leading zero bytes are left out
  AppendControl(out, type, static_cast<size_t>(bytes));
  AppendBigEndian(out, value, bytes);
}

}  // namespace

MmdbValue MmdbValue::String(std::string text) {
  MmdbValue v(Type::kString);
  v.text_ = std::move(text);
  return v;
}
MmdbValue MmdbValue::Double(double value) {
  MmdbValue v(Type::kDouble);
  v.double_ = value;
  return v;
}
MmdbValue MmdbValue::Uint16(uint16_t value) {
  MmdbValue v(Type::kUint16);
  v.uint_ = value;
  return v;
}
MmdbValue MmdbValue::Uint32(uint32_t value) {
  MmdbValue v(Type::kUint32);
  v.uint_ = value;
  return v;
}
MmdbValue MmdbValue::Uint64(uint64_t value) {
  MmdbValue v(Type::kUint64);
  v.uint_ = value;
  return v;
}
MmdbValue MmdbValue::Map(Entries entries) {
  MmdbValue v(Type::kMap);
  v.entries_ = std::move(entries);
  return v;
}
MmdbValue MmdbValue::Array(std::vector<MmdbValue> items) {
  MmdbValue v(Type::kArray);
  v.items_ = std::move(items);
  return v;
}

void MmdbValue::EncodeTo(std::string& out) const {
  switch (type_) {
    case Type::kString:
      AppendControl(out, kUtf8String, text_.size());
      out += text_;
      return;
    case Type::kDouble:
      AppendControl(out, kDouble, 8);
      AppendBigEndian(out, std::bit_cast<uint64_t>(double_), 8);
      return;
    case Type::kUint16:
      AppendUnsigned(out, kUint16, uint_);
      return;
    case Type::kUint32:
      AppendUnsigned(out, kUint32, uint_);
      return;
    case Type::kUint64:
      AppendUnsigned(out, kUint64, uint_);
      return;
    case Type::kMap:
      AppendControl(out, kMap, entries_.size());
      for (const auto& [key, value] : entries_) {
        String(key).EncodeTo(out);
        value.EncodeTo(out);
      }
      return;
    case Type::kArray:
      AppendControl(out, kArray, items_.size());
      for (const MmdbValue& item : items_) item.EncodeTo(out);
      return;
  }
}

MmdbWriter::MmdbWriter(std::string database_type, std::vector<std::string> languages)
    : database_type_(std::move(database_type)), languages_(std::move(languages)), nodes_(1) {}

Status MmdbWriter::Insert(std::string_view cidr, MmdbValue record) {
  const size_t slash = cidr.find('/');
  boost::system::error_code ec;
  const boost::asio::ip::address address =
      boost::asio::ip::make_address(std::string(cidr.substr(0, slash)), ec);
  if (ec) return InvalidArgument(fmt::format("{}: not an address", cidr));
  const int address_bits = address.is_v4() ? 32 : 128;
  int prefix = address_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = cidr.substr(slash + 1);
    auto [end, parse_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (parse_ec != std::errc() || end != digits.data() + digits.size() || prefix < 1 ||
        prefix > address_bits) {
      return InvalidArgument(fmt::format("{}: bad prefix length", cidr));
    }
  }
  // The tree is always 128 bits deep; IPv4 a.b.c.d is the IPv6 address ::a.b.c.d.
  std::array<uint8_t, 16> key{};
  if (address.is_v4()) {
    const auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), key.begin() + 12);
    prefix += 96;
  } else {
    key = address.to_v6().to_bytes();
  }

  uint32_t node = 0;
  for (int depth = 0; depth < prefix; ++depth) {
    const int bit = (key[depth / 8] >> (7 - depth % 8)) & 1;
    Child& child = nodes_[node].child[bit];
    if (depth == prefix - 1) {
      if (child.kind != Child::Kind::kEmpty) {
        return InvalidArgument(fmt::format("{}: overlaps an inserted network", cidr));
      }
      child = {Child::Kind::kData, static_cast<uint32_t>(records_.size())};
      records_.push_back(std::move(record));
      return OkStatus();
    }
    if (child.kind == Child::Kind::kData) {
      return InvalidArgument(fmt::format("{}: inside an inserted network", cidr));
    }
    if (child.kind == Child::Kind::kEmpty) {
      child = {Child::Kind::kNode, static_cast<uint32_t>(nodes_.size())};
      nodes_.emplace_back();  // invalidates `child`, which is not used again
    }
    node = nodes_[node].child[bit].index;
  }
  return OkStatus();
}

std::string MmdbWriter::Serialize() const {
  std::string data;
  std::vector<size_t> record_offsets;
  for (const MmdbValue& record : records_) {
    record_offsets.push_back(data.size());
    record.EncodeTo(data);
  }

  // Record values: < node_count a node, == node_count "no data", above it a data pointer
  // (node_count + 16 + offset into the data section).
  const uint64_t node_count = nodes_.size();
  std::string file;
  for (const Node& node : nodes_) {
    for (const Child& child : node.child) {
      uint64_t value = node_count;
      if (child.kind == Child::Kind::kNode) value = child.index;
      if (child.kind == Child::Kind::kData) {
        value = node_count + kDataSectionSeparator + record_offsets[child.index];
      }
      PARLEY_CHECK(value < (uint64_t{1} << kRecordBits));
      AppendBigEndian(file, value, kRecordBits / 8);
    }
  }
  file.append(kDataSectionSeparator, '\0');
  file += data;
  file += kMetadataMarker;

  std::vector<MmdbValue> languages;
  for (const std::string& language : languages_) languages.push_back(MmdbValue::String(language));
  MmdbValue::Map({
                     {"node_count", MmdbValue::Uint32(static_cast<uint32_t>(node_count))},
                     {"record_size", MmdbValue::Uint16(kRecordBits)},
                     {"ip_version", MmdbValue::Uint16(6)},
                     {"database_type", MmdbValue::String(database_type_)},
                     {"languages", MmdbValue::Array(std::move(languages))},
                     {"binary_format_major_version", MmdbValue::Uint16(2)},
                     {"binary_format_minor_version", MmdbValue::Uint16(0)},
                     {"build_epoch", MmdbValue::Uint64(kBuildEpoch)},
                     {"description", MmdbValue::Map({{"en", MmdbValue::String("Parley test")}})},
                 })
      .EncodeTo(file);
  return file;
}

Status MmdbWriter::WriteFile(const std::filesystem::path& path) const {
  const std::string bytes = Serialize();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Internal(fmt::format("cannot write {}", path.string()));
  return OkStatus();
}

}  // namespace parley::channels::web::testing

// src/channels/web/mmdb_writer_test_support.h
//
// Test only: writes small MaxMind DB files (https://maxmind.github.io/MaxMind-DB/) so GeoIp
// can be tested against libmaxminddb without shipping a real GeoLite2 database.
//
//   MmdbWriter writer("GeoLite2-City");
//   ASSERT_TRUE(writer.Insert("81.2.69.0/24", MmdbValue::Map({{"city", ...}})).ok());
//   ASSERT_TRUE(writer.WriteFile(dir / "city.mmdb").ok());
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace parley::channels::web::testing {

// One value of the MaxMind DB data section: a string, double, unsigned integer, map or array.
class MmdbValue {
 public:
  enum class Type { kString, kDouble, kUint16, kUint32, kUint64, kMap, kArray };
  using Entries = std::vector<std::pair<std::string, MmdbValue>>;

  static MmdbValue String(std::string text);
  static MmdbValue Double(double value);
  static MmdbValue Uint16(uint16_t value);
  static MmdbValue Uint32(uint32_t value);
  static MmdbValue Uint64(uint64_t value);
  static MmdbValue Map(Entries entries);
  static MmdbValue Array(std::vector<MmdbValue> items);

  // Appends the encoded value (control byte, size, payload; no pointers) to `out`.
  void EncodeTo(std::string& out) const;

 private:
  explicit MmdbValue(Type type) : type_(type) {}

  Type type_;
  std::string text_;
  double double_ = 0;
  uint64_t uint_ = 0;
  Entries entries_;
  std::vector<MmdbValue> items_;
};

// Builds an ip_version 6 database with 24-bit records. IPv4 networks live under ::/96, where
// libmaxminddb looks IPv4 addresses up in an IPv6 database.
class MmdbWriter {
 public:
  explicit MmdbWriter(std::string database_type, std::vector<std::string> languages = {"en"});

  // Maps `cidr` ("81.2.69.0/24", "2001:db8::/32", a plain address) to `record`.
  // Errors: kInvalidArgument (bad CIDR, prefix 0, or a network overlapping an inserted one).
  Status Insert(std::string_view cidr, MmdbValue record);

  // The complete file: search tree, 16-byte separator, data section, metadata.
  std::string Serialize() const;

  Status WriteFile(const std::filesystem::path& path) const;

  // Nodes in the search tree (the metadata's node_count).
  size_t node_count() const { return nodes_.size(); }

 private:
  struct Child {
    enum class Kind { kEmpty, kNode, kData } kind = Kind::kEmpty;
    uint32_t index = 0;  // node number or record number
  };
  struct Node {
    Child child[2];
  };

  const std::string database_type_;
  const std::vector<std::string> languages_;
  std::vector<Node> nodes_;
  std::vector<MmdbValue> records_;
};

}  // namespace parley::channels::web::testing

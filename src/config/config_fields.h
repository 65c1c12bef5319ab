// src/config/config_fields.h — internal to src/config.
//
// The table of every config key: its TOML path, its environment variable, its type, how a
// value is checked and stored, and how the stored value is re-checked by Validate. The file
// parser, the environment parser and Validate all go through this one table, so a key is
// validated the same way wherever it comes from.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace parley::config::internal {

enum class FieldType { kString, kInt, kBool };

// A value already of the field's type (the parsers convert and report type errors).
using FieldValue = std::variant<std::string, int64_t, bool>;

struct FieldSpec {
  std::string path;      // "server.max_body_bytes"
  std::string env_name;  // "PARLEY_SERVER__MAX_BODY_BYTES"
  FieldType type;
  // Checks `value` and stores it. Returns "" or the error without its label, e.g.
  // "must be between 1024 and 67108864 (got 12)". Never includes a secret's value.
  std::function<std::string(Config&, const FieldValue&)> assign;
  // Re-checks the value stored in a config. Returns "" or the error without its label.
  std::function<std::string(const Config&)> check;
};

const std::vector<FieldSpec>& Fields();
const FieldSpec* FindFieldByPath(std::string_view path);
const FieldSpec* FindFieldByEnv(std::string_view env_name);
// True for "server", "channels", "channels.custom", … (tables that hold keys).
bool IsSection(std::string_view path);

// "" or why: a 64-hex-character master key. Never echoes the key.
std::string CheckMasterKey(std::string_view hex);
// "" or why: an admin token of 16..1024 printable ASCII characters. Never echoes the token.
std::string CheckAdminToken(std::string_view token);
// "" or why: a file or directory path (≤ 4096 bytes, no control characters).
std::string CheckPath(std::string_view path, bool allow_empty);

inline constexpr size_t kMaxStringBytes = 4096;

}  // namespace parley::config::internal

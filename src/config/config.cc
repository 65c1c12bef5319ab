#include "config/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "config/config_fields.h"

namespace parley::config {

namespace {

using internal::FieldSpec;
using internal::FieldType;
using internal::FieldValue;

constexpr size_t kMaxConfigFileBytes = 1 << 20;
constexpr size_t kMaxTokenFileBytes = 4096;

// Shorthand variables (DESIGN.md §8); each has a long form PARLEY_<SECTION>__<KEY> too.
struct EnvAlias {
  std::string_view name;
  std::string_view path;
};
constexpr EnvAlias kEnvAliases[] = {
    {"PARLEY_LISTEN", "server.listen"},
    {"PARLEY_ADMIN_TOKEN", "security.admin_token"},
    {"PARLEY_MASTER_KEY_FILE", "security.master_key_file"},
    {"PARLEY_LOG_LEVEL", "log.level"},
};
constexpr std::string_view kMasterKeyEnv = "PARLEY_MASTER_KEY";

// Every problem found, so an operator fixes a config in one round instead of ten.
class Errors {
 public:
  void Add(std::string_view label, std::string_view what) {
    list_.push_back(fmt::format("{}: {}", label, what));
  }
  bool empty() const { return list_.empty(); }
  Status ToStatus() const { return InvalidArgument(fmt::format("{}", fmt::join(list_, "; "))); }

 private:
  std::vector<std::string> list_;
};

// Keys come from the file; they are echoed in errors, so keep them short and printable.
// Characters outside TOML's bare-key set (including '.', so a quoted "server.listen" key is
// never mistaken for the path server.listen) show as '?'.
std::string DisplayKey(std::string_view key, bool* is_bare) {
  *is_bare = !key.empty();
  std::string out;
  for (char c : key.substr(0, 64)) {
    bool bare = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    *is_bare = *is_bare && bare;
    out += bare ? c : '?';
  }
  if (key.size() > 64) {
    *is_bare = false;
    out += "...";
  }
  return out;
}

std::string TypeError(FieldType type) {
  switch (type) {
    case FieldType::kInt:
      return "expected an integer";
    case FieldType::kBool:
      return "expected true or false";
    case FieldType::kString:
      return "expected a string";
  }
  return "wrong type";
}

void AssignChecked(const FieldSpec& field, const FieldValue& value, std::string_view label,
                   Config& config, Errors& errors) {
  std::string error = field.assign(config, value);
  if (!error.empty()) errors.Add(label, error);
}

void ApplyTomlValue(const FieldSpec& field, const toml::node& node, Config& config,
                    Errors& errors) {
  std::optional<FieldValue> value;
  switch (field.type) {
    case FieldType::kInt:
      if (const auto* i = node.as_integer()) value = i->get();
      break;
    case FieldType::kBool:
      if (const auto* b = node.as_boolean()) value = b->get();
      break;
    case FieldType::kString:
      if (const auto* s = node.as_string()) {
        if (s->get().size() > internal::kMaxStringBytes) {
          errors.Add(field.path,
                     fmt::format("must be at most {} bytes", internal::kMaxStringBytes));
          return;
        }
        value = s->get();
      }
      break;
  }
  if (!value) {
    errors.Add(field.path, TypeError(field.type));
    return;
  }
  AssignChecked(field, *value, field.path, config, errors);
}

void ApplyTomlTable(const toml::table& table, const std::string& prefix, Config& config,
                    Errors& errors) {
  for (auto&& [key, node] : table) {
    bool bare = false;
    std::string shown = DisplayKey(key.str(), &bare);
    std::string path = prefix.empty() ? shown : prefix + "." + shown;
    if (bare) {
      if (const FieldSpec* field = internal::FindFieldByPath(path)) {
        ApplyTomlValue(*field, node, config, errors);
        continue;
      }
      if (internal::IsSection(path)) {
        if (const toml::table* sub = node.as_table()) {
          ApplyTomlTable(*sub, path, config, errors);
        } else {
          errors.Add(path, "expected a table");
        }
        continue;
      }
    }
    errors.Add(path, node.is_table() ? "unknown section" : "unknown key");
  }
}

void ApplyToml(std::string_view text, std::string_view source_name, Config& config,
               Errors& errors) {
  try {
    toml::table table = toml::parse(text, source_name);
    ApplyTomlTable(table, "", config, errors);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    errors.Add(fmt::format("{}:{}:{}", source_name, at.line, at.column), e.description());
  }
}

// Converts an environment string to the field's type; "" on success, else why.
std::string ParseEnvValue(FieldType type, std::string_view text, FieldValue& out) {
  if (text.size() > internal::kMaxStringBytes) {
    return fmt::format("must be at most {} bytes", internal::kMaxStringBytes);
  }
  switch (type) {
    case FieldType::kInt: {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return TypeError(type);
      }
      out = i;
      return "";
    }
    case FieldType::kBool:
      if (text == "true" || text == "false") {
        out = text == "true";
        return "";
      }
      return TypeError(type);
    case FieldType::kString:
      out = std::string(text);
      return "";
  }
  return TypeError(type);
}

// Applies PARLEY_* variables; records which paths they set in `from_env`.
void ApplyEnv(const Environment& env, Config& config, Errors& errors,
              std::set<std::string>& from_env) {
  for (const auto& [name, value] : env.vars()) {
    if (!name.starts_with("PARLEY_")) continue;
    if (name == kMasterKeyEnv) {
      std::string error = internal::CheckMasterKey(value);
      if (error.empty()) {
        config.security.master_key = Secret(value);
      } else {
        errors.Add(name, error);
      }
      continue;
    }
    const FieldSpec* field = nullptr;
    const auto* alias = std::find_if(std::begin(kEnvAliases), std::end(kEnvAliases),
                                     [&](const EnvAlias& a) { return a.name == name; });
    if (alias != std::end(kEnvAliases)) {
      field = internal::FindFieldByPath(alias->path);
      if (field != nullptr && env.Get(field->env_name)) {
        errors.Add(name, fmt::format("set only one of {} and {}", name, field->env_name));
        continue;
      }
    } else {
      field = internal::FindFieldByEnv(name);
    }
    if (field == nullptr) {
      // PARLEY_FOO__BAR is meant as config; a typo there must not be ignored.
      if (name.find("__") != std::string::npos) errors.Add(name, "unknown setting");
      continue;
    }
    FieldValue parsed;
    std::string error = ParseEnvValue(field->type, value, parsed);
    if (!error.empty()) {
      errors.Add(name, error);
      continue;
    }
    AssignChecked(*field, parsed, name, config, errors);
    from_env.insert(field->path);
  }
}

// Reads at most `max_bytes` of a regular file. Errors: kNotFound, kInvalidArgument.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return NotFound("does not exist: " + path);
  if (!std::filesystem::is_regular_file(status)) {
    return InvalidArgument("not a regular file: " + path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot open " + path);
  std::string data(max_bytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return InvalidArgument("cannot read " + path);
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > max_bytes) {
    return InvalidArgument(fmt::format("larger than {} bytes: {}", max_bytes, path));
  }
  return data;
}

// The token file is read here so the rest of Parley sees only security.admin_token.
void ResolveAdminTokenFile(const std::set<std::string>& from_env, Config& config, Errors& errors) {
  SecurityConfig& sec = config.security;
  constexpr std::string_view kLabel = "security.admin_token_file";
  if (sec.admin_token_file.empty() || from_env.contains("security.admin_token")) return;
  if (!sec.admin_token.empty()) {
    errors.Add(kLabel, "set only one of security.admin_token and security.admin_token_file");
    return;
  }
  Result<std::string> data = ReadSmallFile(sec.admin_token_file, kMaxTokenFileBytes);
  if (!data.ok()) {
    errors.Add(kLabel, data.status().message());
    return;
  }
  std::string token = std::move(*data);
  // Editors and `echo` end files with a newline; it is not part of the token.
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  Secret secret(std::move(token));
  if (secret.empty()) {
    errors.Add(kLabel, "the file is empty");
    return;
  }
  std::string error = internal::CheckAdminToken(secret.reveal());
  if (!error.empty()) {
    errors.Add(kLabel, "the token " + error);
    return;
  }
  sec.admin_token = std::move(secret);
}

// With storage = "s3" the service and credentials are required; with "local" the s3_* keys
// keep their defaults, so a misspelt storage line or a stray key does not go unnoticed.
void CheckAttachmentStorage(const AttachmentsConfig& attachments, Errors& errors) {
  const AttachmentsS3Config& s3 = attachments.s3;
  if (attachments.storage == AttachmentStorage::kS3) {
    constexpr std::string_view kRequired = "required with attachments.storage = \"s3\"";
    if (s3.endpoint.empty()) errors.Add("attachments.s3_endpoint", kRequired);
    if (s3.access_key_id.empty()) errors.Add("attachments.s3_access_key_id", kRequired);
    if (s3.secret_access_key.empty()) errors.Add("attachments.s3_secret_access_key", kRequired);
    return;
  }
  constexpr std::string_view kOnlyS3 = "only with attachments.storage = \"s3\"";
  const AttachmentsS3Config defaults;
  if (s3.endpoint != defaults.endpoint) errors.Add("attachments.s3_endpoint", kOnlyS3);
  if (s3.region != defaults.region) errors.Add("attachments.s3_region", kOnlyS3);
  if (s3.access_key_id != defaults.access_key_id) {
    errors.Add("attachments.s3_access_key_id", kOnlyS3);
  }
  if (!s3.secret_access_key.empty()) errors.Add("attachments.s3_secret_access_key", kOnlyS3);
  if (s3.bucket_pattern != defaults.bucket_pattern) {
    errors.Add("attachments.s3_bucket_pattern", kOnlyS3);
  }
  if (s3.request_timeout != defaults.request_timeout) {
    errors.Add("attachments.s3_request_timeout_ms", kOnlyS3);
  }
}

void CheckCrossField(const Config& config, Errors& errors) {
  CheckAttachmentStorage(config.attachments, errors);
  if (!config.attachments.scan_command.empty() && !config.attachments.scan_clamd_socket.empty()) {
    errors.Add("attachments.scan_command",
               "attachments.scan_command and attachments.scan_clamd_socket exclude each other");
  }
  if (config.server.tls_cert_file.empty() != config.server.tls_key_file.empty()) {
    errors.Add(config.server.tls_cert_file.empty() ? "server.tls_cert_file" : "server.tls_key_file",
               "server.tls_cert_file and server.tls_key_file must be set together");
  }
  if (config.delivery.initial_backoff > config.delivery.max_backoff) {
    errors.Add(
        "delivery.initial_backoff_ms",
        fmt::format("must not exceed delivery.max_backoff_ms ({} > {})",
                    config.delivery.initial_backoff.count(), config.delivery.max_backoff.count()));
  }
  if (config.channels.media_fetches_per_tenant > config.channels.media_fetches) {
    errors.Add(
        "channels.media_fetches_per_tenant",
        fmt::format("must not exceed channels.media_fetches ({} > {})",
                    config.channels.media_fetches_per_tenant, config.channels.media_fetches));
  }
}

}  // namespace

Result<Config> LoadFromString(std::string_view toml, const Environment& env,
                              std::string_view source_name) {
  Config config;
  Errors errors;
  ApplyToml(toml, source_name, config, errors);
  std::set<std::string> from_env;
  ApplyEnv(env, config, errors, from_env);
  if (errors.empty()) ResolveAdminTokenFile(from_env, config, errors);
  if (errors.empty()) CheckCrossField(config, errors);
  if (!errors.empty()) return errors.ToStatus();
  return config;
}

Result<Config> Load(const std::optional<std::string>& path, const Environment& env) {
  if (!path) return LoadFromString("", env);
  Result<std::string> text = ReadSmallFile(*path, kMaxConfigFileBytes);
  if (!text.ok()) {
    return Status(text.status().code(), "config file " + text.status().message());
  }
  return LoadFromString(*text, env, *path);
}

Status Validate(const Config& config) {
  Errors errors;
  for (const FieldSpec& field : internal::Fields()) {
    std::string error = field.check(config);
    if (!error.empty()) errors.Add(field.path, error);
  }
  if (!config.security.master_key.empty()) {
    std::string error = internal::CheckMasterKey(config.security.master_key.reveal());
    if (!error.empty()) errors.Add("security.master_key", error);
  }
  CheckCrossField(config, errors);
  return errors.empty() ? OkStatus() : errors.ToStatus();
}

Status ApplyListen(Config& config, std::string_view host_port) {
  Result<ListenAddress> address = ParseListenAddress(host_port);
  if (!address.ok()) return InvalidArgument("--listen: " + address.status().message());
  config.server.listen = *address;
  return OkStatus();
}

Status ApplyDataDir(Config& config, std::string_view data_dir) {
  std::string error = internal::CheckPath(data_dir, /*allow_empty=*/false);
  if (!error.empty()) return InvalidArgument("--data-dir: " + error);
  config.data_dir = std::string(data_dir);
  return OkStatus();
}

std::string MasterKeyFile(const Config& config) {
  if (!config.security.master_key_file.empty()) return config.security.master_key_file;
  return (std::filesystem::path(config.data_dir) / "master.key").string();
}

}  // namespace parley::config

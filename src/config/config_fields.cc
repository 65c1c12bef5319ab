#include "config/config_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <type_traits>

namespace parley::config::internal {

namespace {

template <typename T>
int64_t AsInt64(const T& v) {
  if constexpr (std::is_arithmetic_v<T>) {
    return static_cast<int64_t>(v);
  } else {
    return static_cast<int64_t>(v.count());  // a std::chrono::duration
  }
}

template <typename T>
T FromInt64(int64_t v) {
  if constexpr (std::is_arithmetic_v<T>) {
    return static_cast<T>(v);
  } else {
    return T(v);
  }
}

std::string RangeError(int64_t v, int64_t min, int64_t max) {
  if (v >= min && v <= max) return "";
  return fmt::format("must be between {} and {} (got {})", min, max, v);
}

// "channels.custom.replay_window_s" -> "PARLEY_CHANNELS_CUSTOM__REPLAY_WINDOW_S",
// "data_dir" -> "PARLEY_DATA_DIR".
std::string EnvNameFor(std::string_view path) {
  std::string name = "PARLEY_";
  size_t last_dot = path.rfind('.');
  for (size_t i = 0; i < path.size(); ++i) {
    if (i == last_dot) {
      name += "__";
    } else if (path[i] == '.') {
      name += '_';
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i])));
    }
  }
  return name;
}

// `access` is a generic lambda returning a reference to the field in a (const) Config.
template <typename Access>
FieldSpec IntField(std::string path, int64_t min, int64_t max, Access access) {
  FieldSpec f{path, EnvNameFor(path), FieldType::kInt, nullptr, nullptr};
  f.assign = [=](Config& c, const FieldValue& v) {
    int64_t i = std::get<int64_t>(v);
    std::string error = RangeError(i, min, max);
    if (error.empty()) {
      auto& field = access(c);
      field = FromInt64<std::remove_reference_t<decltype(field)>>(i);
    }
    return error;
  };
  f.check = [=](const Config& c) { return RangeError(AsInt64(access(c)), min, max); };
  return f;
}

template <typename Access>
FieldSpec BoolField(std::string path, Access access) {
  FieldSpec f{path, EnvNameFor(path), FieldType::kBool, nullptr, nullptr};
  f.assign = [=](Config& c, const FieldValue& v) {
    access(c) = std::get<bool>(v);
    return std::string();
  };
  f.check = [](const Config&) { return std::string(); };
  return f;
}

// `check` validates the text; it must not echo it (some strings are secret or private).
template <typename Access>
FieldSpec StringField(std::string path, std::string (*check)(std::string_view), Access access) {
  FieldSpec f{path, EnvNameFor(path), FieldType::kString, nullptr, nullptr};
  f.assign = [=](Config& c, const FieldValue& v) {
    const std::string& s = std::get<std::string>(v);
    std::string error = check(s);
    if (error.empty()) access(c) = s;
    return error;
  };
  f.check = [=](const Config& c) { return check(access(c)); };
  return f;
}

// Like StringField, for a value held as a Secret; `check` must not echo it either.
template <typename Access>
FieldSpec SecretField(std::string path, std::string (*check)(std::string_view), Access access) {
  FieldSpec f{path, EnvNameFor(path), FieldType::kString, nullptr, nullptr};
  f.assign = [=](Config& c, const FieldValue& v) {
    const std::string& s = std::get<std::string>(v);
    std::string error = check(s);
    if (error.empty()) access(c) = Secret(s);
    return error;
  };
  f.check = [=](const Config& c) { return check(access(c).reveal()); };
  return f;
}

std::string CheckOptionalPath(std::string_view s) { return CheckPath(s, /*allow_empty=*/true); }

// Shape only: the web channel parses the networks when the server starts.
std::string CheckTrustedProxies(std::string_view s) {
  if (s.size() > 4096) return "must be at most 4096 bytes";
  bool ok = std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '/' ||
           c == ',' || c == ' ';
  });
  return ok ? "" : "must be comma-separated IP networks (\"10.0.0.0/8, 2001:db8::/32\")";
}
std::string CheckRequiredPath(std::string_view s) { return CheckPath(s, /*allow_empty=*/false); }

std::string CheckScanCommand(std::string_view s) {
  if (s.size() > 4096) return "must be at most 4096 bytes";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return "must not contain control characters";
  }
  return "";
}

std::string CheckStoreUrl(std::string_view url) {
  // Do not echo: a future postgres:// URL may carry a password.
  return url == "sqlite" ? "" : "only \"sqlite\" is supported";
}

std::string CheckPublicUrl(std::string_view url) {
  if (url.empty()) return "";
  constexpr std::string_view kError =
      "must be an http:// or https:// URL with a host, at most 2048 bytes, "
      "no spaces, no trailing '/'";
  if (url.size() > 2048) return std::string(kError);
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::string(kError);
  }
  bool printable = std::all_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable || rest.empty() || rest.front() == '/' || rest.front() == ':' ||
      url.back() == '/' || rest.find_first_of("?#@") != std::string_view::npos) {
    return std::string(kError);
  }
  return "";
}

constexpr std::string_view kStorageError = "must be \"local\" or \"s3\"";

bool IsPrintableWithoutSpace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The S3 checks below repeat the shape rules of blob::S3Options::Validate (config sits below
// blob and cannot call it); `parley serve` runs that one as well before it starts.

std::string CheckS3Endpoint(std::string_view url) {
  if (url.empty()) return "";  // required with storage = "s3": checked across fields
  constexpr std::string_view kError =
      "must be http://host[:port] or https://host[:port], without path, query, credentials "
      "or trailing '/'";
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::string(kError);
  }
  if (url.size() > 2048 || !IsPrintableWithoutSpace(url) || rest.empty() ||
      rest.find_first_of("/?#@") != std::string_view::npos) {
    return std::string(kError);
  }
  std::string_view host = rest;
  std::optional<std::string_view> port;
  if (rest.front() == '[') {  // an IPv6 literal
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::string(kError);
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string(kError);
      port = after.substr(1);
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    if (host.find_first_of("[]") != std::string_view::npos) return std::string(kError);
  }
  if (host.empty()) return std::string(kError);
  if (port) {
    bool digits =
        !port->empty() && port->size() <= 5 &&
        std::all_of(port->begin(), port->end(), [](char c) { return c >= '0' && c <= '9'; });
    int value = 0;
    for (char c : digits ? *port : std::string_view()) value = value * 10 + (c - '0');
    if (!digits || value < 1 || value > 65535) return std::string(kError);
  }
  return "";
}

std::string CheckS3Region(std::string_view region) {
  bool ok =
      !region.empty() && region.size() <= 64 &&
      std::all_of(region.begin(), region.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
  return ok ? "" : "must be 1 to 64 lower-case letters, digits and '-' (e.g. us-east-1)";
}

std::string CheckS3AccessKeyId(std::string_view id) {
  // '/' would shift the SigV4 credential scope and ',' would split the Authorization header.
  bool ok = id.size() <= 256 && IsPrintableWithoutSpace(id) &&
            id.find_first_of("/,") == std::string_view::npos;
  return ok ? "" : "must be at most 256 printable ASCII characters without space, '/' or ','";
}

std::string CheckS3SecretAccessKey(std::string_view secret) {
  bool ok = secret.size() <= 1024 && std::none_of(secret.begin(), secret.end(), [](char c) {
              return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
            });
  return ok ? "" : "must be at most 1024 bytes without control characters";
}

std::string CheckS3BucketPattern(std::string_view pattern) {
  constexpr std::string_view kPlaceholder = "{tenant}";
  if (pattern.find(kPlaceholder) == std::string_view::npos) return "must contain {tenant}";
  // Every tenant id becomes a bucket name part of the same length and alphabet: "tn-" and 26
  // lower-case letters or digits.
  std::string name;
  for (size_t pos = 0; pos < pattern.size();) {
    if (pattern.substr(pos).starts_with(kPlaceholder)) {
      name += "tn-00000000000000000000000000";
      pos += kPlaceholder.size();
    } else {
      name += pattern[pos++];
    }
  }
  bool ok = name.size() >= 3 && name.size() <= 63 && IsLowerAlnum(name.front()) &&
            IsLowerAlnum(name.back());
  for (size_t i = 0; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = IsLowerAlnum(c) || c == '-' || c == '.';
    if (ok && c == '.') ok = name[i - 1] != '.' && name[i - 1] != '-' && name[i + 1] != '-';
  }
  return ok ? ""
            : "must give a valid S3 bucket name: 3 to 63 characters of a-z, 0-9, '.' and '-', "
              "starting and ending with a letter or digit ({tenant} becomes 29 characters)";
}

std::string CheckLogLevel(std::string_view s) {
  Result<log::Level> level = log::ParseLevel(s);
  return level.ok() ? "" : level.status().message();
}

std::vector<FieldSpec> BuildFields() {
  std::vector<FieldSpec> f;
  f.push_back(StringField(
      "data_dir", CheckRequiredPath, [](auto& c) -> auto& { return c.data_dir; }));

  // server.listen is stored parsed, so it gets its own assign/check.
  FieldSpec listen{"server.listen", EnvNameFor("server.listen"), FieldType::kString, nullptr,
                   nullptr};
  listen.assign = [](Config& c, const FieldValue& v) {
    Result<ListenAddress> a = ParseListenAddress(std::get<std::string>(v));
    if (!a.ok()) return a.status().message();
    c.server.listen = *a;
    return std::string();
  };
  listen.check = [](const Config& c) {
    Result<ListenAddress> a = ParseListenAddress(c.server.listen.ToString());
    return a.ok() ? std::string() : a.status().message();
  };
  f.push_back(std::move(listen));

  f.push_back(IntField(
      "server.io_threads", 1, 64, [](auto& c) -> auto& { return c.server.io_threads; }));
  f.push_back(IntField(
      "server.max_header_bytes", 1024, 65536,
      [](auto& c) -> auto& { return c.server.max_header_bytes; }));
  f.push_back(IntField(
      "server.max_body_bytes", 1024, 67108864,
      [](auto& c) -> auto& { return c.server.max_body_bytes; }));
  f.push_back(IntField(
      "server.read_timeout_ms", 100, 600000,
      [](auto& c) -> auto& { return c.server.read_timeout; }));
  f.push_back(IntField(
      "server.idle_timeout_ms", 1000, 3600000,
      [](auto& c) -> auto& { return c.server.idle_timeout; }));
  f.push_back(StringField(
      "server.tls_cert_file", CheckOptionalPath,
      [](auto& c) -> auto& { return c.server.tls_cert_file; }));
  f.push_back(StringField(
      "server.tls_key_file", CheckOptionalPath,
      [](auto& c) -> auto& { return c.server.tls_key_file; }));
  f.push_back(StringField(
      "server.public_url", CheckPublicUrl, [](auto& c) -> auto& { return c.server.public_url; }));

  FieldSpec token{"security.admin_token", EnvNameFor("security.admin_token"), FieldType::kString,
                  nullptr, nullptr};
  token.assign = [](Config& c, const FieldValue& v) {
    const std::string& s = std::get<std::string>(v);
    std::string error = CheckAdminToken(s);
    if (error.empty()) c.security.admin_token = Secret(s);
    return error;
  };
  token.check = [](const Config& c) { return CheckAdminToken(c.security.admin_token.reveal()); };
  f.push_back(std::move(token));

  f.push_back(StringField(
      "security.admin_token_file", CheckOptionalPath,
      [](auto& c) -> auto& { return c.security.admin_token_file; }));
  f.push_back(StringField(
      "security.master_key_file", CheckOptionalPath,
      [](auto& c) -> auto& { return c.security.master_key_file; }));
  f.push_back(BoolField(
      "security.require_master_key",
      [](auto& c) -> auto& { return c.security.require_master_key; }));

  f.push_back(StringField(
      "store.url", CheckStoreUrl, [](auto& c) -> auto& { return c.store.url; }));
  f.push_back(IntField(
      "store.max_batch", 1, 10000, [](auto& c) -> auto& { return c.store.max_batch; }));
  f.push_back(BoolField(
      "store.rerun_writes", [](auto& c) -> auto& { return c.store.rerun_writes; }));

  f.push_back(IntField(
      "delivery.max_retry_age_s", 1, 604800,
      [](auto& c) -> auto& { return c.delivery.max_retry_age; }));
  f.push_back(IntField(
      "delivery.initial_backoff_ms", 10, 3600000,
      [](auto& c) -> auto& { return c.delivery.initial_backoff; }));
  f.push_back(IntField(
      "delivery.max_backoff_ms", 10, 86400000,
      [](auto& c) -> auto& { return c.delivery.max_backoff; }));
  f.push_back(IntField(
      "delivery.batch_size", 1, 500, [](auto& c) -> auto& { return c.delivery.batch_size; }));
  f.push_back(IntField(
      "delivery.request_timeout_ms", 100, 300000,
      [](auto& c) -> auto& { return c.delivery.request_timeout; }));
  f.push_back(IntField(
      "delivery.dead_letter_ttl_s", 3600, 2592000,
      [](auto& c) -> auto& { return c.delivery.dead_letter_ttl; }));

  f.push_back(IntField(
      "retention.sweep_interval_s", 1, 3600,
      [](auto& c) -> auto& { return c.retention.sweep_interval; }));
  f.push_back(IntField(
      "retention.delivered_grace_s", 0, 86400,
      [](auto& c) -> auto& { return c.retention.delivered_grace; }));
  f.push_back(IntField(
      "retention.inactivity_timeout_s", 5, 2592000,
      [](auto& c) -> auto& { return c.retention.inactivity_timeout; }));
  f.push_back(IntField(
      "retention.dedupe_window_s", 3600, 2592000,
      [](auto& c) -> auto& { return c.retention.dedupe_window; }));
  f.push_back(IntField(
      "retention.idempotency_window_s", 3600, 604800,
      [](auto& c) -> auto& { return c.retention.idempotency_window; }));
  f.push_back(IntField(
      "retention.ended_conversation_ttl_s", 0, 31536000,
      [](auto& c) -> auto& { return c.retention.ended_conversation_ttl; }));

  f.push_back(IntField(
      "attachments.ttl_s", 1, 86400, [](auto& c) -> auto& { return c.attachments.ttl; }));
  f.push_back(IntField(
      "attachments.max_bytes", 1, 104857600,
      [](auto& c) -> auto& { return c.attachments.max_bytes; }));
  f.push_back(StringField(
      "attachments.scan_command", CheckScanCommand,
      [](auto& c) -> auto& { return c.attachments.scan_command; }));
  f.push_back(StringField(
      "attachments.scan_clamd_socket", CheckOptionalPath,
      [](auto& c) -> auto& { return c.attachments.scan_clamd_socket; }));
  f.push_back(IntField(
      "attachments.scan_timeout_ms", 100, 600000,
      [](auto& c) -> auto& { return c.attachments.scan_timeout; }));

  // attachments.storage is stored as an enum, so it gets its own assign/check.
  FieldSpec storage{"attachments.storage", EnvNameFor("attachments.storage"), FieldType::kString,
                    nullptr, nullptr};
  storage.assign = [](Config& c, const FieldValue& v) {
    const std::string& s = std::get<std::string>(v);
    if (s == "local") {
      c.attachments.storage = AttachmentStorage::kLocal;
    } else if (s == "s3") {
      c.attachments.storage = AttachmentStorage::kS3;
    } else {
      return std::string(kStorageError);
    }
    return std::string();
  };
  storage.check = [](const Config& c) {
    AttachmentStorage s = c.attachments.storage;
    bool known = s == AttachmentStorage::kLocal || s == AttachmentStorage::kS3;
    return known ? std::string() : std::string(kStorageError);
  };
  f.push_back(std::move(storage));
  f.push_back(StringField(
      "attachments.s3_endpoint", CheckS3Endpoint,
      [](auto& c) -> auto& { return c.attachments.s3.endpoint; }));
  f.push_back(StringField(
      "attachments.s3_region", CheckS3Region,
      [](auto& c) -> auto& { return c.attachments.s3.region; }));
  f.push_back(StringField(
      "attachments.s3_access_key_id", CheckS3AccessKeyId,
      [](auto& c) -> auto& { return c.attachments.s3.access_key_id; }));
  f.push_back(SecretField(
      "attachments.s3_secret_access_key", CheckS3SecretAccessKey,
      [](auto& c) -> auto& { return c.attachments.s3.secret_access_key; }));
  f.push_back(StringField(
      "attachments.s3_bucket_pattern", CheckS3BucketPattern,
      [](auto& c) -> auto& { return c.attachments.s3.bucket_pattern; }));
  f.push_back(IntField(
      "attachments.s3_request_timeout_ms", 100, 600000,
      [](auto& c) -> auto& { return c.attachments.s3.request_timeout; }));

  f.push_back(IntField(
      "channels.media_fetches", 1, 256, [](auto& c) -> auto& { return c.channels.media_fetches; }));
  f.push_back(IntField(
      "channels.media_fetches_per_tenant", 0, 256,
      [](auto& c) -> auto& { return c.channels.media_fetches_per_tenant; }));
  f.push_back(IntField(
      "channels.custom.replay_window_s", 30, 3600,
      [](auto& c) -> auto& { return c.channels.custom.replay_window; }));

  f.push_back(StringField(
      "web.trusted_proxies", CheckTrustedProxies,
      [](auto& c) -> auto& { return c.web.trusted_proxies; }));
  f.push_back(StringField(
      "web.geoip_database", CheckOptionalPath,
      [](auto& c) -> auto& { return c.web.geoip_database; }));
  f.push_back(IntField(
      "web.sockets_per_ip_per_minute", 0, 10000000,
      [](auto& c) -> auto& { return c.web.sockets_per_ip_per_minute; }));
  f.push_back(IntField(
      "web.uploads_per_ip_per_minute", 0, 10000000,
      [](auto& c) -> auto& { return c.web.uploads_per_ip_per_minute; }));
  f.push_back(IntField(
      "web.frames_per_second", 1, 1000000,
      [](auto& c) -> auto& { return c.web.frames_per_second; }));
  f.push_back(IntField(
      "web.frame_burst", 1, 1000000, [](auto& c) -> auto& { return c.web.frame_burst; }));

  FieldSpec level{"log.level", EnvNameFor("log.level"), FieldType::kString, nullptr, nullptr};
  level.assign = [](Config& c, const FieldValue& v) {
    Result<log::Level> parsed = log::ParseLevel(std::get<std::string>(v));
    if (!parsed.ok()) return parsed.status().message();
    c.log.level = *parsed;
    return std::string();
  };
  level.check = [](const Config& c) { return CheckLogLevel(log::LevelName(c.log.level)); };
  f.push_back(std::move(level));
  f.push_back(StringField(
      "log.file", CheckOptionalPath, [](auto& c) -> auto& { return c.log.file; }));
  return f;
}

}  // namespace

const std::vector<FieldSpec>& Fields() {
  static const std::vector<FieldSpec> fields = BuildFields();
  return fields;
}

const FieldSpec* FindFieldByPath(std::string_view path) {
  for (const FieldSpec& f : Fields()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

const FieldSpec* FindFieldByEnv(std::string_view env_name) {
  for (const FieldSpec& f : Fields()) {
    if (f.env_name == env_name) return &f;
  }
  return nullptr;
}

bool IsSection(std::string_view path) {
  for (const FieldSpec& f : Fields()) {
    std::string_view p = f.path;
    if (p.size() > path.size() && p.starts_with(path) && p[path.size()] == '.') return true;
  }
  return false;
}

std::string CheckMasterKey(std::string_view hex) {
  bool ok = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
              return std::isxdigit(static_cast<unsigned char>(c));
            });
  return ok ? "" : "must be 64 hex characters";
}

std::string CheckAdminToken(std::string_view token) {
  if (token.empty()) return "";
  bool ok = token.size() >= 16 && token.size() <= 1024 &&
            std::all_of(token.begin(), token.end(), [](char c) {
              return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
            });
  return ok ? "" : "must be 16 to 1024 printable ASCII characters without spaces";
}

std::string CheckPath(std::string_view path, bool allow_empty) {
  if (path.empty()) return allow_empty ? "" : "must not be empty";
  if (path.size() > kMaxStringBytes)
    return fmt::format("must be at most {} bytes", kMaxStringBytes);
  bool clean = std::none_of(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  return clean ? "" : "must not contain control characters";
}

}  // namespace parley::config::internal

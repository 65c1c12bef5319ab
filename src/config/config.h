// src/config/config.h
//
// Parley's typed configuration: documented defaults, overridden by an optional TOML file,
// then by PARLEY_* environment variables, then by command-line flags (applied by the CLI).
// Every value is checked; errors name the TOML path or the variable, never the secret.
//
//   PARLEY_ASSIGN_OR_RETURN(config::Config cfg,
//                           config::Load(path_flag, config::Environment::FromProcess()));
//   if (listen_flag) PARLEY_RETURN_IF_ERROR(config::ApplyListen(cfg, *listen_flag));
//   PARLEY_RETURN_IF_ERROR(config::Validate(cfg));
//
// Environment variables:
//   PARLEY_<SECTION>__<KEY>  any key; section dots become '_' (PARLEY_SERVER__MAX_BODY_BYTES,
//                            PARLEY_CHANNELS_CUSTOM__REPLAY_WINDOW_S); top-level keys are
//                            PARLEY_<KEY> (PARLEY_DATA_DIR).
//   Shorthands: PARLEY_LISTEN (server.listen), PARLEY_ADMIN_TOKEN (security.admin_token),
//               PARLEY_MASTER_KEY_FILE (security.master_key_file), PARLEY_LOG_LEVEL (log.level).
//   PARLEY_MASTER_KEY        the master key itself, 64 hex characters (environment only).
// A shorthand and its long form set together is an error. A PARLEY_ name containing "__"
// that names no key is an error (a typo must not be ignored); other PARLEY_ names without
// "__" are left to their owners (e.g. the CLI's PARLEY_CONFIG).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/environment.h"
#include "config/listen_address.h"
#include "config/secret.h"
#include "core/log.h"
#include "core/result.h"
#include "core/status.h"

namespace parley::config {

// [server]. Ranges are inclusive; TOML keys in quotes.
struct ServerConfig {
  ListenAddress listen;                           // "listen" = "127.0.0.1:8080"
  int io_threads = 2;                             // 1..64
  size_t max_header_bytes = 8192;                 // 1024..65536
  size_t max_body_bytes = 1048576;                // 1024..67108864
  std::chrono::milliseconds read_timeout{10000};  // "read_timeout_ms" 100..600000: one request
  std::chrono::milliseconds idle_timeout{60000};  // "idle_timeout_ms" 1000..3600000: keep-alive
  std::string tls_cert_file;                      // both set => TLS listener (TLS 1.2+);
  std::string tls_key_file;                       //   set together or not at all
  std::string public_url;  // "" or http(s)://host[:port][/path], no trailing '/', ≤ 2048 bytes

  bool tls_enabled() const { return !tls_cert_file.empty(); }
};

// [security]
struct SecurityConfig {
  // Operator token for /v1/admin; empty = admin API disabled. 16..1024 printable ASCII
  // characters, no spaces. Precedence: PARLEY_ADMIN_TOKEN > admin_token_file > admin_token;
  // setting both admin_token and admin_token_file in the file is an error. Load reads the
  // file (trailing CR/LF stripped) and stores the token here.
  Secret admin_token;
  std::string admin_token_file;
  std::string master_key_file;  // "" = <data_dir>/master.key; see MasterKeyFile()
  // From PARLEY_MASTER_KEY only: 64 hex characters. When set, master_key_file is not used.
  Secret master_key;
  bool require_master_key = false;  // production: refuse to generate a master key
};

// [store]
struct StoreConfig {
  std::string url = "sqlite";  // only "sqlite" for now
  int max_batch = 256;         // 1..10000 writes per group-commit transaction
  // A testing aid (SqliteOptions::rerun_writes): runs each batch's leading rerunnable writes
  // twice. Doubles the writer's work; never for production.
  bool rerun_writes = false;
};

// [delivery]
struct DeliveryConfig {
  std::chrono::seconds max_retry_age{86400};         // "max_retry_age_s" 1..604800
  std::chrono::milliseconds initial_backoff{1000};   // "initial_backoff_ms" 10..3600000
  std::chrono::milliseconds max_backoff{3600000};    // "max_backoff_ms" 10..86400000, ≥ initial
  int batch_size = 50;                               // 1..500 events per webhook POST
  std::chrono::milliseconds request_timeout{10000};  // "request_timeout_ms" 100..300000
  std::chrono::seconds dead_letter_ttl{259200};      // "dead_letter_ttl_s" 3600..2592000
};

// [retention]: how long each record type is kept (docs/data-lifecycle.md). Dead letters use
// delivery.dead_letter_ttl_s.
struct RetentionConfig {
  std::chrono::seconds sweep_interval{60};  // "sweep_interval_s" 1..3600
  // Delivered messages and their events stay this long, for stream resumes and API reads.
  std::chrono::seconds delivered_grace{3600};  // "delivered_grace_s" 0..86400
  // Open conversations end after this long without activity (a tenant's settings may set
  // "inactivity_timeout_s" lower or higher, within the same range).
  std::chrono::seconds inactivity_timeout{86400};  // "inactivity_timeout_s" 5..2592000
  std::chrono::seconds dedupe_window{604800};      // "dedupe_window_s" 3600..2592000
  std::chrono::seconds idempotency_window{86400};  // "idempotency_window_s" 3600..604800
  // Ended conversations (ids, times, no content) are deleted this long after they end.
  std::chrono::seconds ended_conversation_ttl{2592000};  // "ended_conversation_ttl_s" 0..31536000
};

// Where attachment files are kept: "storage" = "local" | "s3".
enum class AttachmentStorage {
  kLocal,  // sealed files under <data_dir>/blobs (the default)
  kS3,     // an S3-compatible service, one bucket per tenant (the s3_* keys)
};

// The s3_* keys of [attachments]. Checked here for shape only; the S3 backend checks them
// again when it is built (config does not depend on it). With storage = "local" every key
// must keep its default.
struct AttachmentsS3Config {
  // "s3_endpoint": http(s)://host[:port], no path, query, credentials or trailing '/'.
  std::string endpoint;
  // "s3_region": 1..64 lower-case letters, digits and '-'; the SigV4 signing region.
  std::string region = "us-east-1";
  // "s3_access_key_id": ≤ 256 printable ASCII characters without space, '/' or ','.
  std::string access_key_id;
  // "s3_secret_access_key": ≤ 1024 bytes, no control characters; never echoed. Best set by
  // environment: PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY.
  Secret secret_access_key;
  // "s3_bucket_pattern": contains "{tenant}" (the tenant id lower-cased, '_' -> '-'); the
  // result must be a valid bucket name (3..63 characters of [a-z0-9.-]).
  std::string bucket_pattern = "parley-{tenant}";
  std::chrono::milliseconds request_timeout{30000};  // "s3_request_timeout_ms" 100..600000
};

// [attachments] (docs/data-lifecycle.md). Tenants may set "attachment_max_bytes" (up to 100 MiB)
// and "attachment_types" (an allow-list) in their settings.
struct AttachmentsConfig {
  std::chrono::seconds ttl{86400};  // "ttl_s" 1..86400: deleted this long after upload
  size_t max_bytes = 26214400;      // 1..104857600: per tenant, unless its setting says otherwise
  // An optional scan hook, at most one of the two: a command (program and arguments split on
  // spaces, no shell) that reads the file on stdin and exits 0 (clean) or 1 (rejected), or a
  // clamd unix socket (INSTREAM).
  std::string scan_command;
  std::string scan_clamd_socket;
  std::chrono::milliseconds scan_timeout{30000};  // "scan_timeout_ms" 100..600000
  // "storage" = "local" | "s3". With "s3", s3_endpoint, s3_access_key_id and
  // s3_secret_access_key are required.
  AttachmentStorage storage = AttachmentStorage::kLocal;
  AttachmentsS3Config s3;
};

// [channels.custom]
struct CustomChannelConfig {
  std::chrono::seconds replay_window{300};  // "replay_window_s" 30..3600
};

struct ChannelsConfig {
  // "media_fetches" 1..256: provider media downloads at once (each is held in memory, up to
  // its tenant's attachment limit, until stored); a webhook waits up to 5 s for one, then is
  // kept and tried again later.
  int media_fetches = 4;
  // "media_fetches_per_tenant" 0..256, at most media_fetches: of those, at most this many
  // for one tenant, so that one tenant's burst of pictures leaves the others theirs; 0 (the
  // default) is half of media_fetches, rounded up. A single-tenant deployment may set it to
  // media_fetches.
  int media_fetches_per_tenant = 0;
  CustomChannelConfig custom;
};

// The provider media downloads one tenant may have in progress at once (see above).
inline int MediaFetchesPerTenant(const ChannelsConfig& c) {
  return c.media_fetches_per_tenant == 0 ? (c.media_fetches + 1) / 2 : c.media_fetches_per_tenant;
}

// [web]: the web chat channel (docs/channels/web.md).
struct WebConfig {
  // Comma-separated networks ("10.0.0.0/8, 2001:db8::/32") or addresses of the proxies whose
  // X-Forwarded-For is believed; checked again (fully) when the server starts.
  std::string trusted_proxies;
  std::string geoip_database;          // "" or a MaxMind DB file (GeoLite2-City format)
  int sockets_per_ip_per_minute = 30;  // 0..10000000 widget sockets opened per IP; 0 = no limit
  int uploads_per_ip_per_minute = 20;  // 0..10000000 widget uploads per IP; 0 = no limit
  int frames_per_second = 10;          // 1..1000000 frames a widget session may send
  int frame_burst = 30;                // 1..1000000 frames above that rate, in a burst
};

// [log]
struct LogConfig {
  log::Level level = log::Level::kInfo;  // trace, debug, info, warn, error, off
  std::string file;                      // "" = stderr
};

struct Config {
  std::string data_dir = "./parley-data";  // non-empty
  ServerConfig server;
  SecurityConfig security;
  StoreConfig store;
  DeliveryConfig delivery;
  RetentionConfig retention;
  AttachmentsConfig attachments;
  ChannelsConfig channels;
  WebConfig web;
  LogConfig log;
};

// Reads the TOML file at `path` (if given; at most 1 MiB), then applies `env`, then checks
// everything (Validate). Errors: kNotFound (the file does not exist), kInvalidArgument
// (unreadable file, TOML syntax, unknown keys or sections, wrong types, values out of range,
// bad environment values, unreadable admin_token_file) — all problems found, one per
// "; "-separated entry: "server.max_body_bytes: must be between 1024 and 67108864 (got 12)".
Result<Config> Load(const std::optional<std::string>& path, const Environment& env);

// The same with the TOML text given directly; `source_name` prefixes syntax errors.
Result<Config> LoadFromString(std::string_view toml, const Environment& env,
                              std::string_view source_name = "config");

// Checks every value and the rules between values (TLS pair, backoff order, attachment
// storage) of a config built or changed in code. Errors: kInvalidArgument, reported by TOML
// path.
Status Validate(const Config& config);

// Command-line overrides (--listen, --data-dir), applied after Load.
// Errors: kInvalidArgument ("--listen: expected HOST:PORT").
Status ApplyListen(Config& config, std::string_view host_port);
Status ApplyDataDir(Config& config, std::string_view data_dir);

// security.master_key_file, or <data_dir>/master.key when that is empty.
std::string MasterKeyFile(const Config& config);

}  // namespace parley::config

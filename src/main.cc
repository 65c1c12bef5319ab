// The composition root: the one place that knows every concrete type. `parley serve`
// builds the embedded default (SQLite store, in-process bus) and wires the layers together.
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "api/connection_cache.h"
#include "api/handlers.h"
#include "api/rate_limiter.h"
#include "api/web_chat.h"
#include "blob/local_blob_store.h"
#include "blob/s3_blob_store.h"
#include "bus/in_process_bus.h"
#include "channels/registry.h"
#include "channels/web/context.h"
#include "channels/web/web_adapter.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "config/config.h"
#include "core/log.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "delivery/attachments.h"
#include "delivery/dispatcher.h"
#include "delivery/stream_hub.h"
#include "delivery/sweeper.h"
#include "http/client.h"
#include "http/io_runtime.h"
#include "http/metrics.h"
#include "http/server.h"
#include "store/sqlite/sqlite_store.h"

namespace parley {
extern const char* const kOpenApiJson;  // generated from docs/openapi.json
}

namespace {

using namespace parley;

int Fail(const std::string& what) {
  std::cerr << "parley: " << what << "\n";
  return 2;
}

Status EnsurePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPrecondition("cannot create data directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return OkStatus();
}

// The operator token: configured, or (embedded default) generated once into the data
// directory with mode 0600 so the CLI on this machine can use it.
Result<std::string> AdminToken(const config::Config& cfg) {
  if (!cfg.security.admin_token.empty()) return cfg.security.admin_token.reveal();
  std::string path = cfg.data_dir + "/admin.token";
  std::ifstream in(path);
  std::string token;
  if (in && std::getline(in, token) && !token.empty()) return token;
  token = "pat_" + crypto::RandomToken(32);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return FailedPrecondition("cannot create " + path + ": " + std::strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return FailedPrecondition("cannot write " + path);
  log::Warn("admin_token.generated", {{"path", path}});
  return token;
}

Result<crypto::MasterKey> LoadMasterKey(const config::Config& cfg) {
  if (!cfg.security.master_key.empty())
    return crypto::MasterKey::FromHex(cfg.security.master_key.reveal());
  if (!cfg.security.master_key_file.empty()) {
    return crypto::MasterKey::FromFile(cfg.security.master_key_file);
  }
  bool generated = false;
  auto key =
      crypto::MasterKey::LoadOrCreate(cfg.data_dir, !cfg.security.require_master_key, &generated);
  if (key.ok() && generated) {
    log::Warn("master_key.generated",
              {{"path", cfg.data_dir + "/master.key"},
               {"advice",
                "back this file up and keep it off the data volume in production; "
                "without it the data cannot be read"}});
  }
  return key;
}

// The attachment backend [attachments] storage names. `keys`, `client` and `clock` outlive it.
Result<std::unique_ptr<blob::BlobStore>> MakeBlobStore(const config::Config& cfg,
                                                       delivery::TenantKeys& keys,
                                                       http::Client& client, const Clock& clock) {
  if (cfg.attachments.storage == config::AttachmentStorage::kLocal) {
    blob::LocalBlobOptions options;
    options.root = cfg.data_dir + "/blobs";
    options.keys = [&keys](const TenantId& tenant) { return keys.Get(tenant); };
    PARLEY_ASSIGN_OR_RETURN(auto local, blob::LocalBlobStore::Open(std::move(options)));
    return std::unique_ptr<blob::BlobStore>(std::move(local));
  }
  const config::AttachmentsS3Config& s3 = cfg.attachments.s3;
  blob::S3Options options;
  options.endpoint = s3.endpoint;
  options.region = s3.region;
  options.credentials.access_key_id = s3.access_key_id;
  options.credentials.secret_access_key = s3.secret_access_key.reveal();
  options.bucket_pattern = s3.bucket_pattern;
  options.request_timeout = s3.request_timeout;
  // Config checks only the shape of the s3_* keys; the backend's own rules may still refuse
  // them. Its messages name the option and never the credentials.
  auto store = blob::S3BlobStore::Make(std::move(options), client, clock);
  if (!store.ok()) {
    return Status(store.status().code(),
                  "attachments.storage = \"s3\": the S3 settings are not usable: " +
                      store.status().message());
  }
  return std::unique_ptr<blob::BlobStore>(std::move(*store));
}

// Attachment links travel in webhooks to other machines, so they should be absolute. Without
// server.public_url, the listener's own address serves when it names one host and a port;
// otherwise links stay relative ("/v1/attachments/…") and the operator is told once.
std::string AttachmentPublicUrl(const config::Config& cfg) {
  if (!cfg.server.public_url.empty()) return cfg.server.public_url;
  const config::ListenAddress& listen = cfg.server.listen;
  boost::system::error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(listen.host, ec);
  std::string_view reason;
  if (!ec && address.is_unspecified()) {
    reason = "the listen address is a wildcard";
  } else if (listen.port == 0) {
    reason = "the listen port is chosen at start (0)";
  }
  if (!reason.empty()) {
    log::Warn("config.public_url_unset",
              {{"listen", listen.ToString()},
               {"reason", reason},
               {"advice",
                "attachment links are relative; set server.public_url so that they work "
                "from other machines"}});
    return "";
  }
  std::string host = !ec && address.is_v6() ? "[" + listen.host + "]" : listen.host;
  return (cfg.server.tls_enabled() ? "https://" : "http://") + host + ":" +
         std::to_string(listen.port);
}

// Histograms of where the store's transactions spend their time, fed by the writer thread.
std::function<void(const store::sqlite::CommitTimes&)> StoreTimeMetrics(http::Metrics& metrics) {
  const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  auto series = [&](const char* name, const char* help) {
    return &metrics.AddHistogram(name, help, {}, bounds).WithLabels({});
  };
  http::Histogram::Series* queued =
      series("parley_store_queue_seconds",
             "How long each transaction's oldest write waited for the store's writer.");
  http::Histogram::Series* statements =
      series("parley_store_statements_seconds",
             "Each committed transaction's writes, from its first BEGIN to its COMMIT (runs "
             "rolled back and run again included).");
  http::Histogram::Series* commit = series(
      "parley_store_commit_seconds", "Each COMMIT: the WAL frames written and synced to disk.");
  http::Histogram::Series* wal_sync = series("parley_store_wal_sync_seconds",
                                             "The WAL file's sync (fdatasync) within each COMMIT.");
  return [=](const store::sqlite::CommitTimes& t) {
    using Seconds = std::chrono::duration<double>;
    queued->Observe(Seconds(t.queued).count());
    statements->Observe(Seconds(t.statements).count());
    commit->Observe(Seconds(t.commit).count());
    if (t.wrote_wal) wal_sync->Observe(Seconds(t.wal_sync).count());
  };
}

int Serve(const cli::ServeFlags& flags) {
  auto loaded = config::Load(flags.config_file, config::Environment::FromProcess());
  if (!loaded.ok()) return Fail(loaded.status().message());
  config::Config cfg = std::move(*loaded);
  if (flags.listen) {
    Status s = config::ApplyListen(cfg, *flags.listen);
    if (!s.ok()) return Fail(s.message());
  }
  if (flags.data_dir) {
    Status s = config::ApplyDataDir(cfg, *flags.data_dir);
    if (!s.ok()) return Fail(s.message());
  }
  if (flags.require_master_key) cfg.security.require_master_key = true;
  if (Status s = config::Validate(cfg); !s.ok()) return Fail(s.message());
  log::Init(log::LogOptions{cfg.log.level, cfg.log.file});

  if (Status s = EnsurePrivateDir(cfg.data_dir); !s.ok()) return Fail(s.message());
  auto master = LoadMasterKey(cfg);
  if (!master.ok()) return Fail(master.status().message());
  auto admin_token = AdminToken(cfg);
  if (!admin_token.ok()) return Fail(admin_token.status().message());

  const Clock& clock = SystemClock::Instance();
  // Before the store: its writer observes into these metrics until the store is destroyed.
  http::Metrics metrics;
  store::sqlite::SqliteOptions store_options;
  store_options.path = cfg.data_dir + "/parley.db";
  store_options.max_batch = cfg.store.max_batch;
  store_options.rerun_writes = cfg.store.rerun_writes;
  if (cfg.store.rerun_writes) {
    log::Warn("store.rerun_writes",
              {{"note", "testing aid: each batch's leading rerunnable writes run twice"}});
  }
  store_options.clock = &clock;
  store_options.on_commit = StoreTimeMetrics(metrics);
  auto store = store::sqlite::SqliteStore::Open(store_options);
  if (!store.ok()) return Fail("cannot open the store: " + store.status().message());

  http::IoRuntime runtime;
  runtime.Start(cfg.server.io_threads);
  crypto::KeyRing ring(std::move(*master));
  delivery::TenantKeys keys(ring, **store);
  http::ClientOptions client_options;
  // The S3 attachment backend reads objects in ranged GETs of kS3ReadBytes.
  client_options.max_response_bytes =
      std::max(client_options.max_response_bytes, blob::kS3ReadBytes);
  http::Client client(runtime.context(), client_options);
  // Provider media downloads: bodies up to the largest attachment a tenant may allow.
  http::ClientOptions media_client_options = client_options;
  media_client_options.max_response_bytes = delivery::kMaxAttachmentBytes;
  media_client_options.max_idle_per_host = 4;
  http::Client media_client(runtime.context(), media_client_options);
  channels::AdapterDeps adapter_deps;
  adapter_deps.client = &client;
  adapter_deps.media_client = &media_client;
  adapter_deps.public_url = cfg.server.public_url;
  adapter_deps.clock = &clock;
  adapter_deps.send_timeout = cfg.delivery.request_timeout;
  adapter_deps.replay_window = cfg.channels.custom.replay_window;
  channels::Registry registry(adapter_deps);
  bus::InProcessBus bus;
  delivery::StreamHub hub(**store, keys, bus, delivery::StreamOptions{});
  metrics.AddGauge("parley_open_streams", "Live /v1/stream connections.",
                   [&hub] { return static_cast<double>(hub.open_streams()); });
  store::sqlite::SqliteStore* sqlite = store->get();
  metrics.AddCounterFunc("parley_store_commits_total",
                         "Store transactions run (one group commit each).",
                         [sqlite] { return static_cast<double>(sqlite->Stats().batches); });
  metrics.AddCounterFunc("parley_store_writes_total", "Writes run inside store transactions.",
                         [sqlite] { return static_cast<double>(sqlite->Stats().writes); });
  metrics.AddCounterFunc("parley_store_failed_commits_total", "Store transactions not committed.",
                         [sqlite] { return static_cast<double>(sqlite->Stats().failed_commits); });
  metrics.AddCounterFunc(
      "parley_store_batches_run_again_total",
      "Store transactions rolled back and run again because one of their writes failed (its own "
      "error, or SQLite rolling back on an I/O error or a full disk).",
      [sqlite] { return static_cast<double>(sqlite->Stats().batches_run_again); });
  metrics.AddCounterFunc("parley_store_wal_restarts_total",
                         "Times the store's WAL file started over from its first frame.",
                         [sqlite] { return static_cast<double>(sqlite->Stats().wal_restarts); });

  Result<std::unique_ptr<blob::BlobStore>> blobs = MakeBlobStore(cfg, keys, client, clock);
  if (!blobs.ok()) {
    runtime.Stop();
    return Fail(blobs.status().message());
  }
  delivery::AttachmentOptions attachment_options;
  attachment_options.ttl = cfg.attachments.ttl;
  attachment_options.max_bytes = cfg.attachments.max_bytes;
  attachment_options.scan.command = cfg.attachments.scan_command;
  attachment_options.scan.clamd_socket = cfg.attachments.scan_clamd_socket;
  attachment_options.scan.timeout = cfg.attachments.scan_timeout;
  attachment_options.public_url = AttachmentPublicUrl(cfg);
  delivery::Attachments attachments(**store, keys, **blobs, clock, attachment_options);
  hub.SetAttachments(&attachments);

  delivery::DispatcherDeps dispatcher_deps{&runtime.context(), store->get(), &keys,  &client,
                                           &registry,          &bus,         &clock, &metrics,
                                           &attachments};
  delivery::DispatcherOptions dispatcher_options;
  dispatcher_options.max_retry_age = cfg.delivery.max_retry_age;
  dispatcher_options.initial_backoff = cfg.delivery.initial_backoff;
  dispatcher_options.max_backoff = cfg.delivery.max_backoff;
  dispatcher_options.batch_size = cfg.delivery.batch_size;
  dispatcher_options.request_timeout = cfg.delivery.request_timeout;
  delivery::Dispatcher dispatcher(dispatcher_deps, dispatcher_options);
  (*store)->SetCommitListener([&dispatcher] { dispatcher.Wake(); });

  delivery::SweeperOptions retention;
  retention.interval = cfg.retention.sweep_interval;
  retention.delivered_grace = cfg.retention.delivered_grace;
  retention.inactivity_timeout = cfg.retention.inactivity_timeout;
  retention.dedupe_window = cfg.retention.dedupe_window;
  retention.idempotency_window = cfg.retention.idempotency_window;
  retention.dead_letter_ttl = cfg.delivery.dead_letter_ttl;
  retention.ended_conversation_ttl = cfg.retention.ended_conversation_ttl;
  retention.attachment_ttl = cfg.attachments.ttl;
  delivery::Sweeper sweeper(**store, keys, bus, clock, retention);

  boost::asio::io_context& io = runtime.context();
  sweeper.SetAttachmentSweep([&attachments, &io](int limit) -> Result<int> {
    return boost::asio::co_spawn(
               io,
               [&attachments, limit]() -> boost::asio::awaitable<std::optional<Result<int>>> {
                 co_return co_await attachments.SweepExpired(limit);
               },
               boost::asio::use_future)
        .get()
        .value();
  });

  // The web chat: trusted proxies and the location database are checked before listening.
  auto proxies = channels::web::ParseTrustedProxyList(cfg.web.trusted_proxies);
  if (!proxies.ok()) {
    runtime.Stop();
    return Fail("web." + proxies.status().message());
  }
  std::unique_ptr<channels::web::GeoIp> geo;
  if (!cfg.web.geoip_database.empty()) {
    auto opened = channels::web::GeoIp::Open(cfg.web.geoip_database);
    if (!opened.ok()) {
      runtime.Stop();
      return Fail("web.geoip_database: " + opened.status().message());
    }
    geo = std::move(*opened);
  }

  api::ConnectionCache connections(**store, keys, clock);
  api::App app;
  app.connections = &connections;
  app.store = store->get();
  app.keys = &keys;
  app.attachments = &attachments;
  app.registry = &registry;
  app.bus = &bus;
  app.stream = &hub;
  app.clock = &clock;
  app.metrics = &metrics;
  app.admin_token = *admin_token;
  app.openapi_json = kOpenApiJson;
  app.retention = retention;
  app.retry_initial_backoff = cfg.delivery.initial_backoff;
  app.retry_max_backoff = cfg.delivery.max_backoff;
  app.media_fetches = static_cast<size_t>(cfg.channels.media_fetches);
  app.media_fetches_per_tenant = static_cast<size_t>(config::MediaFetchesPerTenant(cfg.channels));
  api::Auth auth(app);
  http::Router router;
  api::RegisterServiceApi(router, app);
  api::RegisterAdminApi(router, app, auth);
  api::RegisterClientApi(router, app, auth);
  api::RegisterSignalApi(router, app, auth);
  api::RegisterWebhookApi(router, app, runtime.context().get_executor());
  api::RegisterAttachmentApi(router, app, auth);
  api::WebChatOptions web_options;
  web_options.frames_per_second = cfg.web.frames_per_second;
  web_options.frame_burst = cfg.web.frame_burst;
  api::WebChat web_chat(app, web_options);
  api::KeyedRateLimiter sockets_per_ip(cfg.web.sockets_per_ip_per_minute / 60.0,
                                       std::max(1, cfg.web.sockets_per_ip_per_minute));
  api::KeyedRateLimiter uploads_per_ip(cfg.web.uploads_per_ip_per_minute / 60.0,
                                       std::max(1, cfg.web.uploads_per_ip_per_minute));
  api::WidgetDeps widget{&web_chat, &*proxies, geo.get(), &sockets_per_ip, &uploads_per_ip, {}};
  std::mutex demo_mu;
  std::optional<cli::DemoIdentity> demo;
  if (flags.demo) {
    widget.demo = [&demo_mu, &demo, &clock](std::string& connection, std::string& token) {
      std::lock_guard lock(demo_mu);
      if (!demo) return false;
      connection = demo->connection;
      token = cli::DemoPrivateDataToken(*demo, clock.Now());
      return true;
    };
  }
  api::RegisterWidgetApi(router, app, widget);

  http::ServerOptions server_options;
  server_options.listen_host = cfg.server.listen.host;
  server_options.listen_port = cfg.server.listen.port;
  server_options.max_header_bytes = cfg.server.max_header_bytes;
  server_options.max_body_bytes = cfg.server.max_body_bytes;
  server_options.read_timeout = cfg.server.read_timeout;
  server_options.idle_timeout = cfg.server.idle_timeout;
  server_options.tls_cert_file = cfg.server.tls_cert_file;
  server_options.tls_key_file = cfg.server.tls_key_file;
  http::Server server(runtime, server_options, router, metrics);
  auto port = server.Start();
  if (!port.ok()) {
    runtime.Stop();
    return Fail("cannot listen on " + cfg.server.listen.ToString() + ": " +
                port.status().message());
  }
  dispatcher.Start();
  sweeper.Start();
  log::Info("server.listening", {{"host", cfg.server.listen.host},
                                 {"port", static_cast<int64_t>(*port)},
                                 {"tls", cfg.server.tls_enabled()},
                                 {"data_dir", cfg.data_dir},
                                 {"attachments", (*blobs)->kind()}});
  if (flags.demo) {
    // The demo talks to this server's own admin API, so it is set up once we listen.
    std::string base = (cfg.server.tls_enabled() ? "https://127.0.0.1:" : "http://127.0.0.1:") +
                       std::to_string(*port);
    std::vector<std::string> origins = {
        base, (cfg.server.tls_enabled() ? "https://localhost:" : "http://localhost:") +
                  std::to_string(*port)};
    if (!cfg.server.public_url.empty()) {
      auto origin = channels::web::CanonicalOrigin(
          cfg.server.public_url.substr(0, cfg.server.public_url.find('/', 8)));
      if (origin.ok()) origins.push_back(*origin);
    }
    cli::DemoOptions demo_options{runtime.context().get_executor(), base, *admin_token,
                                  cfg.data_dir, origins};
    auto identity = cli::EnsureDemo(client, demo_options);
    if (!identity.ok()) {
      log::Error("demo.failed", {{"error", identity.status().message()}});
    } else {
      {
        std::lock_guard lock(demo_mu);
        demo = *identity;
      }
      std::string shown = cfg.server.public_url.empty() ? base : cfg.server.public_url;
      std::cout << "\nParley demo is ready:\n"
                << "  visitor:  " << shown << "/demo      (the shop's page with the chat widget)\n"
                << "  agent:    " << shown << "/console   (sign in with the API key below)\n"
                << "  API key:  " << identity->api_key << "\n"
                << "  (kept in " << cfg.data_dir << "/demo.json)\n"
                << std::endl;
      log::Info("demo.ready", {{"tenant", identity->tenant}, {"connection", identity->connection}});
    }
  }
  log::Flush();  // whoever started us waits for this line

  std::promise<int> stop;
  boost::asio::signal_set signals(runtime.context(), SIGINT, SIGTERM);
  signals.async_wait([&stop](const boost::system::error_code& ec, int signal) {
    if (!ec) stop.set_value(signal);
  });
  int signal = stop.get_future().get();
  log::Info("server.stopping", {{"signal", static_cast<int64_t>(signal)}});
  server.Stop();
  // Requests in progress finish and WebSocket clients get their close frame (1001).
  size_t cut = server.WaitForConnections(std::chrono::seconds(3));
  if (cut > 0) log::Warn("server.connections_cut", {{"connections", static_cast<int64_t>(cut)}});
  sweeper.Stop();
  dispatcher.Stop();
  runtime.Stop();
  log::Flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return parley::cli::Run(argc, argv, &Serve); }

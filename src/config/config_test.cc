#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace parley::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("parley_config_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string ErrorOf(const Result<Config>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ConfigTest, DefaultsWithNoFileAndEmptyEnvironment) {
  Result<Config> r = Load(std::nullopt, Environment());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = *r;
  EXPECT_EQ(c.data_dir, "./parley-data");
  EXPECT_EQ(c.server.listen.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(c.server.io_threads, 2);
  EXPECT_EQ(c.server.max_header_bytes, 8192u);
  EXPECT_EQ(c.server.max_body_bytes, 1048576u);
  EXPECT_EQ(c.server.read_timeout, 10s);
  EXPECT_EQ(c.server.idle_timeout, 60s);
  EXPECT_FALSE(c.server.tls_enabled());
  EXPECT_TRUE(c.server.public_url.empty());
  EXPECT_TRUE(c.security.admin_token.empty());
  EXPECT_TRUE(c.security.master_key.empty());
  EXPECT_FALSE(c.security.require_master_key);
  EXPECT_EQ(MasterKeyFile(c), "./parley-data/master.key");
  EXPECT_EQ(c.store.url, "sqlite");
  EXPECT_EQ(c.store.max_batch, 256);
  EXPECT_EQ(c.delivery.max_retry_age, 24h);
  EXPECT_EQ(c.delivery.initial_backoff, 1s);
  EXPECT_EQ(c.delivery.max_backoff, 1h);
  EXPECT_EQ(c.delivery.batch_size, 50);
  EXPECT_EQ(c.delivery.request_timeout, 10s);
  EXPECT_EQ(c.delivery.dead_letter_ttl, 72h);
  EXPECT_EQ(c.retention.sweep_interval, 1min);
  EXPECT_EQ(c.retention.delivered_grace, 1h);
  EXPECT_EQ(c.retention.inactivity_timeout, 24h);
  EXPECT_EQ(c.retention.dedupe_window, 168h);
  EXPECT_EQ(c.retention.idempotency_window, 24h);
  EXPECT_EQ(c.retention.ended_conversation_ttl, 720h);
  EXPECT_EQ(c.channels.custom.replay_window, 5min);
  EXPECT_EQ(c.channels.media_fetches, 4);
  EXPECT_EQ(c.log.level, log::Level::kInfo);
  EXPECT_TRUE(c.log.file.empty());
  EXPECT_TRUE(Validate(Config{}).ok());
}

TEST(ConfigTest, RetentionSectionIsReadAndBounded) {
  auto c = LoadFromString(
      "[retention]\nsweep_interval_s = 5\ndelivered_grace_s = 0\n"
      "inactivity_timeout_s = 600\n",
      Environment());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->retention.sweep_interval, 5s);
  EXPECT_EQ(c->retention.delivered_grace, 0s);
  EXPECT_EQ(c->retention.inactivity_timeout, 10min);
  auto bad = LoadFromString("[retention]\ndedupe_window_s = 60\n", Environment());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("retention.dedupe_window_s"), std::string::npos);
}

TEST(ConfigTest, LoadsAFullFile) {
  TempDir dir;
  std::string path = dir.Write("parley.toml", R"(
data_dir = "/var/lib/parley"
[server]
listen = "[::1]:0"
io_threads = 4
max_header_bytes = 16384
max_body_bytes = 2097152
read_timeout_ms = 5000
idle_timeout_ms = 30000
tls_cert_file = "/etc/parley/cert.pem"
tls_key_file = "/etc/parley/key.pem"
public_url = "https://parley.example.com"
[security]
admin_token = "0123456789abcdef-operator"
master_key_file = "/etc/parley/master.key"
require_master_key = true
[store]
url = "sqlite"
max_batch = 100
[delivery]
max_retry_age_s = 3600
initial_backoff_ms = 500
max_backoff_ms = 60000
batch_size = 10
request_timeout_ms = 2000
dead_letter_ttl_s = 86400
[channels]
media_fetches = 16
media_fetches_per_tenant = 3
[channels.custom]
replay_window_s = 120
[log]
level = "debug"
file = "/var/log/parley.log"
)");
  Result<Config> r = Load(path, Environment());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = *r;
  EXPECT_EQ(c.data_dir, "/var/lib/parley");
  EXPECT_EQ(c.server.listen.host, "::1");
  EXPECT_EQ(c.server.listen.port, 0);
  EXPECT_EQ(c.server.io_threads, 4);
  EXPECT_EQ(c.server.max_header_bytes, 16384u);
  EXPECT_EQ(c.server.max_body_bytes, 2097152u);
  EXPECT_EQ(c.server.read_timeout, 5s);
  EXPECT_EQ(c.server.idle_timeout, 30s);
  EXPECT_TRUE(c.server.tls_enabled());
  EXPECT_EQ(c.server.tls_key_file, "/etc/parley/key.pem");
  EXPECT_EQ(c.server.public_url, "https://parley.example.com");
  EXPECT_EQ(c.security.admin_token.reveal(), "0123456789abcdef-operator");
  EXPECT_EQ(MasterKeyFile(c), "/etc/parley/master.key");
  EXPECT_TRUE(c.security.require_master_key);
  EXPECT_EQ(c.store.max_batch, 100);
  EXPECT_EQ(c.delivery.max_retry_age, 1h);
  EXPECT_EQ(c.delivery.initial_backoff, 500ms);
  EXPECT_EQ(c.delivery.max_backoff, 1min);
  EXPECT_EQ(c.delivery.batch_size, 10);
  EXPECT_EQ(c.delivery.request_timeout, 2s);
  EXPECT_EQ(c.delivery.dead_letter_ttl, 24h);
  EXPECT_EQ(c.channels.custom.replay_window, 2min);
  EXPECT_EQ(c.channels.media_fetches, 16);
  EXPECT_EQ(c.channels.media_fetches_per_tenant, 3);
  EXPECT_EQ(MediaFetchesPerTenant(c.channels), 3);
  EXPECT_EQ(c.log.level, log::Level::kDebug);
  EXPECT_EQ(c.log.file, "/var/log/parley.log");
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ConfigTest, RejectsUnknownKeyAndUnknownSectionByPath) {
  std::string error = ErrorOf(LoadFromString(R"(
nope = 1
[server]
listen_port = 80
[metrics]
enabled = true
[channels.whatsapp]
x = 1
)",
                                             Environment()));
  EXPECT_THAT(error, HasSubstr("nope: unknown key"));
  EXPECT_THAT(error, HasSubstr("server.listen_port: unknown key"));
  EXPECT_THAT(error, HasSubstr("metrics: unknown section"));
  EXPECT_THAT(error, HasSubstr("channels.whatsapp: unknown section"));
}

TEST(ConfigTest, QuotedDottedKeyIsNotMistakenForAPath) {
  std::string error = ErrorOf(LoadFromString(R"("server.io_threads" = 4)", Environment()));
  EXPECT_THAT(error, HasSubstr("server?io_threads: unknown key"));
}

TEST(ConfigTest, RejectsWrongTypes) {
  std::string error = ErrorOf(LoadFromString(R"(
data_dir = 5
server = 3
[delivery]
batch_size = "50"
max_retry_age_s = 60.5
[security]
require_master_key = "yes"
)",
                                             Environment()));
  EXPECT_THAT(error, HasSubstr("data_dir: expected a string"));
  EXPECT_THAT(error, HasSubstr("server: expected a table"));
  EXPECT_THAT(error, HasSubstr("delivery.batch_size: expected an integer"));
  EXPECT_THAT(error, HasSubstr("delivery.max_retry_age_s: expected an integer"));
  EXPECT_THAT(error, HasSubstr("security.require_master_key: expected true or false"));
}

TEST(ConfigTest, RejectsOutOfRangeValuesWithoutClamping) {
  std::string error = ErrorOf(LoadFromString(R"(
[server]
max_body_bytes = 12
io_threads = 0
[store]
max_batch = 10001
[channels]
media_fetches = 0
media_fetches_per_tenant = 257
[channels.custom]
replay_window_s = -5
)",
                                             Environment()));
  EXPECT_THAT(error,
              HasSubstr("server.max_body_bytes: must be between 1024 and 67108864 (got 12)"));
  EXPECT_THAT(error, HasSubstr("server.io_threads: must be between 1 and 64 (got 0)"));
  EXPECT_THAT(error, HasSubstr("store.max_batch: must be between 1 and 10000 (got 10001)"));
  EXPECT_THAT(error,
              HasSubstr("channels.custom.replay_window_s: must be between 30 and 3600 (got -5)"));
  EXPECT_THAT(error, HasSubstr("channels.media_fetches: must be between 1 and 256 (got 0)"));
  EXPECT_THAT(error, HasSubstr("channels.media_fetches_per_tenant: must be between 0 and 256"
                               " (got 257)"));
}

TEST(ConfigTest, OneTenantMayHoldHalfTheMediaDownloadsUnlessToldOtherwise) {
  ChannelsConfig c;
  EXPECT_EQ(MediaFetchesPerTenant(c), 2) << "half of the default 4";
  c.media_fetches = 5;
  EXPECT_EQ(MediaFetchesPerTenant(c), 3) << "rounded up";
  c.media_fetches = 1;
  EXPECT_EQ(MediaFetchesPerTenant(c), 1);
  c.media_fetches = 8;
  c.media_fetches_per_tenant = 8;
  EXPECT_EQ(MediaFetchesPerTenant(c), 8) << "a single-tenant deployment";
}

TEST(ConfigTest, RejectsAPerTenantMediaShareAboveTheWhole) {
  std::string error = ErrorOf(LoadFromString(
      "[channels]\nmedia_fetches = 4\nmedia_fetches_per_tenant = 5\n", Environment()));
  EXPECT_THAT(error, HasSubstr("channels.media_fetches_per_tenant: must not exceed"
                               " channels.media_fetches (5 > 4)"));
}

TEST(ConfigTest, RejectsBadStringValues) {
  std::string error = ErrorOf(LoadFromString(R"(
data_dir = ""
[server]
listen = "localhost"
public_url = "ftp://x"
[store]
url = "postgres://user:pw@db/parley"
[log]
level = "verbose"
)",
                                             Environment()));
  EXPECT_THAT(error, HasSubstr("data_dir: must not be empty"));
  EXPECT_THAT(error, HasSubstr("server.listen: expected HOST:PORT"));
  EXPECT_THAT(error, HasSubstr("server.public_url: must be an http:// or https:// URL"));
  EXPECT_THAT(error,
              AllOf(HasSubstr("store.url: only \"sqlite\" is supported"), Not(HasSubstr("pw"))));
  EXPECT_THAT(error, HasSubstr("log.level: expected one of"));
}

TEST(ConfigTest, ReportsTomlSyntaxErrorsWithPosition) {
  std::string error = ErrorOf(LoadFromString("[server\nio_threads = 2\n", Environment(), "x.toml"));
  EXPECT_THAT(error, HasSubstr("x.toml:1:"));
}

TEST(ConfigTest, MissingFileIsNotFound) {
  Result<Config> r = Load("/nonexistent/parley.toml", Environment());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, RejectsHalfConfiguredTls) {
  std::string error =
      ErrorOf(LoadFromString("[server]\ntls_cert_file = \"/c.pem\"\n", Environment()));
  EXPECT_THAT(error, HasSubstr("server.tls_key_file: server.tls_cert_file and server.tls_key_file "
                               "must be set together"));
  error = ErrorOf(LoadFromString("[server]\ntls_key_file = \"/k.pem\"\n", Environment()));
  EXPECT_THAT(error, HasSubstr("server.tls_cert_file:"));
}

TEST(ConfigTest, RejectsInitialBackoffAboveMaxBackoff) {
  std::string error = ErrorOf(LoadFromString(
      "[delivery]\ninitial_backoff_ms = 5000\nmax_backoff_ms = 2000\n", Environment()));
  EXPECT_THAT(error, HasSubstr("delivery.initial_backoff_ms: must not exceed"));
}

TEST(ConfigTest, ReadsAdminTokenFileAndStripsTrailingNewline) {
  TempDir dir;
  std::string token_file = dir.Write("admin.token", "s3cr3t-operator-token-0001\r\n");
  Result<Config> r =
      LoadFromString("[security]\nadmin_token_file = \"" + token_file + "\"\n", Environment());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->security.admin_token.reveal(), "s3cr3t-operator-token-0001");
  EXPECT_TRUE(Validate(*r).ok());
}

TEST(ConfigTest, AdminTokenFileProblemsAreReportedWithoutTheToken) {
  TempDir dir;
  std::string short_file = dir.Write("short.token", "tiny-secret\n");
  std::string error = ErrorOf(
      LoadFromString("[security]\nadmin_token_file = \"" + short_file + "\"\n", Environment()));
  EXPECT_THAT(error, AllOf(HasSubstr("security.admin_token_file:"), Not(HasSubstr("tiny-secret"))));

  error = ErrorOf(LoadFromString(
      "[security]\nadmin_token_file = \"" + (dir.path() / "missing").string() + "\"\n",
      Environment()));
  EXPECT_THAT(error, HasSubstr("security.admin_token_file: does not exist"));

  std::string ok_file = dir.Write("ok.token", "0123456789abcdef0123");
  error =
      ErrorOf(LoadFromString("[security]\nadmin_token = \"fedcba9876543210fedc\"\n"
                             "admin_token_file = \"" +
                                 ok_file + "\"\n",
                             Environment()));
  EXPECT_THAT(error, HasSubstr("set only one of security.admin_token and"));
}

TEST(ConfigTest, SecretsNeverAppearInErrors) {
  std::string error =
      ErrorOf(LoadFromString("[security]\nadmin_token = \"short secret\"\n",
                             Environment({{"PARLEY_MASTER_KEY", "not-hex-and-secret"}})));
  EXPECT_THAT(error, HasSubstr("security.admin_token: must be 16 to 1024"));
  EXPECT_THAT(error, HasSubstr("PARLEY_MASTER_KEY: must be 64 hex characters"));
  EXPECT_THAT(error, AllOf(Not(HasSubstr("short secret")), Not(HasSubstr("not-hex-and-secret"))));
}

TEST(ConfigTest, ValidateChecksValuesSetInCode) {
  Config c;
  c.server.io_threads = 100;
  c.server.tls_cert_file = "/c.pem";
  c.security.master_key = Secret("abc");
  Status s = Validate(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("server.io_threads: must be between 1 and 64 (got 100)"));
  EXPECT_THAT(s.message(), HasSubstr("server.tls_key_file:"));
  EXPECT_THAT(s.message(), HasSubstr("security.master_key: must be 64 hex characters"));
}

TEST(ConfigTest, AttachmentStorageDefaultsToLocalWithS3Defaults) {
  Result<Config> r = Load(std::nullopt, Environment());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AttachmentsConfig& a = r->attachments;
  EXPECT_EQ(a.storage, AttachmentStorage::kLocal);
  EXPECT_EQ(a.s3.endpoint, "");
  EXPECT_EQ(a.s3.region, "us-east-1");
  EXPECT_EQ(a.s3.access_key_id, "");
  EXPECT_TRUE(a.s3.secret_access_key.empty());
  EXPECT_EQ(a.s3.bucket_pattern, "parley-{tenant}");
  EXPECT_EQ(a.s3.request_timeout, 30s);
  EXPECT_TRUE(LoadFromString("[attachments]\nstorage = \"local\"\n", Environment()).ok());
}

TEST(ConfigTest, ReadsS3AttachmentStorage) {
  Result<Config> r = LoadFromString(R"(
[attachments]
storage = "s3"
s3_endpoint = "https://s3.eu-west-1.amazonaws.com"
s3_region = "eu-west-1"
s3_access_key_id = "AKIAIOSFODNN7EXAMPLE"
s3_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
s3_bucket_pattern = "acme-parley-{tenant}"
s3_request_timeout_ms = 5000
)",
                                    Environment());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AttachmentsConfig& a = r->attachments;
  EXPECT_EQ(a.storage, AttachmentStorage::kS3);
  EXPECT_EQ(a.s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.s3.region, "eu-west-1");
  EXPECT_EQ(a.s3.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(a.s3.secret_access_key.reveal(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(a.s3.bucket_pattern, "acme-parley-{tenant}");
  EXPECT_EQ(a.s3.request_timeout, 5s);
  EXPECT_TRUE(Validate(*r).ok());

  for (const char* endpoint : {"http://127.0.0.1:9000", "http://[::1]:9000", "http://minio",
                               "https://storage.example.com:443"}) {
    Result<Config> ok =
        LoadFromString(std::string("[attachments]\nstorage = \"s3\"\ns3_access_key_id = \"k\"\n"
                                   "s3_secret_access_key = \"s\"\ns3_endpoint = \"") +
                           endpoint + "\"\n",
                       Environment());
    EXPECT_TRUE(ok.ok()) << endpoint << ": " << ok.status().ToString();
  }
}

TEST(ConfigTest, S3StorageRequiresEndpointAndCredentials) {
  std::string error = ErrorOf(LoadFromString("[attachments]\nstorage = \"s3\"\n", Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.s3_endpoint: required with attachments.storage = "
                               "\"s3\""));
  EXPECT_THAT(error, HasSubstr("attachments.s3_access_key_id: required with"));
  EXPECT_THAT(error, HasSubstr("attachments.s3_secret_access_key: required with"));
  EXPECT_THAT(error, Not(HasSubstr("s3_region")));
}

TEST(ConfigTest, RejectsUnknownAttachmentStorage) {
  std::string error = ErrorOf(LoadFromString("[attachments]\nstorage = \"S3\"\n", Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.storage: must be \"local\" or \"s3\""));
  error = ErrorOf(LoadFromString("[attachments]\nstorage = 3\n", Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.storage: expected a string"));
}

TEST(ConfigTest, S3KeysAreRejectedWithLocalStorage) {
  std::string error = ErrorOf(LoadFromString(R"(
[attachments]
s3_endpoint = "http://127.0.0.1:9000"
s3_region = "eu-west-1"
s3_access_key_id = "AKIAIOSFODNN7EXAMPLE"
s3_secret_access_key = "only-with-s3-secret"
s3_bucket_pattern = "x-{tenant}"
s3_request_timeout_ms = 1000
)",
                                             Environment()));
  for (const char* key : {"s3_endpoint", "s3_region", "s3_access_key_id", "s3_secret_access_key",
                          "s3_bucket_pattern", "s3_request_timeout_ms"}) {
    EXPECT_THAT(error, HasSubstr(std::string("attachments.") + key +
                                 ": only with attachments.storage = \"s3\""));
  }
  EXPECT_THAT(error, Not(HasSubstr("only-with-s3-secret")));
}

TEST(ConfigTest, RejectsBadS3Values) {
  const std::string base =
      "[attachments]\nstorage = \"s3\"\ns3_access_key_id = \"k\"\ns3_secret_access_key = \"s\"\n";
  for (const char* endpoint :
       {"ftp://host", "http://", "http://host/", "http://host/bucket", "http://host?x=1",
        "http://user:pw@host", "http://host:0", "http://host:70000", "http://host:", "host:9000",
        "http://[::1", "http://h ost"}) {
    std::string error =
        ErrorOf(LoadFromString(base + "s3_endpoint = \"" + endpoint + "\"\n", Environment()));
    EXPECT_THAT(error, HasSubstr("attachments.s3_endpoint: must be http://host[:port]"))
        << endpoint;
  }
  std::string error = ErrorOf(LoadFromString(base + R"(
s3_endpoint = "http://127.0.0.1:9000"
s3_region = "EU_WEST"
s3_request_timeout_ms = 50
)",
                                             Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.s3_region: must be 1 to 64 lower-case letters"));
  EXPECT_THAT(error,
              HasSubstr("attachments.s3_request_timeout_ms: must be between 100 and 600000"));

  error = ErrorOf(LoadFromString(
      "[attachments]\ns3_access_key_id = \"AKIA/EXAMPLE\"\ns3_region = \"\"\n", Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.s3_access_key_id: must be at most 256 printable"));
  EXPECT_THAT(error, HasSubstr("attachments.s3_region: must be 1 to 64"));

  for (const char* pattern : {"parley", "Parley-{tenant}", "-{tenant}", "{tenant}.", "a..{tenant}",
                              "{tenant}-{tenant}-{tenant}"}) {
    error = ErrorOf(LoadFromString(
        base + "s3_endpoint = \"http://h\"\ns3_bucket_pattern = \"" + pattern + "\"\n",
        Environment()));
    EXPECT_THAT(error, HasSubstr("attachments.s3_bucket_pattern: must")) << pattern;
  }
}

TEST(ConfigTest, S3SecretNeverAppearsInErrors) {
  // A secret with a control character is refused without being repeated…
  std::string error = ErrorOf(LoadFromString(
      "[attachments]\nstorage = \"s3\"\ns3_secret_access_key = \"quokka-secret\\u0001\"\n",
      Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.s3_secret_access_key: must be at most 1024 bytes"));
  EXPECT_THAT(error, Not(HasSubstr("quokka")));
  // …and a valid one stays out of the errors about the keys around it.
  error = ErrorOf(
      LoadFromString("[attachments]\nstorage = \"s3\"\ns3_secret_access_key = \"quokka-secret\"\n"
                     "s3_endpoint = \"ftp://x\"\n",
                     Environment()));
  EXPECT_THAT(error, HasSubstr("attachments.s3_endpoint:"));
  EXPECT_THAT(error, Not(HasSubstr("quokka")));
  error = ErrorOf(
      LoadFromString("[attachments]\ns3_secret_access_key = \"quokka-secret\"\n", Environment()));
  EXPECT_THAT(error, AllOf(HasSubstr("attachments.s3_secret_access_key: only with"),
                           Not(HasSubstr("quokka"))));
}

TEST(ConfigTest, ValidateChecksS3StorageSetInCode) {
  Config c;
  c.attachments.storage = AttachmentStorage::kS3;
  Status s = Validate(c);
  EXPECT_THAT(s.message(), HasSubstr("attachments.s3_endpoint: required"));
  c.attachments.s3.endpoint = "http://127.0.0.1:9000";
  c.attachments.s3.access_key_id = "S3RVER";
  c.attachments.s3.secret_access_key = Secret("S3RVER");
  EXPECT_TRUE(Validate(c).ok()) << Validate(c).ToString();
  c.attachments.s3.bucket_pattern = "no-placeholder";
  EXPECT_THAT(Validate(c).message(), HasSubstr("attachments.s3_bucket_pattern: must contain"));
  c.attachments.storage = static_cast<AttachmentStorage>(7);
  EXPECT_THAT(Validate(c).message(), HasSubstr("attachments.storage: must be"));
}

TEST(ConfigTest, ApplyListenAndDataDirOverrideAfterLoad) {
  Config c;
  ASSERT_TRUE(ApplyListen(c, "0.0.0.0:9000").ok());
  EXPECT_EQ(c.server.listen.ToString(), "0.0.0.0:9000");
  Status bad = ApplyListen(c, "0.0.0.0:70000");
  EXPECT_EQ(bad.message(), "--listen: port must be between 0 and 65535");
  EXPECT_EQ(c.server.listen.port, 9000) << "a rejected flag must not change the config";

  ASSERT_TRUE(ApplyDataDir(c, "/srv/parley").ok());
  EXPECT_EQ(MasterKeyFile(c), "/srv/parley/master.key");
  EXPECT_EQ(ApplyDataDir(c, "").message(), "--data-dir: must not be empty");
}

}  // namespace
}  // namespace parley::config

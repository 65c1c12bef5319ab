// Environment overrides of config::Load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>

#include "config/config.h"

namespace parley::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kMasterKeyHex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string ErrorOf(const Result<Config>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(ConfigEnvTest, EnvironmentOverrideWinsOverFile) {
  Result<Config> r = LoadFromString(R"(
data_dir = "/from/file"
[server]
listen = "127.0.0.1:1000"
max_body_bytes = 4096
[log]
level = "warn"
)",
                                    Environment({{"PARLEY_LISTEN", "0.0.0.0:2000"},
                                                 {"PARLEY_DATA_DIR", "/from/env"},
                                                 {"PARLEY_SERVER__MAX_BODY_BYTES", "2048"},
                                                 {"PARLEY_LOG_LEVEL", "error"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server.listen.ToString(), "0.0.0.0:2000");
  EXPECT_EQ(r->data_dir, "/from/env");
  EXPECT_EQ(r->server.max_body_bytes, 2048u);
  EXPECT_EQ(r->log.level, log::Level::kError);
}

TEST(ConfigEnvTest, GenericNamesReachNestedSectionsAndEveryType) {
  Result<Config> r =
      Load(std::nullopt, Environment({{"PARLEY_CHANNELS_CUSTOM__REPLAY_WINDOW_S", "60"},
                                      {"PARLEY_SECURITY__REQUIRE_MASTER_KEY", "true"},
                                      {"PARLEY_DELIVERY__MAX_BACKOFF_MS", "5000"},
                                      {"PARLEY_LOG__FILE", "/tmp/p.log"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->channels.custom.replay_window, 1min);
  EXPECT_TRUE(r->security.require_master_key);
  EXPECT_EQ(r->delivery.max_backoff, 5s);
  EXPECT_EQ(r->log.file, "/tmp/p.log");
}

TEST(ConfigEnvTest, BadEnvironmentValueIsReportedByVariableName) {
  std::string error =
      ErrorOf(Load(std::nullopt, Environment({{"PARLEY_SERVER__MAX_BODY_BYTES", "12"},
                                              {"PARLEY_SERVER__IO_THREADS", "two"},
                                              {"PARLEY_SERVER__IDLE_TIMEOUT_MS", "5000ms"},
                                              {"PARLEY_SECURITY__REQUIRE_MASTER_KEY", "yes"},
                                              {"PARLEY_LISTEN", "[::1]"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_SERVER__MAX_BODY_BYTES: must be between 1024 and "
                               "67108864 (got 12)"));
  EXPECT_THAT(error, HasSubstr("PARLEY_SERVER__IO_THREADS: expected an integer"));
  EXPECT_THAT(error, HasSubstr("PARLEY_SERVER__IDLE_TIMEOUT_MS: expected an integer"));
  EXPECT_THAT(error, HasSubstr("PARLEY_SECURITY__REQUIRE_MASTER_KEY: expected true or false"));
  EXPECT_THAT(error, HasSubstr("PARLEY_LISTEN: expected HOST:PORT"));
}

TEST(ConfigEnvTest, UnknownDoubleUnderscoreVariableIsRejectedOthersIgnored) {
  std::string error = ErrorOf(
      Load(std::nullopt,
           Environment({{"PARLEY_SERVER__MAX_BODY_BYTE", "2048"}, {"PARLEY_CONFIG", "x"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_SERVER__MAX_BODY_BYTE: unknown setting"));
  EXPECT_THAT(error, Not(HasSubstr("PARLEY_CONFIG")));
  EXPECT_TRUE(Load(std::nullopt, Environment({{"PARLEY_CONFIG", "x"}, {"HOME", "/root"}})).ok());
}

TEST(ConfigEnvTest, ShorthandAndLongFormTogetherAreRejected) {
  std::string error = ErrorOf(Load(
      std::nullopt,
      Environment({{"PARLEY_LISTEN", "127.0.0.1:1"}, {"PARLEY_SERVER__LISTEN", "127.0.0.1:2"}})));
  EXPECT_THAT(error,
              HasSubstr("PARLEY_LISTEN: set only one of PARLEY_LISTEN and PARLEY_SERVER__LISTEN"));
}

TEST(ConfigEnvTest, MasterKeyFromEnvironmentIsHeldAsSecret) {
  Result<Config> r = Load(std::nullopt, Environment({{"PARLEY_MASTER_KEY", kMasterKeyHex},
                                                     {"PARLEY_MASTER_KEY_FILE", "/k/master.key"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->security.master_key.reveal(), kMasterKeyHex);
  EXPECT_EQ(MasterKeyFile(*r), "/k/master.key");

  std::string error = ErrorOf(Load(std::nullopt, Environment({{"PARLEY_MASTER_KEY", "abcd"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_MASTER_KEY: must be 64 hex characters"));
  EXPECT_THAT(error, Not(HasSubstr("abcd")));
}

TEST(ConfigEnvTest, AdminTokenFromEnvironmentWinsOverTokenFile) {
  Result<Config> r = LoadFromString("[security]\nadmin_token_file = \"/does/not/exist\"\n",
                                    Environment({{"PARLEY_ADMIN_TOKEN", "env-token-0123456789"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->security.admin_token.reveal(), "env-token-0123456789");
}

TEST(ConfigEnvTest, BadAdminTokenFromEnvironmentIsNotEchoed) {
  std::string error =
      ErrorOf(Load(std::nullopt, Environment({{"PARLEY_ADMIN_TOKEN", "zebra quokka 12345"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_ADMIN_TOKEN: must be 16 to 1024"));
  EXPECT_THAT(error, Not(HasSubstr("quokka")));
}

TEST(ConfigEnvTest, S3StorageAndSecretFromEnvironment) {
  Result<Config> r = LoadFromString(
      R"(
[attachments]
storage = "s3"
s3_endpoint = "http://127.0.0.1:9000"
s3_access_key_id = "S3RVER"
s3_secret_access_key = "from-the-file"
)",
      Environment({{"PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", "from-the-environment"},
                   {"PARLEY_ATTACHMENTS__S3_REGION", "eu-west-1"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attachments.s3.secret_access_key.reveal(), "from-the-environment");
  EXPECT_EQ(r->attachments.s3.region, "eu-west-1");

  r = Load(std::nullopt, Environment({{"PARLEY_ATTACHMENTS__STORAGE", "s3"},
                                      {"PARLEY_ATTACHMENTS__S3_ENDPOINT", "http://minio:9000"},
                                      {"PARLEY_ATTACHMENTS__S3_ACCESS_KEY_ID", "minio"},
                                      {"PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", "minio123"},
                                      {"PARLEY_ATTACHMENTS__S3_BUCKET_PATTERN", "p-{tenant}"},
                                      {"PARLEY_ATTACHMENTS__S3_REQUEST_TIMEOUT_MS", "2000"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attachments.storage, AttachmentStorage::kS3);
  EXPECT_EQ(r->attachments.s3.endpoint, "http://minio:9000");
  EXPECT_EQ(r->attachments.s3.access_key_id, "minio");
  EXPECT_EQ(r->attachments.s3.secret_access_key.reveal(), "minio123");
  EXPECT_EQ(r->attachments.s3.bucket_pattern, "p-{tenant}");
  EXPECT_EQ(r->attachments.s3.request_timeout, 2s);
}

TEST(ConfigEnvTest, BadS3SecretFromEnvironmentIsNotEchoed) {
  std::string error = ErrorOf(Load(
      std::nullopt, Environment({{"PARLEY_ATTACHMENTS__STORAGE", "s3"},
                                 {"PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", "quokka\nsecret"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY: must be at most 1024"));
  EXPECT_THAT(error, Not(HasSubstr("quokka")));
  error = ErrorOf(Load(std::nullopt, Environment({{"PARLEY_ATTACHMENTS__STORAGE", "gcs"}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_ATTACHMENTS__STORAGE: must be \"local\" or \"s3\""));
}

TEST(ConfigEnvTest, OverlongEnvironmentValueIsRejected) {
  std::string error =
      ErrorOf(Load(std::nullopt, Environment({{"PARLEY_DATA_DIR", std::string(5000, 'a')}})));
  EXPECT_THAT(error, HasSubstr("PARLEY_DATA_DIR: must be at most 4096 bytes"));
}

TEST(EnvironmentTest, FromProcessKeepsOnlyParleyVariables) {
  ASSERT_EQ(::setenv("PARLEY_ENVIRONMENT_TEST_MARKER", "yes", 1), 0);
  Environment env = Environment::FromProcess();
  ::unsetenv("PARLEY_ENVIRONMENT_TEST_MARKER");
  EXPECT_EQ(env.Get("PARLEY_ENVIRONMENT_TEST_MARKER"), std::optional<std::string_view>("yes"));
  for (const auto& [name, value] : env.vars()) EXPECT_TRUE(name.starts_with("PARLEY_")) << name;
}

}  // namespace
}  // namespace parley::config

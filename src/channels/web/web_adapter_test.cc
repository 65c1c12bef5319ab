#include "channels/web/web_adapter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace parley::channels::web {
namespace {

namespace json = boost::json;

TEST(WebAdapterTest, OriginsAreCanonicalizedAndASecretIsGenerated) {
  WebAdapter adapter;
  json::object settings{
      {"allowed_origins", json::array{"https://WWW.Example.com:443", "http://localhost:8080/"}},
      {"cookie_names", json::array{"plan", "ab_group"}}};
  json::object credentials;
  auto shown = adapter.PrepareConnection(settings, credentials);
  ASSERT_TRUE(shown.ok()) << shown.status().message();
  EXPECT_EQ(settings["allowed_origins"],
            (json::array{"https://www.example.com", "http://localhost:8080"}));
  ASSERT_TRUE(credentials["private_data_secret"].is_string());
  EXPECT_GE(credentials["private_data_secret"].get_string().size(), kMinPrivateDataSecretBytes);
  EXPECT_EQ(shown->at("private_data_secret"), credentials["private_data_secret"]);

  WebSettings s = WebSettings::From(settings);
  EXPECT_TRUE(s.AllowsOrigin("https://www.example.com"));
  EXPECT_TRUE(s.AllowsOrigin("HTTPS://www.example.com:443"));
  EXPECT_TRUE(s.AllowsOrigin("http://localhost:8080"));
  EXPECT_FALSE(s.AllowsOrigin("http://www.example.com"));
  EXPECT_FALSE(s.AllowsOrigin("https://www.example.com.evil.test"));
  EXPECT_FALSE(s.AllowsOrigin("http://localhost:8081"));
  EXPECT_FALSE(s.AllowsOrigin("null"));
  EXPECT_FALSE(s.AllowsOrigin(""));
  EXPECT_EQ(s.cookie_names, (std::vector<std::string>{"plan", "ab_group"}));
}

TEST(WebAdapterTest, BadSettingsAreRefusedByPath) {
  WebAdapter adapter;
  auto refuse = [&](json::object settings, json::object credentials = {}) {
    auto r = adapter.PrepareConnection(settings, credentials);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(refuse({}).find("settings.allowed_origins: required"), std::string::npos);
  EXPECT_NE(refuse({{"allowed_origins", json::array{"https://a.test/path"}}})
                .find("settings.allowed_origins[0]"),
            std::string::npos);
  EXPECT_NE(refuse({{"allowed_origins", json::array{"ftp://a.test"}}}).find("allowed_origins[0]"),
            std::string::npos);
  EXPECT_NE(refuse({{"allowed_origins", json::array{"https://a.test"}},
                    {"cookie_names", json::array{"bad name"}}})
                .find("settings.cookie_names[0]"),
            std::string::npos);
  EXPECT_NE(refuse({{"allowed_origins", json::array{"https://a.test"}}, {"colour", "red"}})
                .find("settings.colour: unknown key"),
            std::string::npos);
  EXPECT_NE(refuse({{"allowed_origins", json::array{"https://a.test"}}},
                   {{"private_data_secret", "short"}})
                .find("credentials.private_data_secret"),
            std::string::npos);
}

TEST(WebAdapterTest, HasNoWebhook) {
  WebAdapter adapter;
  http::Request request;
  EXPECT_EQ(adapter.VerifyWebhook(request, {}, TimePoint{}).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(adapter.ParseWebhook(request).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::channels::web

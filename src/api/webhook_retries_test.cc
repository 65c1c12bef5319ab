#include "api/webhook_retries.h"

#include <gtest/gtest.h>

namespace parley::api {
namespace {

using std::chrono::milliseconds;

TEST(WebhookRetriesTest, AKeptCallOpensAsItWasAndOnlyAtItsPlace) {
  crypto::DataKey key = crypto::DataKey::Generate();
  TenantId tenant = TenantId::New(FromUnixMillis(1'763'708'000'000));
  ConnectionId connection = ConnectionId::New(FromUnixMillis(1'763'708'000'000));
  http::Request q;
  q.method = "POST";
  q.path = "/v1/webhooks/" + connection.str();
  q.target = q.path + "?a=%20b";
  q.route = "/v1/webhooks/{connection}";
  q.query = {{"a", " b"}};
  q.path_params = {{"connection", connection.str()}};
  q.headers = {{"content-type", "application/x-www-form-urlencoded"},
               {"x-twilio-signature", "abc="},
               {"x-odd", std::string("\xff\x00\x01", 3)}};
  q.body = "MessageSid=MM1&Body=ol%C3%A1&NumMedia=1";
  q.request_id = "req-1";
  std::string sealed = SealWebhookCall(key, tenant, connection, q);
  EXPECT_EQ(sealed.find("MessageSid"), std::string::npos);

  auto opened = OpenWebhookCall(key, tenant, connection, sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->method, q.method);
  EXPECT_EQ(opened->path, q.path);
  EXPECT_EQ(opened->target, q.target);
  EXPECT_EQ(opened->route, q.route);
  EXPECT_EQ(opened->query, q.query);
  EXPECT_EQ(opened->path_params, q.path_params);
  EXPECT_EQ(opened->headers, q.headers);
  EXPECT_EQ(opened->body, q.body);
  EXPECT_EQ(opened->request_id, q.request_id);

  ConnectionId other = ConnectionId::New(FromUnixMillis(1'763'708'000'001));
  EXPECT_FALSE(OpenWebhookCall(key, tenant, other, sealed).ok()) << "moved to another connection";
  EXPECT_FALSE(OpenWebhookCall(crypto::DataKey::Generate(), tenant, connection, sealed).ok());
}

TEST(WebhookRetriesTest, TheDelayDoublesUpToTheMaximum) {
  EXPECT_EQ(WebhookRetryDelay(1, milliseconds(1000), milliseconds(3600000)), milliseconds(1000));
  EXPECT_EQ(WebhookRetryDelay(2, milliseconds(1000), milliseconds(3600000)), milliseconds(2000));
  EXPECT_EQ(WebhookRetryDelay(5, milliseconds(1000), milliseconds(3600000)), milliseconds(16000));
  EXPECT_EQ(WebhookRetryDelay(40, milliseconds(1000), milliseconds(3600000)),
            milliseconds(3600000));
  EXPECT_EQ(WebhookRetryDelay(3, milliseconds(50), milliseconds(120)), milliseconds(120));
}

}  // namespace
}  // namespace parley::api

#include "config/listen_address.h"

#include <gtest/gtest.h>

namespace parley::config {
namespace {

TEST(ListenAddressTest, ParsesIpv4AndPort) {
  Result<ListenAddress> a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->ToString(), "127.0.0.1:8080");
}

TEST(ListenAddressTest, ParsesBracketedIpv6WithPortZero) {
  Result<ListenAddress> a = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  EXPECT_EQ(a->ToString(), "[::1]:0");
}

TEST(ListenAddressTest, ParsesHostnameAndMaxPort) {
  Result<ListenAddress> a = ParseListenAddress("localhost:65535");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 65535);
}

TEST(ListenAddressTest, RejectsMissingPort) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "[::1]", "[::1]:", "localhost"}) {
    Result<ListenAddress> a = ParseListenAddress(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(a.status().message(), "expected HOST:PORT") << text;
  }
}

TEST(ListenAddressTest, RejectsPortAbove65535) {
  for (const char* text : {"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456789"}) {
    Result<ListenAddress> a = ParseListenAddress(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().message(), "port must be between 0 and 65535") << text;
  }
}

TEST(ListenAddressTest, RejectsMalformedHostsAndPorts) {
  for (const char* text :
       {":8080", "::1:80", "[::1:80", "[not-ip]:80", "999.1.1.1:80", "bad_host:80", "-x.example:80",
        "1.2.3.4:-1", "1.2.3.4:8o", "1.2.3.4: 80", "", "a b:80"}) {
    Result<ListenAddress> a = ParseListenAddress(text);
    EXPECT_FALSE(a.ok()) << text;
  }
}

}  // namespace
}  // namespace parley::config

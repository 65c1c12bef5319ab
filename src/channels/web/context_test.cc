// src/channels/web/context_test.cc
//
// Tests for the web-chat context: client IP, User-Agent parsing, GeoIp on MaxMind DB files
// written by MmdbWriter (checked against libmaxminddb itself first) and the context JSON.
#include "channels/web/context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <maxminddb.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "channels/web/mmdb_writer_test_support.h"
#include "core/test_temp_dir.h"

namespace parley::channels::web {

void PrintTo(const Location& l, std::ostream* out) {
  *out << l.country_code << "|" << l.country << "|" << l.region << "|" << l.city << "|"
       << l.latitude.value_or(999) << "|" << l.longitude.value_or(999) << "|" << l.time_zone;
}

namespace {

using ::testing::HasSubstr;
using testing::MmdbValue;
using testing::MmdbWriter;
using Entries = MmdbValue::Entries;

TrustedProxies Proxies(const std::vector<std::string>& cidrs) {
  Result<TrustedProxies> proxies = ParseTrustedProxies(cidrs);
  PARLEY_CHECK(proxies.ok());
  return *proxies;
}

// ---- Client IP ----

TEST(TrustedProxiesTest, AcceptsCidrsAndPlainAddresses) {
  TrustedProxies p = Proxies(
      {"10.0.0.0/8", "192.0.2.7", "2001:db8:1::/48", "2001:db8::9", "::ffff:172.16.0.0/108"});
  EXPECT_TRUE(IsTrusted("10.255.0.1", p));
  EXPECT_TRUE(IsTrusted("192.0.2.7", p));
  EXPECT_FALSE(IsTrusted("192.0.2.8", p));
  EXPECT_TRUE(IsTrusted("2001:db8:1:ffff::1", p));
  EXPECT_FALSE(IsTrusted("2001:db8:2::1", p));
  EXPECT_TRUE(IsTrusted("2001:db8::9", p));
  EXPECT_TRUE(IsTrusted("172.31.0.1", p));       // the mapped network counts as 172.16.0.0/12
  EXPECT_TRUE(IsTrusted("::ffff:10.1.2.3", p));  // a dual-stack peer matches IPv4 networks
  EXPECT_FALSE(IsTrusted("11.0.0.1", p));
  EXPECT_FALSE(IsTrusted("not-an-ip", p));
}

TEST(TrustedProxiesTest, RejectsBadEntriesByIndex) {
  struct Case {
    std::string entry;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.0.1/8", "host bits set (did you mean 10.0.0.0/8?)"},
           {"2001:db8::1/32", "did you mean 2001:db8::/32?"},
           {"10.0.0.0/33", "prefix length must be 0..32"},
           {"2001:db8::/129", "prefix length must be 0..128"},
           {"10.0.0.0/", "prefix length"},
           {"10.0.0.0/+8", "prefix length"},
           {"10.0.0.0/8x", "prefix length"},
           {"::ffff:10.0.0.0/64", "IPv4-mapped network needs a prefix length of 96..128"},
           {"proxy.internal", "not an IP address or CIDR"},
           {"fe80::1%eth0", "not an IP address or CIDR"},
           {"", "not an IP address or CIDR"},
       }) {
    Result<TrustedProxies> r = ParseTrustedProxies({"192.0.2.0/24", c.entry});
    ASSERT_FALSE(r.ok()) << c.entry;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("trusted_proxies[1]: \"" + c.entry + "\""));
    EXPECT_THAT(r.status().message(), HasSubstr(c.why));
  }
}

TEST(ClientIpTest, UntrustedPeerIsTheClientWhateverTheHeaderSays) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  EXPECT_EQ(ClientIp("203.0.113.5", "198.51.100.1", p), "203.0.113.5");
  EXPECT_EQ(ClientIp("203.0.113.5", "", Proxies({})), "203.0.113.5");
}

TEST(ClientIpTest, WalksForwardedForFromTheRightSkippingTrustedHops) {
  TrustedProxies p = Proxies({"10.0.0.0/8", "2001:db8::/32"});
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.1, 203.0.113.9, 10.0.0.2", p), "203.0.113.9");
  EXPECT_EQ(ClientIp("2001:db8::1", "2001:DB8:0:0::7,2a00:1450::1 ,2001:db8::5", p),
            "2a00:1450::1");
  EXPECT_EQ(ClientIp("10.0.0.1", "", p), "10.0.0.1");
  EXPECT_EQ(ClientIp("::ffff:10.0.0.1", "203.0.113.9", p), "203.0.113.9");
}

TEST(ClientIpTest, AllTrustedGivesTheLeftmost) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  EXPECT_EQ(ClientIp("10.0.0.1", "10.0.0.3,10.0.0.2", p), "10.0.0.3");
}

TEST(ClientIpTest, MalformedEntryStopsTheWalkAtTheLastGoodHop) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.1, unknown, 10.0.0.2", p), "10.0.0.2");
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.1,", p), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.1, fe80::1%eth0", p), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.1, 10.0.0.2:99999", p), "10.0.0.1");
}

TEST(ClientIpTest, AcceptsPortsAndBrackets) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  EXPECT_EQ(ClientIp("10.0.0.1", "203.0.113.9:51234", p), "203.0.113.9");
  EXPECT_EQ(ClientIp("10.0.0.1", "[2001:db8::7]:443", p), "2001:db8::7");
  EXPECT_EQ(ClientIp("10.0.0.1", "[2001:db8::7]", p), "2001:db8::7");
}

TEST(ClientIpTest, ReadsAtMostTwentyHops) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  std::string header = "198.51.100.1";
  for (int i = 25; i >= 1; --i) header += ", 10.0.0." + std::to_string(i);
  EXPECT_EQ(ClientIp("10.0.0.100", header, p), "10.0.0.20");
}

TEST(ClientIpTest, ReadsOnlyTheRightmostFourKibibytes) {
  TrustedProxies p = Proxies({"10.0.0.0/8"});
  const std::string padding(5000, 'x');
  EXPECT_EQ(ClientIp("10.0.0.1", padding + ", 203.0.113.9, 10.0.0.2", p), "203.0.113.9");
  // The window starts inside "10.0.0.99"; the cut "0.0.0.99" must not be read as a hop.
  const std::string header =
      "198.51.100.1, 1" + ("0.0.0.99" + std::string(4078, ' ') + ", 10.0.0.2");
  ASSERT_EQ(header.size(), kMaxForwardedForBytes + 15);
  EXPECT_EQ(ClientIp("10.0.0.1", header, p), "10.0.0.2");
}

TEST(ClientIpTest, CanonicalTextOrEmptyForABadPeer) {
  EXPECT_EQ(ClientIp("2001:DB8:0:0:0:0:0:1", "", Proxies({})), "2001:db8::1");
  EXPECT_EQ(ClientIp("::ffff:203.0.113.5", "", Proxies({})), "203.0.113.5");
  EXPECT_EQ(ClientIp("", "", Proxies({})), "");
  EXPECT_EQ(ClientIp("203.0.113", "", Proxies({})), "");
}

// ---- Device ----

struct UaCase {
  std::string_view label;
  std::string_view ua;
  DeviceInfo want;
};

TEST(ParseUserAgentTest, RecognisesCurrentBrowsersAndBots) {
  using enum DeviceType;
  const UaCase cases[] = {
      {"Chrome/Windows",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36",
       {"Chrome", "124", "Windows", "10", kDesktop}},
      {"Chrome/Android",
       "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Mobile Safari/537.36",
       {"Chrome", "124", "Android", "10", kMobile}},
      {"Safari/iPhone",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
       "like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
       {"Safari", "17", "iOS", "17.4.1", kMobile}},
      {"Safari/iPad",
       "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.4 Mobile/15E148 Safari/604.1",
       {"Safari", "17", "iPadOS", "17.4", kTablet}},
      {"Safari/macOS",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.4.1 Safari/605.1.15",
       {"Safari", "17", "macOS", "10.15.7", kDesktop}},
      {"Firefox/Linux",
       "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
       {"Firefox", "125", "Linux", "", kDesktop}},
      {"Firefox/Android",
       "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
       {"Firefox", "125", "Android", "14", kMobile}},
      {"Edge/Windows",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
       {"Edge", "124", "Windows", "10", kDesktop}},
      {"Opera/Windows",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
       {"Opera", "110", "Windows", "10", kDesktop}},
      {"Samsung Internet/phone",
       "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
       "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
       {"Samsung Internet", "25", "Android", "14", kMobile}},
      {"Samsung Internet/tablet",
       "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
       "SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
       {"Samsung Internet", "24", "Android", "13", kTablet}},
      {"Chrome/iOS",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
       {"Chrome", "124", "iOS", "17.4", kMobile}},
      {"Chrome/ChromeOS",
       "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36",
       {"Chrome", "124", "ChromeOS", "", kDesktop}},
      {"Firefox/macOS",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
       {"Firefox", "125", "macOS", "10.15", kDesktop}},
      {"WebView/Android",
       "Mozilla/5.0 (Linux; Android 14; K; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
       {"Android WebView", "124", "Android", "14", kMobile}},
      {"IE11/Windows 7",
       "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
       {"Internet Explorer", "11", "Windows", "7", kDesktop}},
      {"Googlebot",
       "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
       {"Googlebot", "2", "", "", kBot}},
      {"Googlebot/smartphone",
       "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
       "like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
       "+http://www.google.com/bot.html)",
       {"Googlebot", "2", "Android", "6.0.1", kBot}},
      {"unnamed crawler",
       "Mozilla/5.0 (compatible; ExampleBot/1.0; +https://example.com/bot)",
       {"", "", "", "", kBot}},
      {"curl", "curl/8.5.0", {"curl", "8", "", "", kBot}},
      {"empty", "", {"", "", "", "", kUnknown}},
      {"garbage", "\x01\xff???", {"", "", "", "", kUnknown}},
  };
  for (const UaCase& c : cases) {
    const DeviceInfo got = ParseUserAgent(c.ua);
    EXPECT_EQ(got, c.want) << c.label << ": got " << got.browser << " " << got.browser_version
                           << " / " << got.os << " " << got.os_version << " / "
                           << DeviceTypeName(got.type);
  }
}

TEST(ParseUserAgentTest, IgnoresEverythingPastOneKibibyte) {
  const std::string ua = std::string(kMaxUserAgentBytes, 'x') + "Chrome/124.0 (Windows NT 10.0)";
  EXPECT_EQ(ParseUserAgent(ua), DeviceInfo{});
}

TEST(SanitizeUserAgentTest, TruncatesAndKeepsPrintableAscii) {
  EXPECT_EQ(SanitizeUserAgent("Mozilla/5.0 (X11)"), "Mozilla/5.0 (X11)");
  EXPECT_EQ(SanitizeUserAgent("a\r\nb\x7f\xc3\xa9"), "a??b???");
  EXPECT_EQ(SanitizeUserAgent(std::string(5000, 'u')).size(), kMaxUserAgentBytes);
}

// ---- MaxMind DB ----

MmdbValue Names(std::string en) { return MmdbValue::Map({{"en", MmdbValue::String(en)}}); }

MmdbValue Country(std::string iso, std::string en) {
  return MmdbValue::Map({{"geoname_id", MmdbValue::Uint32(2635167)},
                         {"iso_code", MmdbValue::String(std::move(iso))},
                         {"names", Names(std::move(en))}});
}

MmdbValue LondonRecord() {
  return MmdbValue::Map({
      {"city", MmdbValue::Map({{"geoname_id", MmdbValue::Uint32(2643743)},
                               {"names", MmdbValue::Map({{"de", MmdbValue::String("London")},
                                                         {"en", MmdbValue::String("London")}})}})},
      {"continent",
       MmdbValue::Map({{"code", MmdbValue::String("EU")}, {"names", Names("Europe")}})},
      {"country", Country("GB", "United Kingdom")},
      {"location", MmdbValue::Map({{"accuracy_radius", MmdbValue::Uint16(10)},
                                   {"latitude", MmdbValue::Double(51.5142)},
                                   {"longitude", MmdbValue::Double(-0.0931)},
                                   {"time_zone", MmdbValue::String("Europe/London")}})},
      {"subdivisions", MmdbValue::Array({MmdbValue::Map({{"iso_code", MmdbValue::String("ENG")},
                                                         {"names", Names("England")}})})},
  });
}

Location London() {
  return {"GB", "United Kingdom", "England", "London", 51.5142, -0.0931, "Europe/London"};
}

class GeoIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    MmdbWriter city("GeoLite2-City");
    ASSERT_TRUE(city.Insert("81.2.69.0/24", LondonRecord()).ok());
    ASSERT_TRUE(
        city.Insert("89.160.20.112/28", MmdbValue::Map({{"country", Country("SE", "Sweden")}}))
            .ok());
    ASSERT_TRUE(city.Insert("2001:218::/32",
                            MmdbValue::Map({{"country", Country("JP", "Japan")},
                                            {"city", MmdbValue::Map({{"names", Names("Tokyo")}})}}))
                    .ok());
    ASSERT_TRUE(city.Insert("175.16.199.0/24", Probe()).ok());
    ASSERT_TRUE(city.WriteFile(dir_ / "city.mmdb").ok());
  }
  // Values that exercise every size encoding and integer width of the writer.
  static MmdbValue Probe() {
    return MmdbValue::Map({{"medium", MmdbValue::String(std::string(100, 'm'))},
                           {"long", MmdbValue::String(std::string(70000, 'l'))},
                           {"u16", MmdbValue::Uint16(0)},
                           {"u32", MmdbValue::Uint32(70000)},
                           {"u64", MmdbValue::Uint64(0x0123456789ABCDEF)},
                           {"list", MmdbValue::Array({MmdbValue::Uint16(7), Names("x")})}});
  }

  TestTempDir tmp_{"parley_webctx"};
  const std::filesystem::path dir_{tmp_.path()};
};

TEST_F(GeoIpTest, LibmaxminddbReadsTheWrittenFile) {
  MMDB_s db;
  ASSERT_EQ(MMDB_open((dir_ / "city.mmdb").c_str(), MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
  EXPECT_EQ(db.metadata.record_size, 24);
  EXPECT_EQ(db.metadata.ip_version, 6);
  EXPECT_STREQ(db.metadata.database_type, "GeoLite2-City");
  ASSERT_EQ(db.metadata.languages.count, 1u);
  EXPECT_STREQ(db.metadata.languages.names[0], "en");
  EXPECT_EQ(db.metadata.binary_format_major_version, 2);
  EXPECT_GT(db.metadata.build_epoch, 0u);
  ASSERT_EQ(db.metadata.description.count, 1u);

  int gai_error = 0;
  int mmdb_error = 0;
  MMDB_lookup_result_s london = MMDB_lookup_string(&db, "81.2.69.142", &gai_error, &mmdb_error);
  ASSERT_EQ(mmdb_error, MMDB_SUCCESS);
  ASSERT_TRUE(london.found_entry);
  EXPECT_EQ(london.netmask, 96 + 24);
  MMDB_entry_data_s v;
  ASSERT_EQ(MMDB_get_value(&london.entry, &v, "city", "names", "en", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(std::string(v.utf8_string, v.data_size), "London");
  ASSERT_EQ(MMDB_get_value(&london.entry, &v, "location", "latitude", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(v.type, static_cast<uint32_t>(MMDB_DATA_TYPE_DOUBLE));
  EXPECT_EQ(v.double_value, 51.5142);

  MMDB_lookup_result_s probe = MMDB_lookup_string(&db, "175.16.199.1", &gai_error, &mmdb_error);
  ASSERT_TRUE(probe.found_entry);
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "long", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(std::string(v.utf8_string, v.data_size), std::string(70000, 'l'));
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "medium", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(v.data_size, 100u);
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "u16", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(v.uint16, 0);
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "u32", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(v.uint32, 70000u);
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "u64", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(v.uint64, 0x0123456789ABCDEFu);
  ASSERT_EQ(MMDB_get_value(&probe.entry, &v, "list", "1", "en", nullptr), MMDB_SUCCESS);
  EXPECT_EQ(std::string(v.utf8_string, v.data_size), "x");
  MMDB_entry_data_list_s* all = nullptr;  // decodes the whole record
  ASSERT_EQ(MMDB_get_entry_data_list(&probe.entry, &all), MMDB_SUCCESS);
  MMDB_free_entry_data_list(all);

  MMDB_lookup_result_s tokyo = MMDB_lookup_string(&db, "2001:218::5", &gai_error, &mmdb_error);
  EXPECT_TRUE(tokyo.found_entry);
  EXPECT_EQ(tokyo.netmask, 32);
  EXPECT_FALSE(MMDB_lookup_string(&db, "81.2.70.1", &gai_error, &mmdb_error).found_entry);
  EXPECT_FALSE(MMDB_lookup_string(&db, "2001:219::1", &gai_error, &mmdb_error).found_entry);
  EXPECT_EQ(mmdb_error, MMDB_SUCCESS);
  MMDB_close(&db);
}

TEST(MmdbWriterTest, RejectsOverlappingNetworks) {
  MmdbWriter writer("Test");
  ASSERT_TRUE(writer.Insert("10.0.0.0/8", Names("a")).ok());
  EXPECT_EQ(writer.Insert("10.1.0.0/16", Names("b")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Insert("10.0.0.0/7", Names("c")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Insert("nope/8", Names("d")).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(writer.Insert("11.0.0.0/8", Names("e")).ok());
}

TEST_F(GeoIpTest, ReadsACityRecord) {
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "city.mmdb").string());
  ASSERT_TRUE(geo.ok()) << geo.status().ToString();
  EXPECT_EQ((*geo)->database_type(), "GeoLite2-City");
  EXPECT_EQ((*geo)->Lookup("81.2.69.142"), London());
  EXPECT_EQ((*geo)->Lookup("::ffff:81.2.69.1"), London());
  Location tokyo;
  tokyo.country_code = "JP";
  tokyo.country = "Japan";
  tokyo.city = "Tokyo";
  EXPECT_EQ((*geo)->Lookup("2001:218:abcd::1"), tokyo);
}

TEST_F(GeoIpTest, CountryOnlyRecordFillsTheCountry) {
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "city.mmdb").string());
  ASSERT_TRUE(geo.ok());
  Location sweden;
  sweden.country_code = "SE";
  sweden.country = "Sweden";
  EXPECT_EQ((*geo)->Lookup("89.160.20.120"), sweden);
}

TEST_F(GeoIpTest, WorksWithACountryDatabase) {
  MmdbWriter writer("GeoLite2-Country", {"de", "en"});
  ASSERT_TRUE(
      writer.Insert("81.2.69.0/24", MmdbValue::Map({{"country", Country("GB", "UK")}})).ok());
  ASSERT_TRUE(writer.WriteFile(dir_ / "country.mmdb").ok());
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "country.mmdb").string());
  ASSERT_TRUE(geo.ok()) << geo.status().ToString();
  EXPECT_EQ((*geo)->database_type(), "GeoLite2-Country");
  std::optional<Location> l = (*geo)->Lookup("81.2.69.5");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->country_code, "GB");
  EXPECT_EQ(l->city, "");
  EXPECT_FALSE(l->latitude.has_value());
}

TEST_F(GeoIpTest, UnknownPrivateAndMalformedAddressesFindNothing) {
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "city.mmdb").string());
  ASSERT_TRUE(geo.ok());
  for (std::string_view ip :
       {"1.1.1.1", "127.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "2001:219::1", "", "not-an-ip",
        "81.2.69", "81.2.69.142/24", "fe80::1%eth0", " 81.2.69.142"}) {
    EXPECT_EQ((*geo)->Lookup(ip), std::nullopt) << ip;
  }
}

TEST_F(GeoIpTest, OpenErrorsSayWhatIsWrong) {
  Result<std::unique_ptr<GeoIp>> missing = GeoIp::Open((dir_ / "nope.mmdb").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.mmdb: no such file"));

  std::ofstream(dir_ / "text.mmdb") << "this is not a MaxMind database\n";
  Result<std::unique_ptr<GeoIp>> text = GeoIp::Open((dir_ / "text.mmdb").string());
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("text.mmdb: not a MaxMind DB file"));

  std::ofstream(dir_ / "empty.mmdb").close();
  EXPECT_THAT(GeoIp::Open((dir_ / "empty.mmdb").string()).status().message(),
              HasSubstr("empty file"));
  EXPECT_THAT(GeoIp::Open(dir_.string()).status().message(), HasSubstr("not a regular file"));
  EXPECT_EQ(GeoIp::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GeoIpTest, ConcurrentLookupsAgree) {
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "city.mmdb").string());
  ASSERT_TRUE(geo.ok());
  const GeoIp& shared = **geo;
  std::vector<int> hits(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < hits.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) hits[t] += shared.Lookup("81.2.69.7") == London() ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(hits, std::vector<int>(4, 500));
}

// ---- The context ----

TEST_F(GeoIpTest, MakeChatContextCombinesTheParts) {
  Result<std::unique_ptr<GeoIp>> geo = GeoIp::Open((dir_ / "city.mmdb").string());
  ASSERT_TRUE(geo.ok());
  const ChatContext c = MakeChatContext("10.0.0.1", "81.2.69.142, 10.0.0.2", "curl/8.5.0\n",
                                        Proxies({"10.0.0.0/8"}), geo->get());
  EXPECT_EQ(c.ip, "81.2.69.142");
  EXPECT_EQ(c.user_agent, "curl/8.5.0?");
  EXPECT_EQ(c.device.browser, "curl");
  EXPECT_EQ(c.location, London());
  EXPECT_EQ(MakeChatContext("81.2.69.142", "", "", Proxies({}), nullptr).location, std::nullopt);
}

TEST(ContextJsonTest, WritesEveryKnownField) {
  ChatContext c;
  c.ip = "81.2.69.142";
  c.user_agent = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0";
  c.device = ParseUserAgent(c.user_agent);
  c.location = London();
  EXPECT_EQ(ContextJson(c), boost::json::parse(R"({
    "ip": "81.2.69.142",
    "user_agent": "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    "device": {"type": "mobile", "browser": "Firefox", "browser_version": "125",
               "os": "Android", "os_version": "14"},
    "location": {"country_code": "GB", "country": "United Kingdom", "region": "England",
                 "city": "London", "latitude": 51.5142, "longitude": -0.0931,
                 "time_zone": "Europe/London"}})"));
}

TEST(ContextJsonTest, LeavesUnknownValuesOutAndBoundsTheUserAgent) {
  ChatContext c;
  EXPECT_EQ(ContextJson(c),
            boost::json::parse(R"({"ip": "", "user_agent": "", "device": {"type": "unknown"}})"));
  c.user_agent = std::string(3000, 'a') + "\xff";
  c.location = Location{};
  c.location->country_code = "SE";
  boost::json::object json = ContextJson(c);
  EXPECT_EQ(json.at("user_agent").as_string().size(), kMaxUserAgentBytes);
  EXPECT_EQ(json.at("location"), boost::json::parse(R"({"country_code": "SE"})"));
}

TEST(TrustedProxiesTest, ACommaSeparatedListIsSplitAndTrimmed) {
  auto proxies = ParseTrustedProxyList(" 10.0.0.0/8 ,2001:db8::/32,, ");
  ASSERT_TRUE(proxies.ok()) << proxies.status().message();
  EXPECT_EQ(proxies->networks.size(), 2u);
  EXPECT_TRUE(IsTrusted("10.1.2.3", *proxies));
  EXPECT_TRUE(IsTrusted("2001:db8::1", *proxies));
  EXPECT_TRUE(ParseTrustedProxyList("")->networks.empty());
  EXPECT_FALSE(ParseTrustedProxyList("10.0.0.0/8, 10.0.0.1/8").ok());
}

}  // namespace
}  // namespace parley::channels::web

// src/channels/web/context.h
//
// The chat context of a web-chat visitor: the client IP (through trusted proxies), the device
// read from the User-Agent and the IP-based location from a MaxMind DB. The web channel
// records it when the widget opens and delivers ContextJson() to the business's application.
//
//   PARLEY_ASSIGN_OR_RETURN(TrustedProxies proxies, ParseTrustedProxies(config.proxies));
//   PARLEY_ASSIGN_OR_RETURN(std::unique_ptr<GeoIp> geo, GeoIp::Open(config.geoip_path));
//   ChatContext context = MakeChatContext(peer_ip, xff_header, ua_header, proxies, geo.get());
//   boost::json::object sealed_later = ContextJson(context);
//
// Nothing here logs: IP addresses and User-Agents are personal data.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct MMDB_s;  // libmaxminddb; kept out of this header.

namespace parley::channels::web {

// ---- Client IP ------------------------------------------------------------------------------

inline constexpr size_t kMaxForwardedForBytes = 4096;
inline constexpr int kMaxForwardedForHops = 20;

// One network in canonical form: host bits zero; IPv4 in the first 4 bytes of `bytes`.
struct IpNetwork {
  bool v4 = false;
  std::array<uint8_t, 16> bytes{};
  int prefix_length = 0;
};

// The proxies (load balancers, CDNs) whose X-Forwarded-For entries are believed.
struct TrustedProxies {
  std::vector<IpNetwork> networks;
};

// Parses CIDRs ("10.0.0.0/8", "2001:db8::/32") and plain addresses ("192.0.2.1" is /32,
// "2001:db8::1" is /128). IPv4-mapped IPv6 networks ("::ffff:10.0.0.0/104") count as IPv4.
// Errors: kInvalidArgument naming the entry: "trusted_proxies[2]: \"10.0.0.1/8\": host bits
//         set (did you mean 10.0.0.0/8?)", also for bad addresses and prefix lengths.
Result<TrustedProxies> ParseTrustedProxies(const std::vector<std::string>& cidrs);

// The same for a comma-separated list ("10.0.0.0/8, 2001:db8::/32"; the `[web]
// trusted_proxies` setting); blank entries are skipped.
Result<TrustedProxies> ParseTrustedProxyList(std::string_view comma_separated);

// True if `ip` (any textual address) lies in one of the trusted networks.
bool IsTrusted(std::string_view ip, const TrustedProxies& proxies);

// The visitor's address. If the TCP peer is not a trusted proxy, the peer. Otherwise walks
// `x_forwarded_for` from the right, skipping trusted addresses, and returns the first untrusted
// one, or the leftmost examined if all are trusted. A malformed entry stops the walk and the
// last good hop is returned. Reads at most the rightmost kMaxForwardedForBytes and
// kMaxForwardedForHops entries. Entries may carry a port ("192.0.2.1:443", "[2001:db8::1]:443");
// repeated X-Forwarded-For headers are to be joined with ',' in order.
// Returns the address in canonical text (IPv4-mapped IPv6 as IPv4), "" if `peer_ip` is not an
// address.
std::string ClientIp(std::string_view peer_ip, std::string_view x_forwarded_for,
                     const TrustedProxies& proxies);

// ---- Device ---------------------------------------------------------------------------------

inline constexpr size_t kMaxUserAgentBytes = 1024;

enum class DeviceType { kUnknown, kDesktop, kMobile, kTablet, kBot };

// "unknown", "desktop", "mobile", "tablet", "bot".
std::string_view DeviceTypeName(DeviceType type);

// What a User-Agent says about the visitor's device. Empty strings are "unknown".
struct DeviceInfo {
  std::string browser;          // "Chrome", "Safari", "Samsung Internet", "Googlebot", "curl"
  std::string browser_version;  // major version only: "124"
  std::string os;          // "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux", "ChromeOS"
  std::string os_version;  // "10", "14", "17.4.1", "10.15.7"; "" where the UA does not say
  DeviceType type = DeviceType::kUnknown;  // kBot also covers HTTP tools (curl, wget)

  friend bool operator==(const DeviceInfo&, const DeviceInfo&) = default;
};

// Reads the first kMaxUserAgentBytes of `ua` against a small ordered table of known tokens.
// Best effort by nature: browsers freeze or fake parts of their UA (Windows 11 sends
// "Windows NT 10.0", Safari on iPadOS asks for desktop sites with a macOS UA).
DeviceInfo ParseUserAgent(std::string_view ua);

// The User-Agent as stored: at most kMaxUserAgentBytes, bytes outside printable ASCII
// replaced with '?' (RFC 9110 User-Agents are ASCII; this keeps the JSON valid UTF-8).
std::string SanitizeUserAgent(std::string_view ua);

// ---- Location -------------------------------------------------------------------------------

// IP-based location. Empty strings and missing coordinates are "unknown".
struct Location {
  std::string country_code;  // ISO 3166-1 alpha-2: "DE"
  std::string country;       // English name: "Germany"
  std::string region;        // first subdivision, English: "Berlin"
  std::string city;          // English: "Berlin"
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::string time_zone;  // IANA: "Europe/Berlin"

  friend bool operator==(const Location&, const Location&) = default;
};

// A MaxMind DB (GeoLite2/GeoIP2 City or Country) opened read-only via mmap.
//
// Thread safety: Lookup may be called concurrently from any number of threads: libmaxminddb
// only reads the mapped file during lookups of an opened database.
class GeoIp {
 public:
  // Errors: kInvalidArgument (empty path, or the file is not a MaxMind DB),
  //         kNotFound (no such file), kFailedPrecondition (cannot read it), kInternal.
  static Result<std::unique_ptr<GeoIp>> Open(const std::string& path);

  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  // The record for `ip`; nullopt for malformed input, addresses the database does not cover
  // (private and loopback ranges are never in it) and records without any field of Location.
  // Reads country.iso_code, country.names.en, subdivisions[0].names.en, city.names.en and
  // location.{latitude,longitude,time_zone}; a Country database fills the country only.
  std::optional<Location> Lookup(std::string_view ip) const;

  // The metadata's database_type, e.g. "GeoLite2-City".
  std::string_view database_type() const;

 private:
  struct Closer {
    void operator()(MMDB_s* db) const;
  };
  explicit GeoIp(std::unique_ptr<MMDB_s, Closer> db);

  const std::unique_ptr<MMDB_s, Closer> db_;
};

// ---- The context ----------------------------------------------------------------------------

struct ChatContext {
  std::string ip;  // canonical text, see ClientIp
  DeviceInfo device;
  std::optional<Location> location;
  std::string user_agent;  // see SanitizeUserAgent
};

// Builds the context from the request's peer address and headers. `geo` may be null (no
// database configured); it must outlive the call.
ChatContext MakeChatContext(std::string_view peer_ip, std::string_view x_forwarded_for,
                            std::string_view user_agent, const TrustedProxies& proxies,
                            const GeoIp* geo);

// The JSON delivered to the business's application. Unknown values are left out:
//   {
//     "ip": "203.0.113.7",                          always (may be "")
//     "user_agent": "Mozilla/5.0 ...",              always, sanitized (may be "")
//     "device": {
//       "type": "mobile",                           always: unknown|desktop|mobile|tablet|bot
//       "browser": "Chrome", "browser_version": "124",
//       "os": "Android", "os_version": "14"
//     },
//     "location": {                                 only when the database knows the address
//       "country_code": "DE", "country": "Germany", "region": "Berlin", "city": "Berlin",
//       "latitude": 52.52, "longitude": 13.40, "time_zone": "Europe/Berlin"
//     }
//   }
boost::json::object ContextJson(const ChatContext& context);

}  // namespace parley::channels::web

// src/channels/web/context.cc
//
// Client IP through trusted proxies, User-Agent tables, MaxMind lookups and the context JSON.
#include "channels/web/context.h"

#include <fmt/format.h>
#include <maxminddb.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <system_error>
#include <utility>

namespace parley::channels::web {
namespace {

namespace ip = boost::asio::ip;

// ---- Addresses ----

// Asio parses; this only refuses what Asio would do more than parse: a zone id ("fe80::1%eth0")
// makes it call if_nametoindex, which hostile X-Forwarded-For input must not reach.
std::optional<ip::address> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 45 || text.find('%') != std::string_view::npos) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  ip::address address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; they must match IPv4 networks.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::array<uint8_t, 16> Bytes(const ip::address& address) {
  std::array<uint8_t, 16> out{};
  if (address.is_v4()) {
    auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), out.begin());
  } else {
    out = address.to_v6().to_bytes();
  }
  return out;
}

bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  const int full = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(full)) != 0) return false;
  if (bits % 8 == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - bits % 8));
  return (a[full] & mask) == (b[full] & mask);
}

bool Contains(const TrustedProxies& proxies, const ip::address& address) {
  const std::array<uint8_t, 16> bytes = Bytes(address);
  return std::any_of(proxies.networks.begin(), proxies.networks.end(), [&](const IpNetwork& n) {
    return n.v4 == address.is_v4() && SamePrefix(n.bytes, bytes, n.prefix_length);
  });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsPortSuffix(std::string_view s) {  // ":443"
  int port = -1;
  const char* end = s.data() + s.size();
  return s.size() >= 2 && s[0] == ':' && std::from_chars(s.data() + 1, end, port).ptr == end &&
         port >= 0 && port <= 65535;
}

// Some proxies append the client's port; returns "" (malformed) for anything else odd.
std::string_view StripPort(std::string_view s) {
  if (s.starts_with('[')) {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view after = s.substr(close + 1);
    if (!after.empty() && !IsPortSuffix(after)) return {};
    return s.substr(1, close - 1);
  }
  const size_t colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
    return IsPortSuffix(s.substr(colon)) ? s.substr(0, colon) : std::string_view();
  }
  return s;
}

// ---- User-Agent tables ----

struct BrowserRule {
  std::string_view token;    // must appear in the UA
  std::string_view version;  // the major version follows this; "" means `token`
  std::string_view name;
};

// Crawlers and HTTP tools; checked before browsers since many of them also claim Chrome.
constexpr BrowserRule kBots[] = {
    {"Googlebot", "Googlebot/", "Googlebot"},
    {"bingbot/", "", "Bingbot"},
    {"DuckDuckBot", "DuckDuckBot/", "DuckDuckBot"},
    {"YandexBot/", "", "YandexBot"},
    {"Baiduspider", "Baiduspider/", "Baiduspider"},
    {"facebookexternalhit/", "", "Facebook"},
    {"Twitterbot/", "", "Twitterbot"},
    {"Slackbot", "Slackbot ", "Slackbot"},
    {"GPTBot/", "", "GPTBot"},
    {"HeadlessChrome/", "", "HeadlessChrome"},
    {"curl/", "", "curl"},
    {"Wget/", "", "Wget"},
    {"python-requests/", "", "python-requests"},
    {"Go-http-client/", "", "Go-http-client"},
};
constexpr std::string_view kBotMarks[] = {"bot/", "Bot/", "crawler", "spider", "Spider"};

// Order matters: Chromium-based browsers carry "Chrome/" and everything WebKit "Safari/".
constexpr BrowserRule kBrowsers[] = {
    {"Edg/", "", "Edge"},
    {"EdgA/", "", "Edge"},
    {"EdgiOS/", "", "Edge"},
    {"Edge/", "", "Edge"},
    {"OPR/", "", "Opera"},
    {"SamsungBrowser/", "", "Samsung Internet"},
    {"YaBrowser/", "", "Yandex Browser"},
    {"UCBrowser/", "", "UC Browser"},
    {"Vivaldi/", "", "Vivaldi"},
    {"Firefox/", "", "Firefox"},
    {"FxiOS/", "", "Firefox"},
    {"; wv)", "Chrome/", "Android WebView"},
    {"CriOS/", "", "Chrome"},
    {"Chromium/", "", "Chromium"},
    {"Chrome/", "", "Chrome"},
    {"MSIE ", "", "Internet Explorer"},
    {"Trident/", "rv:", "Internet Explorer"},
    {"Safari/", "Version/", "Safari"},
};

struct OsRule {
  std::string_view token;
  std::string_view name;
  std::string_view version;  // the version follows this; "" when the UA carries none
  DeviceType type;           // kUnknown: "Mobile" decides between phone and tablet
};

// iOS and iPadOS say "like Mac OS X" and Android says "Linux", so they come first.
constexpr OsRule kSystems[] = {
    {"iPad", "iPadOS", "CPU OS ", DeviceType::kTablet},
    {"iPhone", "iOS", "iPhone OS ", DeviceType::kMobile},
    {"iPod", "iOS", "iPhone OS ", DeviceType::kMobile},
    {"Android", "Android", "Android ", DeviceType::kUnknown},
    {"CrOS", "ChromeOS", "", DeviceType::kDesktop},
    {"Windows NT ", "Windows", "Windows NT ", DeviceType::kDesktop},
    {"Macintosh", "macOS", "Mac OS X ", DeviceType::kDesktop},
    {"Linux", "Linux", "", DeviceType::kDesktop},
};

// Windows NT kernel versions; Windows 11 still sends 10.0.
constexpr std::pair<std::string_view, std::string_view> kWindowsVersions[] = {
    {"10.0", "10"}, {"6.3", "8.1"}, {"6.2", "8"}, {"6.1", "7"}};

bool Has(std::string_view ua, std::string_view token) {
  return ua.find(token) != std::string_view::npos;
}

// The run of characters in `allowed` right after `token`, or "".
std::string_view After(std::string_view ua, std::string_view token, std::string_view allowed) {
  const size_t at = ua.find(token);
  if (at == std::string_view::npos) return {};
  std::string_view rest = ua.substr(at + token.size());
  return rest.substr(0, std::min(rest.find_first_not_of(allowed), rest.size()));
}

bool ApplyBrowser(std::string_view ua, std::span<const BrowserRule> rules, DeviceInfo& info) {
  for (const BrowserRule& rule : rules) {
    if (!Has(ua, rule.token)) continue;
    info.browser = rule.name;
    info.browser_version =
        After(ua, rule.version.empty() ? rule.token : rule.version, "0123456789");
    return true;
  }
  return false;
}

std::string OsVersion(std::string_view ua, const OsRule& rule) {
  if (rule.version.empty()) return "";
  std::string version(After(ua, rule.version, "0123456789._"));
  std::replace(version.begin(), version.end(), '_', '.');
  while (!version.empty() && version.back() == '.') version.pop_back();
  if (rule.name != "Windows") return version;
  for (const auto& [nt, name] : kWindowsVersions) {
    if (version == nt) return std::string(name);
  }
  return "";
}

// ---- MaxMind values ----

inline constexpr size_t kMaxGeoTextBytes = 256;

std::optional<MMDB_entry_data_s> Value(MMDB_entry_s entry,
                                       std::initializer_list<const char*> path) {
  std::array<const char*, 6> terminated{};
  PARLEY_CHECK(path.size() < terminated.size());
  std::copy(path.begin(), path.end(), terminated.begin());
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, terminated.data()) != MMDB_SUCCESS || !data.has_data) {
    return std::nullopt;
  }
  return data;
}

// Names come from the operator's database; bounded anyway, cut on a UTF-8 character boundary.
std::string Text(const MMDB_entry_s& entry, std::initializer_list<const char*> path) {
  std::optional<MMDB_entry_data_s> data = Value(entry, path);
  if (!data || data->type != MMDB_DATA_TYPE_UTF8_STRING) return "";
  std::string_view text(data->utf8_string, data->data_size);
  if (text.size() > kMaxGeoTextBytes) {
    size_t cut = kMaxGeoTextBytes;
    while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  return std::string(text);
}

std::optional<double> Degrees(const MMDB_entry_s& entry, const char* key, double limit) {
  std::optional<MMDB_entry_data_s> data = Value(entry, {"location", key});
  if (!data || data->type != MMDB_DATA_TYPE_DOUBLE) return std::nullopt;
  const double degrees = data->double_value;
  if (!std::isfinite(degrees) || std::fabs(degrees) > limit) return std::nullopt;
  return degrees;
}

Status OpenError(const std::string& path, int mmdb_status, int saved_errno) {
  switch (mmdb_status) {
    case MMDB_FILE_OPEN_ERROR:
    case MMDB_IO_ERROR:
      if (saved_errno == ENOENT)
        return NotFound(fmt::format("geoip database {}: no such file", path));
      return FailedPrecondition(
          fmt::format("geoip database {}: cannot read: {}", path, std::strerror(saved_errno)));
    case MMDB_OUT_OF_MEMORY_ERROR:
      return Internal(fmt::format("geoip database {}: out of memory", path));
    default:
      return InvalidArgument(fmt::format("geoip database {}: not a MaxMind DB file ({})", path,
                                         MMDB_strerror(mmdb_status)));
  }
}

std::string NetworkText(const IpNetwork& network) {
  const ip::address base =
      network.v4 ? ip::address(ip::address_v4(ip::address_v4::bytes_type{
                       network.bytes[0], network.bytes[1], network.bytes[2], network.bytes[3]}))
                 : ip::address(ip::address_v6(network.bytes));
  return fmt::format("{}/{}", base.to_string(), network.prefix_length);
}

void PutIfKnown(boost::json::object& out, std::string_view key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

}  // namespace

// ---- Client IP ----

Result<TrustedProxies> ParseTrustedProxies(const std::vector<std::string>& cidrs) {
  TrustedProxies proxies;
  for (size_t i = 0; i < cidrs.size(); ++i) {
    const std::string& entry = cidrs[i];
    auto bad = [&](std::string_view why) {
      return InvalidArgument(fmt::format("trusted_proxies[{}]: \"{}\": {}", i, entry, why));
    };
    const size_t slash = entry.find('/');
    std::optional<ip::address> address = ParseAddress(std::string_view(entry).substr(0, slash));
    if (!address) return bad("not an IP address or CIDR");
    IpNetwork network;
    network.v4 = address->is_v4();
    network.bytes = Bytes(*address);
    const int max_bits = network.v4 ? 32 : 128;
    network.prefix_length = max_bits;
    if (slash != std::string::npos) {
      const std::string_view digits = std::string_view(entry).substr(slash + 1);
      int prefix = -1;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      // An IPv4-mapped network was turned into IPv4 by ParseAddress; its prefix counts the
      // 96 mapping bits.
      const bool mapped = network.v4 && entry.find(':') != std::string::npos;
      if (mapped) prefix -= 96;
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
          digits.size() > 3 || prefix < 0 || prefix > max_bits) {
        return bad(mapped ? "an IPv4-mapped network needs a prefix length of 96..128"
                          : fmt::format("prefix length must be 0..{}", max_bits));
      }
      network.prefix_length = prefix;
    }
    IpNetwork canonical = network;
    for (int bit = canonical.prefix_length; bit < max_bits; ++bit) {
      canonical.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    }
    if (canonical.bytes != network.bytes) {
      return bad(fmt::format("host bits set (did you mean {}?)", NetworkText(canonical)));
    }
    proxies.networks.push_back(canonical);
  }
  return proxies;
}

Result<TrustedProxies> ParseTrustedProxyList(std::string_view comma_separated) {
  std::vector<std::string> entries;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', start);
    if (comma == std::string_view::npos) comma = comma_separated.size();
    std::string_view entry = comma_separated.substr(start, comma - start);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty()) entries.emplace_back(entry);
    start = comma + 1;
  }
  return ParseTrustedProxies(entries);
}

bool IsTrusted(std::string_view ip, const TrustedProxies& proxies) {
  std::optional<ip::address> address = ParseAddress(ip);
  return address && Contains(proxies, *address);
}

std::string ClientIp(std::string_view peer_ip, std::string_view x_forwarded_for,
                     const TrustedProxies& proxies) {
  std::optional<ip::address> peer = ParseAddress(peer_ip);
  if (!peer) return "";
  ip::address client = *peer;
  if (!Contains(proxies, client)) return client.to_string();

  // Our proxies append on the right, so the rightmost bytes are the ones worth reading.
  std::string_view rest = x_forwarded_for;
  if (rest.size() > kMaxForwardedForBytes) {
    rest = rest.substr(rest.size() - kMaxForwardedForBytes);
    const size_t comma = rest.find(',');  // the window's first entry may be cut
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  for (int hop = 0; hop < kMaxForwardedForHops && !rest.empty(); ++hop) {
    const size_t comma = rest.rfind(',');
    const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    std::optional<ip::address> hop_address = ParseAddress(StripPort(TrimOws(entry)));
    if (!hop_address) break;  // whoever wrote it is not to be believed further left
    client = *hop_address;
    if (!Contains(proxies, client)) break;
  }
  return client.to_string();
}

// ---- Device ----

std::string_view DeviceTypeName(DeviceType type) {
  constexpr std::string_view kNames[] = {"unknown", "desktop", "mobile", "tablet", "bot"};
  const auto index = static_cast<size_t>(type);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

DeviceInfo ParseUserAgent(std::string_view ua) {
  ua = ua.substr(0, kMaxUserAgentBytes);
  DeviceInfo info;
  for (const OsRule& rule : kSystems) {
    if (!Has(ua, rule.token)) continue;
    info.os = rule.name;
    info.os_version = OsVersion(ua, rule);
    info.type = rule.type;
    break;
  }
  // Android tablets leave "Mobile" out (Google's guidance for tablet UAs).
  if (info.type == DeviceType::kUnknown && (info.os == "Android" || info.os.empty())) {
    if (Has(ua, "Mobile")) {
      info.type = DeviceType::kMobile;
    } else if (!info.os.empty()) {
      info.type = DeviceType::kTablet;
    }
  }
  if (ApplyBrowser(ua, kBots, info)) {
    info.type = DeviceType::kBot;
  } else {
    ApplyBrowser(ua, kBrowsers, info);
    for (std::string_view mark : kBotMarks) {
      if (Has(ua, mark)) info.type = DeviceType::kBot;
    }
  }
  return info;
}

std::string SanitizeUserAgent(std::string_view ua) {
  std::string out(ua.substr(0, kMaxUserAgentBytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return out;
}

// ---- Location ----

void GeoIp::Closer::operator()(MMDB_s* db) const {
  MMDB_close(db);
  delete db;
}

GeoIp::GeoIp(std::unique_ptr<MMDB_s, Closer> db) : db_(std::move(db)) {}
GeoIp::~GeoIp() = default;

Result<std::unique_ptr<GeoIp>> GeoIp::Open(const std::string& path) {
  if (path.empty()) return InvalidArgument("geoip database: path is empty");
  // libmaxminddb reports an empty file or a directory as an mmap failure; say what it is.
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return NotFound(fmt::format("geoip database {}: no such file", path));
  }
  if (!ec && status.type() != std::filesystem::file_type::regular) {
    return InvalidArgument(fmt::format("geoip database {}: not a regular file", path));
  }
  if (!ec) {
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size == 0) {
      return InvalidArgument(fmt::format("geoip database {}: empty file, not a MaxMind DB", path));
    }
  }
  // Only an opened database may be handed to MMDB_close; MMDB_open cleans up after failing.
  auto db = std::make_unique<MMDB_s>();
  errno = 0;
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db.get());
  const int saved_errno = errno;
  if (rc != MMDB_SUCCESS) return OpenError(path, rc, saved_errno);
  return std::unique_ptr<GeoIp>(new GeoIp(std::unique_ptr<MMDB_s, Closer>(db.release())));
}

std::string_view GeoIp::database_type() const {
  const char* type = db_->metadata.database_type;
  return type == nullptr ? std::string_view() : std::string_view(type);
}

std::optional<Location> GeoIp::Lookup(std::string_view ip) const {
  std::optional<ip::address> address = ParseAddress(ip);
  if (!address) return std::nullopt;
  // Asio has checked the text, and libmaxminddb resolves with AI_NUMERICHOST: no DNS here.
  int gai_error = 0;
  int mmdb_error = MMDB_SUCCESS;
  const MMDB_lookup_result_s found =
      MMDB_lookup_string(db_.get(), address->to_string().c_str(), &gai_error, &mmdb_error);
  // An IPv6 address in an IPv4-only database is an error there and simply unknown here.
  if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !found.found_entry) return std::nullopt;

  const MMDB_entry_s& entry = found.entry;
  Location location;
  location.country_code = Text(entry, {"country", "iso_code"});
  location.country = Text(entry, {"country", "names", "en"});
  location.region = Text(entry, {"subdivisions", "0", "names", "en"});
  location.city = Text(entry, {"city", "names", "en"});
  location.latitude = Degrees(entry, "latitude", 90);
  location.longitude = Degrees(entry, "longitude", 180);
  location.time_zone = Text(entry, {"location", "time_zone"});
  if (location == Location{}) return std::nullopt;
  return location;
}

// ---- The context ----

ChatContext MakeChatContext(std::string_view peer_ip, std::string_view x_forwarded_for,
                            std::string_view user_agent, const TrustedProxies& proxies,
                            const GeoIp* geo) {
  ChatContext context;
  context.ip = ClientIp(peer_ip, x_forwarded_for, proxies);
  context.user_agent = SanitizeUserAgent(user_agent);
  context.device = ParseUserAgent(context.user_agent);
  if (geo != nullptr && !context.ip.empty()) context.location = geo->Lookup(context.ip);
  return context;
}

boost::json::object ContextJson(const ChatContext& context) {
  boost::json::object out;
  out["ip"] = context.ip;
  out["user_agent"] = SanitizeUserAgent(context.user_agent);

  boost::json::object device;
  device["type"] = DeviceTypeName(context.device.type);
  PutIfKnown(device, "browser", context.device.browser);
  PutIfKnown(device, "browser_version", context.device.browser_version);
  PutIfKnown(device, "os", context.device.os);
  PutIfKnown(device, "os_version", context.device.os_version);
  out["device"] = std::move(device);

  if (context.location) {
    const Location& l = *context.location;
    boost::json::object location;
    PutIfKnown(location, "country_code", l.country_code);
    PutIfKnown(location, "country", l.country);
    PutIfKnown(location, "region", l.region);
    PutIfKnown(location, "city", l.city);
    if (l.latitude) location["latitude"] = *l.latitude;
    if (l.longitude) location["longitude"] = *l.longitude;
    PutIfKnown(location, "time_zone", l.time_zone);
    out["location"] = std::move(location);
  }
  return out;
}

}  // namespace parley::channels::web

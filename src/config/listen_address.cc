#include "config/listen_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace parley::config {

namespace {

constexpr size_t kMaxHostLength = 253;  // DNS limit; also bounds the IPv6 literal

bool IsHostnameLabelChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

bool IsValidHostname(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), IsHostnameLabelChar)) {
      return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool LooksLikeIpv4(std::string_view host) {
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

bool IsIp(int family, std::string_view host) {
  if (host.size() > kMaxHostLength) return false;
  unsigned char buf[16];
  return inet_pton(family, std::string(host).c_str(), buf) == 1;
}

}  // namespace

std::string ListenAddress::ToString() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";
  } else {
    out = host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const Status kShape = InvalidArgument("expected HOST:PORT");
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return kShape;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!IsIp(AF_INET6, host))
      return InvalidArgument("expected HOST:PORT with an IPv6 address in brackets");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return kShape;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgument("expected HOST:PORT (put IPv6 addresses in brackets)");
    }
    if (host.empty()) return kShape;
    if (LooksLikeIpv4(host)) {
      if (!IsIp(AF_INET, host))
        return InvalidArgument("expected HOST:PORT with a valid IPv4 address");
    } else if (!IsValidHostname(host)) {
      return InvalidArgument("expected HOST:PORT with a valid hostname");
    }
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Five digits at most: anything longer is out of range, and this bounds the parse.
    if (!port.empty() &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidArgument("port must be between 0 and 65535");
    }
    return kShape;
  }
  int value = 0;
  for (char c : port) value = value * 10 + (c - '0');
  if (value > 65535) return InvalidArgument("port must be between 0 and 65535");
  return ListenAddress{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace parley::config

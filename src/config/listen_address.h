// src/config/listen_address.h
//
// A listener address, "HOST:PORT" in config and flags. IPv6 addresses go in brackets.
//
//   PARLEY_ASSIGN_OR_RETURN(ListenAddress a, ParseListenAddress("[::1]:0"));
//   a.host == "::1"; a.port == 0; a.ToString() == "[::1]:0"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace parley::config {

struct ListenAddress {
  std::string host = "127.0.0.1";  // IPv4 literal, IPv6 literal (no brackets) or hostname
  uint16_t port = 8080;            // 0 = any free port (tests)

  // "127.0.0.1:8080", "[::1]:0", "localhost:80".
  std::string ToString() const;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Accepts "IPV4:PORT", "HOSTNAME:PORT" and "[IPV6]:PORT" with PORT in 0..65535.
// Errors: kInvalidArgument with a message that does not repeat the input, e.g.
// "expected HOST:PORT", "port must be between 0 and 65535".
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace parley::config

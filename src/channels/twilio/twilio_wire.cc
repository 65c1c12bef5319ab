#include "channels/twilio/twilio_wire.h"

#include <fmt/format.h>

#include <algorithm>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::channels::twilio {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<FormParams> ParseForm(std::string_view body) {
  if (body.size() > kMaxFormBytes) {
    return InvalidArgument(fmt::format("body: longer than {} bytes", kMaxFormBytes));
  }
  FormParams params;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (params.size() == kMaxFormParams) {
      return InvalidArgument(fmt::format("body: more than {} form parameters", kMaxFormParams));
    }
    size_t eq = pair.find('=');
    std::string key = Decode(pair.substr(0, eq));
    if (key.size() > kMaxFormKeyBytes) {
      return InvalidArgument(
          fmt::format("body: a form parameter name is longer than {} bytes", kMaxFormKeyBytes));
    }
    std::string value = eq == std::string_view::npos ? std::string() : Decode(pair.substr(eq + 1));
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

const std::string* FindParam(const FormParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string FormEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string EncodeForm(const FormParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += FormEscape(k);
    out.push_back('=');
    out += FormEscape(v);
  }
  return out;
}

std::string ComputeSignature(std::string_view auth_token, std::string_view url,
                             const FormParams& params) {
  FormParams sorted = params;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string data(url);
  for (const auto& [k, v] : sorted) {
    data += k;
    data += v;
  }
  return crypto::Base64Encode(crypto::HmacSha1(auth_token, data));
}

std::vector<std::string> SignatureUrlVariants(std::string_view url) {
  std::vector<std::string> out{std::string(url)};
  std::string_view default_port;
  if (url.substr(0, 8) == "https://") {
    default_port = "443";
  } else if (url.substr(0, 7) == "http://") {
    default_port = "80";
  } else {
    return out;
  }
  size_t host_start = url.find("://") + 3;
  size_t host_end = url.find_first_of("/?#", host_start);
  if (host_end == std::string_view::npos) host_end = url.size();
  std::string_view authority = url.substr(host_start, host_end - host_start);
  // The port follows the last ':' unless that ':' is inside an IPv6 literal ("[::1]").
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  if (has_port) {
    if (authority.substr(colon + 1) == default_port) {
      out.push_back(std::string(url.substr(0, host_start + colon)) +
                    std::string(url.substr(host_end)));
    }
  } else if (!authority.empty()) {
    out.push_back(std::string(url.substr(0, host_end)) + ":" + std::string(default_port) +
                  std::string(url.substr(host_end)));
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t j = 1; j <= n; ++j) {
      auto d = static_cast<unsigned char>(s[i + j]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace parley::channels::twilio

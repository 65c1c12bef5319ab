#include "crypto/sigv4.h"

#include <algorithm>
#include <array>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace parley::crypto {
namespace {

constexpr std::string_view kHexDigits = "0123456789ABCDEF";
constexpr std::string_view kTerminator = "aws4_request";
constexpr size_t kMaxMethodBytes = 32;
// RFC 1035 caps a DNS name at 253 characters; brackets and IPv6 fit well within 255.
constexpr size_t kMaxHostBytes = 255;

// Headers the signer computes itself: letting a caller pass them would sign two values.
constexpr std::array<std::string_view, 5> kReservedHeaders = {
    "authorization", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"};
// Query parameters of query-string auth; the signer adds them (X-Amz-Signature last).
constexpr std::array<std::string_view, 7> kReservedParams = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLower(c);
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 token (header field names).
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c);
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// '%XX' → byte; everything else is copied. '+' is not a space here: S3 paths and SigV4
// query strings are RFC 3986, not HTML forms.
bool PercentDecode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// Letters, digits, '-' and '_': these end up between the '/' of the credential scope.
bool IsScopeComponent(std::string_view text) {
  if (text.empty() || text.size() > kMaxSigV4CredentialBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '_';
  });
}

bool IsPrintableAsciiWithoutSpace(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Status ValidateCredentials(const AwsCredentials& credentials) {
  const std::string_view id = credentials.access_key_id;
  if (id.empty()) return InvalidArgument("sigv4: access key id is empty");
  // '/' would shift the credential scope and ',' would split the Authorization header.
  if (id.size() > kMaxSigV4CredentialBytes || !IsPrintableAsciiWithoutSpace(id) ||
      id.find_first_of("/,") != std::string_view::npos) {
    return InvalidArgument(
        "sigv4: access key id must be at most 256 printable ASCII characters without space, "
        "'/' or ','");
  }
  if (credentials.secret_access_key.empty()) {
    return InvalidArgument("sigv4: secret access key is empty");
  }
  if (credentials.secret_access_key.size() > kMaxSigV4SecretBytes) {
    return InvalidArgument("sigv4: secret access key is longer than 1024 bytes");
  }
  if (credentials.session_token.size() > kMaxSigV4SessionTokenBytes) {
    return InvalidArgument("sigv4: session token is longer than 8192 bytes");
  }
  if (!IsPrintableAsciiWithoutSpace(credentials.session_token)) {
    return InvalidArgument("sigv4: session token must be printable ASCII without spaces");
  }
  return OkStatus();
}

Status ValidateScope(const SigV4Scope& scope) {
  if (scope.region.empty()) return InvalidArgument("sigv4: region is empty");
  if (scope.service.empty()) return InvalidArgument("sigv4: service is empty");
  if (!IsScopeComponent(scope.region)) {
    return InvalidArgument("sigv4: region must be letters, digits, '-' or '_' (at most 256)");
  }
  if (!IsScopeComponent(scope.service)) {
    return InvalidArgument("sigv4: service must be letters, digits, '-' or '_' (at most 256)");
  }
  return OkStatus();
}

Status ValidateMethod(std::string_view method) {
  if (method.empty()) return InvalidArgument("sigv4: method is empty");
  if (method.size() > kMaxMethodBytes ||
      !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return InvalidArgument("sigv4: method must be uppercase letters, e.g. GET");
  }
  return OkStatus();
}

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    const std::string_view inner = host.substr(1, host.size() - 2);
    return std::all_of(inner.begin(), inner.end(),
                       [](char c) { return HexValue(c) >= 0 || c == ':' || c == '.'; });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '.';
  });
}

Status ValidateUrl(const SigV4Url& url) {
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgument("sigv4: url scheme must be http or https");
  }
  if (url.host.empty()) return InvalidArgument("sigv4: url has no host");
  if (!IsValidHost(url.host)) {
    return InvalidArgument(
        "sigv4: url host must be a DNS name, an IPv4 address or a bracketed IPv6 address");
  }
  if (url.port && *url.port == 0) return InvalidArgument("sigv4: url port must be 1..65535");
  if (url.path.empty() || url.path.front() != '/') {
    return InvalidArgument("sigv4: url path must start with '/'");
  }
  if (url.path.size() > kMaxSigV4PathBytes) {
    return InvalidArgument("sigv4: url path is longer than 4096 bytes");
  }
  if (url.query.size() > kMaxSigV4Fields) {
    return InvalidArgument("sigv4: url has more than 64 query parameters");
  }
  for (const auto& [key, value] : url.query) {
    if (key.empty()) return InvalidArgument("sigv4: url has a query parameter without a name");
    if (key.size() > kMaxSigV4FieldBytes || value.size() > kMaxSigV4FieldBytes) {
      return InvalidArgument("sigv4: url has a query parameter longer than 8192 bytes");
    }
  }
  return OkStatus();
}

Status ValidateCommon(const AwsCredentials& credentials, const SigV4Scope& scope,
                      std::string_view method, const SigV4Url& url) {
  PARLEY_RETURN_IF_ERROR(ValidateCredentials(credentials));
  PARLEY_RETURN_IF_ERROR(ValidateScope(scope));
  PARLEY_RETURN_IF_ERROR(ValidateMethod(method));
  return ValidateUrl(url);
}

bool IsValidPayloadHash(std::string_view hash) {
  if (hash == kUnsignedPayload) return true;
  return hash.size() == 2 * kSha256Size && std::all_of(hash.begin(), hash.end(), [](char c) {
           return IsDigit(c) || (c >= 'a' && c <= 'f');
         });
}

// The port is part of Host only when it differs from the scheme's default; Parley's HTTP
// client sends Host exactly as the URL's authority, and the URLs built here follow the rule.
std::string Authority(const SigV4Url& url) {
  const uint16_t default_port = url.scheme == "https" ? 443 : 80;
  std::string authority = url.host;
  if (url.port && *url.port != default_port) authority += ":" + std::to_string(*url.port);
  return authority;
}

// Sorted by encoded key, then encoded value (a key may repeat); "k=" for empty values.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [key, value] : params) {
    encoded.emplace_back(SigV4UriEncode(key, false), SigV4UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [key, value] : encoded) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

// AWS "Trimall": no leading or trailing whitespace, inner runs collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string CredentialScope(std::string_view date, const SigV4Scope& scope) {
  std::string out(date);
  out += '/';
  out += scope.region;
  out += '/';
  out += scope.service;
  out += '/';
  out += kTerminator;
  return out;
}

SigV4Steps Sign(std::string_view secret, std::string_view amz_date,
                std::string_view credential_scope, const SigV4Scope& scope,
                std::string canonical_request) {
  SigV4Steps steps;
  steps.canonical_request = std::move(canonical_request);
  steps.string_to_sign = std::string(kSigV4Algorithm) + "\n" + std::string(amz_date) + "\n" +
                         std::string(credential_scope) + "\n" +
                         HexEncode(Sha256(steps.canonical_request));
  steps.signing_key = SigV4SigningKey(secret, amz_date.substr(0, 8), scope.region, scope.service);
  steps.signature = HexEncode(HmacSha256(steps.signing_key, steps.string_to_sign));
  return steps;
}

void AppendDigits(std::string& out, unsigned value, int width) {
  std::string digits(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0 && value > 0; --i) {
    digits[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out += digits;
}

}  // namespace

std::string SigV4UriEncode(std::string_view raw, bool keep_slash) {
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHexDigits[c >> 4];
      out += kHexDigits[c & 0xf];
    }
  }
  return out;
}

Result<std::string> SigV4Timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const sys_seconds seconds_since_epoch = floor<seconds>(time);
  const sys_days day = floor<days>(seconds_since_epoch);
  const year_month_day date{day};
  const hh_mm_ss<seconds> clock{seconds_since_epoch - day};
  const int year = static_cast<int>(date.year());
  if (year < 1970 || year > 9999) {
    return InvalidArgument("sigv4: time must be within the years 1970..9999");
  }
  std::string out;
  out.reserve(16);
  AppendDigits(out, static_cast<unsigned>(year), 4);
  AppendDigits(out, static_cast<unsigned>(date.month()), 2);
  AppendDigits(out, static_cast<unsigned>(date.day()), 2);
  out += 'T';
  AppendDigits(out, static_cast<unsigned>(clock.hours().count()), 2);
  AppendDigits(out, static_cast<unsigned>(clock.minutes().count()), 2);
  AppendDigits(out, static_cast<unsigned>(clock.seconds().count()), 2);
  out += 'Z';
  return out;
}

std::string SigV4SigningKey(std::string_view secret_access_key, std::string_view date,
                            std::string_view region, std::string_view service) {
  std::string key = HmacSha256("AWS4" + std::string(secret_access_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, kTerminator);
}

Result<SigV4Url> ParseSigV4Url(std::string_view text) {
  if (text.size() > kMaxSigV4UrlBytes) {
    return InvalidArgument("sigv4: url is longer than 16384 bytes");
  }
  // A valid URL is printable ASCII; raw spaces or UTF-8 must be percent-encoded (or given
  // unencoded through SigV4Url).
  if (!IsPrintableAsciiWithoutSpace(text)) {
    return InvalidArgument("sigv4: url contains a space, a control or a non-ASCII byte");
  }
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgument("sigv4: url must start with http:// or https://");
  }
  SigV4Url url;
  url.scheme = Lowercase(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgument("sigv4: url scheme must be http or https");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return InvalidArgument("sigv4: url must not have a fragment");
  }
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("sigv4: credentials in urls are not supported");
  }

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("sigv4: url host is malformed");
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("sigv4: url host is malformed");
      has_port = true;
      port = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    has_port = true;
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return InvalidArgument("sigv4: url has no host");
  url.host = std::string(host);
  if (has_port) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return InvalidArgument("sigv4: url port must be 1..65535");
    }
    int value = 0;
    for (char c : port) value = value * 10 + (c - '0');
    if (value < 1 || value > 65535) return InvalidArgument("sigv4: url port must be 1..65535");
    url.port = static_cast<uint16_t>(value);
  }

  const size_t query_start = rest.find('?');
  const std::string_view path = rest.substr(0, query_start);
  if (!path.empty() && !PercentDecode(path, url.path)) {
    return InvalidArgument("sigv4: url path has a malformed %XX escape");
  }
  if (url.path.empty()) url.path = "/";
  if (query_start != std::string_view::npos) {
    std::string_view query = rest.substr(query_start + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (item.empty()) continue;  // "a=1&&b=2"
      if (url.query.size() == kMaxSigV4Fields) {
        return InvalidArgument("sigv4: url has more than 64 query parameters");
      }
      const size_t eq = item.find('=');
      std::string key;
      std::string value;
      if (!PercentDecode(item.substr(0, eq), key) ||
          (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), value))) {
        return InvalidArgument("sigv4: url query has a malformed %XX escape");
      }
      url.query.emplace_back(std::move(key), std::move(value));
    }
  }
  PARLEY_RETURN_IF_ERROR(ValidateUrl(url));
  return url;
}

Result<SigV4PresignedUrl> SigV4Presign(const AwsCredentials& credentials, const SigV4Scope& scope,
                                       const SigV4PresignRequest& request,
                                       std::chrono::system_clock::time_point now) {
  PARLEY_RETURN_IF_ERROR(ValidateCommon(credentials, scope, request.method, request.url));
  if (request.expires_seconds < kMinPresignExpiresSeconds ||
      request.expires_seconds > kMaxPresignExpiresSeconds) {
    return InvalidArgument("sigv4: expires_seconds must be 1..604800 (7 days)");
  }
  for (const auto& param : request.url.query) {
    for (std::string_view reserved : kReservedParams) {
      if (EqualsIgnoringCase(param.first, reserved)) {
        return InvalidArgument("sigv4: url query must not contain " + std::string(reserved) +
                               "; the signer adds it");
      }
    }
  }
  PARLEY_ASSIGN_OR_RETURN(const std::string amz_date, SigV4Timestamp(now));
  const std::string credential_scope = CredentialScope(amz_date.substr(0, 8), scope);

  // The security token is signed like the other X-Amz-* parameters (S3 presigning).
  std::vector<std::pair<std::string, std::string>> params = request.url.query;
  params.emplace_back("X-Amz-Algorithm", kSigV4Algorithm);
  params.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + credential_scope);
  params.emplace_back("X-Amz-Date", amz_date);
  params.emplace_back("X-Amz-Expires", std::to_string(request.expires_seconds));
  params.emplace_back("X-Amz-SignedHeaders", "host");
  if (!credentials.session_token.empty()) {
    params.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string canonical_uri = SigV4UriEncode(request.url.path, true);
  const std::string canonical_query = CanonicalQuery(params);
  const std::string authority = Authority(request.url);

  std::string canonical_request = request.method + "\n" + canonical_uri + "\n" + canonical_query +
                                  "\nhost:" + authority + "\n\nhost\n" +
                                  std::string(kUnsignedPayload);
  SigV4PresignedUrl out;
  out.steps = Sign(credentials.secret_access_key, amz_date, credential_scope, scope,
                   std::move(canonical_request));
  out.url = request.url.scheme + "://" + authority + canonical_uri + "?" + canonical_query +
            "&X-Amz-Signature=" + out.steps.signature;
  return out;
}

Result<SigV4SignedRequest> SigV4SignHeaders(const AwsCredentials& credentials,
                                            const SigV4Scope& scope,
                                            const SigV4HeaderRequest& request,
                                            std::chrono::system_clock::time_point now) {
  PARLEY_RETURN_IF_ERROR(ValidateCommon(credentials, scope, request.method, request.url));
  if (!IsValidPayloadHash(request.payload_hash)) {
    return InvalidArgument(
        "sigv4: payload hash must be 64 lowercase hex digits (SHA-256) or UNSIGNED-PAYLOAD");
  }
  if (request.headers.size() > kMaxSigV4Fields) {
    return InvalidArgument("sigv4: more than 64 headers to sign");
  }

  // (lowercase name, canonical value); header values are not echoed in errors (they may be
  // tokens), names are once they are known to be tokens.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 4);
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) return InvalidArgument("sigv4: a header name is not an HTTP token");
    std::string lower = Lowercase(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
        kReservedHeaders.end()) {
      return InvalidArgument("sigv4: header " + lower + " is set by the signer");
    }
    if (value.size() > kMaxSigV4FieldBytes) {
      return InvalidArgument("sigv4: header " + lower + " is longer than 8192 bytes");
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgument("sigv4: header " + lower + " contains CR, LF or NUL");
    }
    headers.emplace_back(std::move(lower), CanonicalHeaderValue(value));
  }
  std::sort(headers.begin(), headers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < headers.size(); ++i) {
    if (headers[i].first == headers[i - 1].first) {
      return InvalidArgument("sigv4: header " + headers[i].first + " is given more than once");
    }
  }

  PARLEY_ASSIGN_OR_RETURN(const std::string amz_date, SigV4Timestamp(now));
  const std::string credential_scope = CredentialScope(amz_date.substr(0, 8), scope);
  const std::string authority = Authority(request.url);
  headers.emplace_back("host", authority);
  headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::sort(headers.begin(), headers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  const std::string canonical_uri = SigV4UriEncode(request.url.path, true);
  const std::string canonical_query = CanonicalQuery(request.url.query);
  std::string canonical_request = request.method + "\n" + canonical_uri + "\n" + canonical_query +
                                  "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                                  request.payload_hash;

  SigV4SignedRequest out;
  out.steps = Sign(credentials.secret_access_key, amz_date, credential_scope, scope,
                   std::move(canonical_request));
  out.url = request.url.scheme + "://" + authority + canonical_uri;
  if (!canonical_query.empty()) out.url += "?" + canonical_query;
  out.host = authority;
  out.headers.emplace_back(
      "Authorization", std::string(kSigV4Algorithm) + " Credential=" + credentials.access_key_id +
                           "/" + credential_scope + ",SignedHeaders=" + signed_headers +
                           ",Signature=" + out.steps.signature);
  out.headers.emplace_back("x-amz-date", amz_date);
  out.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials.session_token.empty()) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  return out;
}

}  // namespace parley::crypto

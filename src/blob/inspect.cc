#include "blob/inspect.h"

#include <magic.h>

#include <algorithm>
#include <string>
#include <utility>

namespace parley::blob {
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";

// Aliases that name exactly the same format. Declared types come from browsers, phones and
// provider APIs, which use the older or unofficial names; libmagic 5.44 also prefers some
// x- names (audio/x-wav, audio/x-m4a, audio/x-hx-aac-adts).
struct Alias {
  std::string_view alias;
  std::string_view canonical;
};
constexpr Alias kAliases[] = {
    {"image/jpg", "image/jpeg"},
    {"image/pjpeg", "image/jpeg"},
    {"audio/mp3", "audio/mpeg"},
    {"audio/mpeg3", "audio/mpeg"},
    {"audio/x-mp3", "audio/mpeg"},
    {"audio/x-mpeg", "audio/mpeg"},
    {"audio/x-wav", "audio/wav"},
    {"audio/wave", "audio/wav"},
    {"audio/vnd.wave", "audio/wav"},
    {"audio/x-m4a", "audio/mp4"},
    {"audio/m4a", "audio/mp4"},
    {"audio/x-aac", "audio/aac"},
    {"audio/x-hx-aac-adts", "audio/aac"},
    {"text/x-csv", "text/csv"},
    // libmagic names OLE2 compound files either way depending on how much it could parse.
    {"application/cdfv2", "application/x-ole-storage"},
};

constexpr std::string_view kDocx =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
constexpr std::string_view kXlsx =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::string_view kPptx =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";

// Declared types accepted for bytes libmagic names differently (both columns canonical;
// `sniffed` may be a type/* wildcard). Each row is a format that is honestly described by
// both names, so reporting the declared one (Inspection::mime_type) claims nothing the bytes
// do not support:
// - MP4, WebM, 3GPP and Ogg are containers; libmagic guesses audio vs video from the
//   header brand, apps declare what they recorded (a voice note is audio/webm).
// - libmagic 5.44 detects OOXML only when the zip's first entry is [Content_Types].xml or
//   _rels/.rels; other writers and older libmagic give application/zip. 97-2003 Office files
//   are OLE2 compound files, which a truncated head often leaves unnamed.
// - libmagic's text heuristics turn notes into text/x-c or text/x-shellscript; declared as
//   text/plain they are stored and served as plain text, which is harmless.
struct Equivalent {
  std::string_view declared;
  std::string_view sniffed;
};
constexpr Equivalent kEquivalents[] = {
    {"audio/mp4", "video/mp4"},
    {"video/mp4", "audio/mp4"},
    {"audio/aac", "audio/mp4"},
    {"audio/aac", "video/mp4"},
    {"audio/webm", "video/webm"},
    {"audio/3gpp", "video/3gpp"},
    {"audio/3gpp2", "video/3gpp2"},
    {"audio/ogg", "application/ogg"},
    {"video/ogg", "application/ogg"},
    {"application/ogg", "audio/ogg"},
    {"image/heic", "image/heif"},
    {"image/heif", "image/heic"},
    {"text/csv", "text/plain"},
    {"text/plain", "text/*"},
    {kDocx, "application/zip"},
    {kXlsx, "application/zip"},
    {kPptx, "application/zip"},
    {"application/msword", "application/x-ole-storage"},
    {"application/vnd.ms-excel", "application/x-ole-storage"},
    {"application/vnd.ms-powerpoint", "application/x-ole-storage"},
};

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::ranges::all_of(s, IsTokenChar); }

std::string_view TypeOf(std::string_view mime) { return mime.substr(0, mime.find('/')); }

// `pattern` is a canonical type or a type/* wildcard; `mime` is canonical.
bool Matches(std::string_view pattern, std::string_view mime) {
  if (pattern.ends_with("/*")) {
    return pattern != "*/*" && TypeOf(pattern) == TypeOf(mime);
  }
  return pattern == mime;
}

// Normalized and canonical, or "" when invalid.
std::string Canonical(std::string_view mime) {
  std::string normalized = NormalizeMimeType(mime);
  return std::string(CanonicalMimeType(normalized));
}

bool IsNoClaim(std::string_view normalized) {
  return normalized.empty() || normalized == kOctetStream;
}

// Whether the declared (canonical, non-empty) type is an acceptable name for bytes sniffed
// as `sniffed` (canonical).
const Equivalent* FindEquivalent(std::string_view declared, std::string_view sniffed) {
  for (const Equivalent& e : kEquivalents) {
    if (e.declared == declared && Matches(e.sniffed, sniffed)) return &e;
  }
  return nullptr;
}

bool IsOoxml(std::string_view mime) { return mime == kDocx || mime == kXlsx || mime == kPptx; }

// Every OOXML package has a [Content_Types].xml part, and writers put it at or near the start
// (its local header falls within the sniffed head in practice).
bool HasOoxmlMarker(std::string_view head) {
  return head.substr(0, kSniffBytes).find("[Content_Types].xml") != std::string_view::npos;
}

// One libmagic handle per thread: magic_t is not thread-safe, and loading the database
// (an mmap of magic.mgc) per call would cost more than the sniff.
class ThreadMagic {
 public:
  ThreadMagic() {
    cookie_ = magic_open(MAGIC_MIME_TYPE);
    if (cookie_ == nullptr) {
      error_ = "magic_open failed";
      return;
    }
    if (magic_load(cookie_, nullptr) != 0) {
      const char* e = magic_error(cookie_);
      error_ = std::string("cannot load the magic database: ") + (e != nullptr ? e : "unknown");
      magic_close(cookie_);
      cookie_ = nullptr;
    }
  }
  ~ThreadMagic() {
    if (cookie_ != nullptr) magic_close(cookie_);
  }
  ThreadMagic(const ThreadMagic&) = delete;
  ThreadMagic& operator=(const ThreadMagic&) = delete;

  Result<std::string> Sniff(std::string_view head) {
    if (cookie_ == nullptr) return Internal(error_);
    head = head.substr(0, kSniffBytes);
    static constexpr char kEmpty[1] = {0};
    const char* answer = magic_buffer(cookie_, head.empty() ? kEmpty : head.data(), head.size());
    if (answer == nullptr) {
      const char* e = magic_error(cookie_);
      return Internal(std::string("libmagic failed: ") + (e != nullptr ? e : "unknown"));
    }
    std::string normalized = NormalizeMimeType(answer);
    // MAGIC_MIME_TYPE always answers type/subtype; anything else is treated as unknown.
    if (normalized.empty()) return std::string(kOctetStream);
    return normalized;
  }

 private:
  magic_t cookie_ = nullptr;
  std::string error_;
};

}  // namespace

Result<std::string> SniffMimeType(std::string_view head) {
  thread_local ThreadMagic magic;
  return magic.Sniff(head);
}

std::string NormalizeMimeType(std::string_view mime) {
  mime = mime.substr(0, mime.find(';'));
  constexpr std::string_view kSpace = " \t";
  size_t begin = mime.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  mime = mime.substr(begin, mime.find_last_not_of(kSpace) - begin + 1);
  if (mime.size() > kMaxMimeTypeBytes) return "";
  size_t slash = mime.find('/');
  if (slash == std::string_view::npos || !IsToken(mime.substr(0, slash)) ||
      !IsToken(mime.substr(slash + 1))) {
    return "";  // also rejects a second '/', which is not a token char
  }
  std::string out(mime);
  std::ranges::transform(out, out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::string_view CanonicalMimeType(std::string_view normalized) {
  for (const Alias& a : kAliases) {
    if (a.alias == normalized) return a.canonical;
  }
  return normalized;
}

bool MimeTypeAllowed(const std::vector<std::string>& allow_list, std::string_view mime) {
  std::string canonical = Canonical(mime);
  if (canonical.empty() || canonical.find('*') != std::string::npos) return false;
  return std::ranges::any_of(allow_list, [&](const std::string& entry) {
    std::string pattern = Canonical(entry);
    return !pattern.empty() && Matches(pattern, canonical);
  });
}

Status ValidateAllowList(const std::vector<std::string>& allow_list) {
  for (size_t i = 0; i < allow_list.size(); ++i) {
    const std::string& entry = allow_list[i];
    std::string normalized = NormalizeMimeType(entry);
    std::string_view subtype = std::string_view(normalized).substr(normalized.find('/') + 1);
    bool ok = !normalized.empty() && entry.find(';') == std::string::npos &&
              TypeOf(normalized).find('*') == std::string_view::npos &&
              (subtype == "*" || subtype.find('*') == std::string_view::npos);
    if (!ok) {
      return InvalidArgument("allowed_types[" + std::to_string(i) +
                             "]: must be type/subtype or type/*");
    }
  }
  return OkStatus();
}

std::vector<std::string> DefaultAllowedTypes() {
  return {
      // Images.
      "image/jpeg",
      "image/png",
      "image/gif",
      "image/webp",
      "image/heic",
      "image/heif",
      // Audio (voice notes and music).
      "audio/mpeg",
      "audio/ogg",
      "audio/mp4",
      "audio/aac",
      "audio/amr",
      "audio/wav",
      "audio/webm",
      "audio/3gpp",
      // Video.
      "video/mp4",
      "video/3gpp",
      "video/webm",
      "video/quicktime",
      // Documents.
      "application/pdf",
      "text/plain",
      "text/csv",
      "application/msword",
      "application/vnd.ms-excel",
      "application/vnd.ms-powerpoint",
      std::string(kDocx),
      std::string(kXlsx),
      std::string(kPptx),
      "application/vnd.oasis.opendocument.text",
      "application/vnd.oasis.opendocument.spreadsheet",
      "application/vnd.oasis.opendocument.presentation",
  };
}

Status CheckDeclaredType(std::string_view declared, std::string_view sniffed) {
  std::string claim = Canonical(declared);
  if (claim.empty()) {
    bool blank =
        declared.substr(0, declared.find(';')).find_first_not_of(" \t") == std::string_view::npos;
    if (blank) return OkStatus();
    return InvalidArgument("declared type is not a valid type/subtype");
  }
  if (IsNoClaim(claim)) return OkStatus();
  std::string actual = Canonical(sniffed);
  if (actual.empty()) actual = kOctetStream;
  if (claim == actual || FindEquivalent(claim, actual) != nullptr) return OkStatus();
  return InvalidArgument("declared type " + claim + " does not match the file's content (" +
                         actual + ")");
}

Result<Inspection> Inspect(std::string_view head, std::string_view declared,
                           const std::vector<std::string>& allow_list) {
  PARLEY_ASSIGN_OR_RETURN(std::string sniffed, SniffMimeType(head));
  PARLEY_RETURN_IF_ERROR(CheckDeclaredType(declared, sniffed));

  Inspection inspection;
  inspection.mime_type = Canonical(sniffed);
  std::string claim = Canonical(declared);
  if (!IsNoClaim(claim) && claim != inspection.mime_type) {
    // CheckDeclaredType accepted the claim, so it is a listed equivalent of the content.
    bool keep_claim = !IsOoxml(claim) || HasOoxmlMarker(head);
    if (keep_claim) inspection.mime_type = std::move(claim);
  }
  if (!MimeTypeAllowed(allow_list, inspection.mime_type)) {
    return InvalidArgument("file type " + inspection.mime_type + " is not allowed");
  }
  return inspection;
}

}  // namespace parley::blob

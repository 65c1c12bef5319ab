// src/blob/inspect.h
//
// Upload inspection: what a file really is (libmagic on its first bytes), whether that agrees
// with the type the uploader declared, and whether the tenant accepts that type. Synchronous
// and CPU-only: call it from a worker thread with the first kSniffBytes of the upload.
//
//   PARLEY_ASSIGN_OR_RETURN(Inspection inspection,
//                           Inspect(head, request.content_type, tenant.allowed_types));
//   attachment.mime_type = inspection.mime_type;  // never the declared type unchecked
//
// All functions are thread-safe. Status messages hold media types only, never file content.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace parley::blob {

// How many leading bytes of a file the sniffer looks at. Callers pass up to this many
// (fewer for a shorter file); bytes beyond it are ignored.
inline constexpr size_t kSniffBytes = 8192;

// Longest media type NormalizeMimeType accepts (docs/message-format.md: mime_type 255 bytes).
inline constexpr size_t kMaxMimeTypeBytes = 255;

// The media type of a file whose first bytes are `head`, as libmagic names it with
// MAGIC_MIME_TYPE, lower-cased ("image/png", "application/x-executable"). Content libmagic
// does not recognise is "application/octet-stream"; an empty `head` is
// "application/x-empty" (file 5.44). Only the first kSniffBytes of `head` are examined.
//
// Each thread opens its own libmagic handle with the system database on first use and keeps
// it until the thread exits. Errors: kInternal (the magic database cannot be loaded).
Result<std::string> SniffMimeType(std::string_view head);

// A declared media type ("Content-Type" style) reduced to `type/subtype`: parameters
// ("; charset=utf-8") dropped, surrounding spaces and tabs trimmed, lower-cased. Returns ""
// when the rest is not two RFC 9110 tokens separated by one '/', or is longer than
// kMaxMimeTypeBytes. "image/*" is syntactically valid (used by allow-lists).
std::string NormalizeMimeType(std::string_view mime);

// The canonical name of a normalized type: a few aliases that name the same format map to
// one name (image/jpg -> image/jpeg, audio/x-wav -> audio/wav, audio/mp3 -> audio/mpeg,
// audio/x-m4a -> audio/mp4, ...; the table is in inspect.cc). Other types are returned as is.
std::string_view CanonicalMimeType(std::string_view normalized);

// True when `mime` (normalized and canonicalized here) matches an entry of `allow_list`.
// Entries are exact types ("image/png", aliases allowed: "image/jpg" admits image/jpeg) or
// `type/*` wildcards ("image/*"); case-insensitive. Invalid entries and "*/*" match nothing
// (ValidateAllowList reports them); an invalid `mime` or one containing '*' is never allowed.
bool MimeTypeAllowed(const std::vector<std::string>& allow_list, std::string_view mime);

// Checks allow-list entries written by a user (config, API). Errors: kInvalidArgument naming
// the first bad entry by index: `allowed_types[2]: must be type/subtype or type/*`.
Status ValidateAllowList(const std::vector<std::string>& allow_list);

// What a messaging service accepts by default: photos (jpeg, png, gif, webp, heic, heif),
// voice and music (mpeg, ogg, mp4, aac, amr, wav, webm, 3gpp), video (mp4, 3gpp, webm,
// quicktime), PDF, plain text and CSV, Microsoft Office (97-2003 and OOXML) and OpenDocument
// text, spreadsheet and presentation files.
//
// Not included on purpose: archives (application/zip and friends hide their content from
// this inspection; a tenant that wants them should also configure the scan hook),
// executables and scripts, HTML and SVG (active content), application/x-empty.
std::vector<std::string> DefaultAllowedTypes();

// Rejects a file whose bytes contradict the type its uploader declared. `declared` is the
// raw declared type (normalized here); `sniffed` is SniffMimeType's answer.
//
// An empty declared type or application/octet-stream makes no claim and is accepted. Else
// the declared and sniffed types must be equal after canonicalization, or be one of the few
// pairs inspect.cc lists as the same bytes under two names: audio/webm declared for what
// libmagic calls video/webm, text/csv for text/plain, text/plain for any text/*, an OOXML
// type for application/zip, application/msword for application/x-ole-storage, ...
//
// Errors: kInvalidArgument "declared type image/png does not match the file's content
// (application/x-executable)", or "declared type is not a valid type/subtype".
Status CheckDeclaredType(std::string_view declared, std::string_view sniffed);

struct Inspection {
  // The type to store and serve the file with, derived from its content: the canonical
  // sniffed type; or the declared type (canonical) when the declared type passed
  // CheckDeclaredType and names the same bytes more precisely — audio/webm for a voice note
  // libmagic calls video/webm, text/csv for text/plain. One exception: an OOXML declared type
  // for a sniffed application/zip is kept only when the head holds the OOXML marker entry
  // "[Content_Types].xml"; otherwise the file stays application/zip.
  std::string mime_type;
};

// Sniffs `head` (the first kSniffBytes of the file), checks it against `declared`
// (CheckDeclaredType) and checks Inspection::mime_type — a type the content supports, never
// a bare claim — against `allow_list` (MimeTypeAllowed).
//
// Errors: kInvalidArgument (declared type contradicts the content; "file type
// application/zip is not allowed"), kInternal (libmagic unavailable).
Result<Inspection> Inspect(std::string_view head, std::string_view declared,
                           const std::vector<std::string>& allow_list);

}  // namespace parley::blob

// src/delivery/attachments.cc
#include "delivery/attachments.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <charconv>

#include "blob/blocking.h"
#include "blob/inspect.h"
#include "core/log.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "store/async.h"

namespace parley::delivery {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using blob::internal::RunBlocking;

constexpr std::string_view kLinkDomain = "attachment.link";
constexpr std::string_view kContentDomain = "attachment.content";
constexpr size_t kMaxFilenameBytes = 255;

crypto::SealPlace MetaPlace(const TenantId& t, const std::string& id) {
  return {t.str(), "attachments", "meta", id};
}

// The tenant's limit and allow-list: its settings, else the service's defaults.
struct TenantRules {
  uint64_t max_bytes;
  std::vector<std::string> allowed;
};

TenantRules RulesFor(const store::TenantRecord& tenant, const AttachmentOptions& options) {
  TenantRules rules{options.max_bytes, options.allowed_types.empty() ? blob::DefaultAllowedTypes()
                                                                     : options.allowed_types};
  boost::system::error_code ec;
  json::value settings = json::parse(tenant.settings_json, ec);
  if (ec || !settings.is_object()) return rules;
  if (const json::value* v = settings.get_object().if_contains(kAttachmentMaxBytesSetting);
      v && v->is_int64() && v->get_int64() > 0 &&
      static_cast<uint64_t>(v->get_int64()) <= kMaxAttachmentBytes) {
    rules.max_bytes = static_cast<uint64_t>(v->get_int64());
  }
  if (const json::value* v = settings.get_object().if_contains(kAttachmentTypesSetting);
      v && v->is_array()) {
    std::vector<std::string> allowed;
    for (const json::value& item : v->get_array()) {
      if (item.is_string()) allowed.emplace_back(item.get_string());
    }
    if (blob::ValidateAllowList(allowed).ok()) rules.allowed = std::move(allowed);
  }
  return rules;
}

// Streaming SHA-256 of the upload's plaintext.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256Stream() { EVP_MD_CTX_free(ctx_); }
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
  std::string HexDigest() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(out), n));
  }

 private:
  EVP_MD_CTX* ctx_;
};

Status LinkRefused() { return PermissionDenied("the link is invalid or has expired"); }

// The sealed filename and hash of an attachment.
struct Meta {
  std::string filename;
  std::string sha256;
};

Result<Meta> OpenMeta(const crypto::DataKey& key, const store::AttachmentRecord& rec) {
  PARLEY_ASSIGN_OR_RETURN(std::string text,
                          key.Open(rec.meta_sealed, MetaPlace(rec.tenant, rec.id.str())));
  Meta meta;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return meta;
  if (auto* f = v.get_object().if_contains("filename"); f && f->is_string()) {
    meta.filename = std::string(f->get_string());
  }
  if (auto* h = v.get_object().if_contains("sha256"); h && h->is_string()) {
    meta.sha256 = std::string(h->get_string());
  }
  return meta;
}

// Whether a stored type fits the media kind a message declares.
bool FitsKind(MediaKind kind, std::string_view mime) {
  switch (kind) {
    case MediaKind::kImage:
    case MediaKind::kSticker:
      return mime.starts_with("image/");
    case MediaKind::kAudio:
      return mime.starts_with("audio/");
    case MediaKind::kVideo:
      return mime.starts_with("video/");
    case MediaKind::kFile:
      return true;
  }
  return false;
}

}  // namespace

Status ResolveAttachments(store::Writer& w, const crypto::DataKey& key,
                          const store::ConversationRecord& conversation, Content& content,
                          TimePoint now) {
  auto* media = std::get_if<MediaContent>(&content);
  if (!media) return OkStatus();
  for (size_t i = 0; i < media->attachments.size(); ++i) {
    Attachment& a = media->attachments[i];
    if (!a.id) continue;
    const std::string field = fmt::format("content.attachments[{}].id", i);
    auto rec = w.GetAttachment(conversation.tenant, *a.id);
    if (!rec.ok() && rec.status().code() != StatusCode::kNotFound) return rec.status();
    if (!rec.ok() || rec->expires_at <= now) {
      return InvalidArgument(field + ": no such attachment (unknown, or expired and deleted)");
    }
    if (!FitsKind(media->kind, rec->mime_type)) {
      return InvalidArgument(fmt::format("{}: a {} cannot be sent as {}", field, rec->mime_type,
                                         WireName(media->kind)));
    }
    Status assigned =
        w.AssignAttachment(conversation.tenant, rec->id, conversation.id, conversation.customer);
    if (assigned.code() == StatusCode::kFailedPrecondition) {
      return InvalidArgument(field + ": the attachment belongs to another conversation");
    }
    PARLEY_RETURN_IF_ERROR(assigned);
    PARLEY_ASSIGN_OR_RETURN(Meta meta, OpenMeta(key, *rec));
    a.url.clear();
    a.mime_type = rec->mime_type;
    a.size_bytes = rec->size_bytes;
    if (!meta.filename.empty()) a.filename = std::move(meta.filename);
    a.sha256 = std::move(meta.sha256);
  }
  return OkStatus();
}

Attachments::Attachments(store::Store& store, TenantKeys& keys, blob::BlobStore& blobs,
                         const Clock& clock, AttachmentOptions options)
    : store_(store),
      keys_(keys),
      blobs_(blobs),
      clock_(clock),
      options_(std::move(options)),
      scan_pool_(2) {}

Attachments::~Attachments() { scan_pool_.join(); }

asio::awaitable<Result<uint64_t>> Attachments::MaxBytes(TenantId tenant) {
  std::function<Result<store::TenantRecord>(store::Reader&)> get_tenant =
      [tenant](store::Reader& r) { return r.GetTenant(tenant); };
  PARLEY_CO_ASSIGN_OR_RETURN(
      store::TenantRecord tenant_record,
      co_await store::Read<store::TenantRecord>(store_, std::move(get_tenant)));
  co_return RulesFor(tenant_record, options_).max_bytes;
}

asio::awaitable<Result<StoredAttachment>> Attachments::Upload(UploadRequest request) {
  const TenantId tenant = request.tenant;
  std::function<Result<store::TenantRecord>(store::Reader&)> get_tenant =
      [tenant](store::Reader& r) { return r.GetTenant(tenant); };
  PARLEY_CO_ASSIGN_OR_RETURN(
      store::TenantRecord tenant_record,
      co_await store::Read<store::TenantRecord>(store_, std::move(get_tenant)));
  const TenantRules rules = RulesFor(tenant_record, options_);
  auto too_large = [&] {
    return ResourceExhausted(fmt::format(
        "the attachment is larger than this tenant's limit of {} bytes", rules.max_bytes));
  };
  if (request.declared_length && *request.declared_length > rules.max_bytes) co_return too_large();
  if (request.filename.size() > kMaxFilenameBytes ||
      request.filename.find_first_of(std::string_view("\0\r\n/\\", 5)) != std::string::npos) {
    co_return InvalidArgument(
        "filename must be at most 255 bytes without '/', '\\\\' or control "
        "characters");
  }
  std::optional<CustomerId> customer = request.customer;
  if (request.conversation) {
    const ConversationId conversation = *request.conversation;
    std::function<Result<store::ConversationRecord>(store::Reader&)> get =
        [tenant, conversation](store::Reader& r) {
          return r.GetConversation(tenant, conversation);
        };
    PARLEY_CO_ASSIGN_OR_RETURN(
        store::ConversationRecord cv,
        co_await store::Read<store::ConversationRecord>(store_, std::move(get)));
    customer = cv.customer;
  }

  // The first bytes decide the type before anything is stored.
  std::string head;
  bool ended = false;
  while (head.size() < blob::kSniffBytes) {
    PARLEY_CO_ASSIGN_OR_RETURN(std::string chunk, co_await request.next());
    if (chunk.empty()) {
      ended = true;
      break;
    }
    head += chunk;
    if (head.size() > rules.max_bytes) co_return too_large();
  }
  const std::string declared = request.declared_type;
  std::function<Result<blob::Inspection>()> inspect = [&]() {
    return blob::Inspect(std::string_view(head).substr(0, blob::kSniffBytes), declared,
                         rules.allowed);
  };
  PARLEY_CO_ASSIGN_OR_RETURN(blob::Inspection inspection,
                             co_await RunBlocking(scan_pool_, std::move(inspect)));

  std::unique_ptr<blob::ScanSession> scan;
  if (options_.scan.Enabled()) {
    std::function<Result<std::unique_ptr<blob::ScanSession>>()> start = [this] {
      return blob::StartScan(options_.scan);
    };
    PARLEY_CO_ASSIGN_OR_RETURN(scan, co_await RunBlocking(scan_pool_, std::move(start)));
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await keys_.Get(tenant));
  const std::string name = blob::NewBlobName();
  PARLEY_CO_ASSIGN_OR_RETURN(auto writer, co_await blobs_.Create(tenant, name));

  Sha256Stream sha;
  uint64_t total = 0;
  // Hashes, scans and stores one piece; any failure discards the object.
  auto take = [&](std::string_view bytes) -> asio::awaitable<Status> {
    total += bytes.size();
    if (total > rules.max_bytes) co_return too_large();
    std::function<Status()> digest = [&]() -> Status {
      sha.Update(bytes);
      return scan ? scan->Feed(bytes) : OkStatus();
    };
    PARLEY_CO_RETURN_IF_ERROR(co_await RunBlocking(scan_pool_, std::move(digest)));
    co_return co_await writer->Append(bytes);
  };
  Status status = co_await take(head);
  while (status.ok() && !ended) {
    auto chunk = co_await request.next();
    if (!chunk.ok()) {
      status = chunk.status();
    } else if (chunk->empty()) {
      ended = true;
    } else {
      status = co_await take(*chunk);
    }
  }
  if (status.ok() && scan) {
    std::function<Result<blob::ScanVerdict>()> finish = [&] { return scan->Finish(); };
    auto verdict = co_await RunBlocking(scan_pool_, std::move(finish));
    if (!verdict.ok()) {
      status = verdict.status();
    } else if (!verdict->clean) {
      log::Warn("attachment.rejected_by_scan", {{"tenant", tenant.str()}});
      status = FailedPrecondition("the file was rejected by the scan hook: " + verdict->reason);
    }
  }
  if (status.ok()) status = co_await writer->Commit();
  if (!status.ok()) {
    co_await writer->Abort();
    co_return status;
  }

  const TimePoint now = clock_.Now();
  StoredAttachment out;
  out.filename = request.filename;
  out.sha256 = sha.HexDigest();
  store::AttachmentRecord& rec = out.record;
  rec.id = AttachmentId::New(now);
  rec.tenant = tenant;
  rec.customer = customer;
  rec.conversation = request.conversation;
  rec.blob_name = name;
  rec.mime_type = inspection.mime_type;
  rec.size_bytes = static_cast<int64_t>(total);
  rec.meta_sealed =
      key->Seal(json::serialize(json::object{{"filename", out.filename}, {"sha256", out.sha256}}),
                MetaPlace(tenant, rec.id.str()));
  rec.created_at = now;
  rec.expires_at = now + options_.ttl;
  store::Store::WriteFn insert = [rec](store::Writer& w) { return w.InsertAttachment(rec); };
  if (Status s = co_await store::WriteRerunnable(store_, std::move(insert)); !s.ok()) {
    Status ignored = co_await blobs_.Delete(tenant, name);
    (void)ignored;
    co_return s;
  }
  out.url = Link(*key, rec.id, now);
  out.url_expires_at = now + options_.link_ttl;
  co_return out;
}

std::string Attachments::Sign(const crypto::DataKey& key, std::string_view domain,
                              std::string_view id, int64_t expires) const {
  return key.BlindIndex(domain, fmt::format("{}.{}", id, expires));
}

std::string Attachments::Link(const crypto::DataKey& key, const AttachmentId& id,
                              TimePoint now) const {
  const int64_t expires = ToUnixSeconds(now + options_.link_ttl);
  return fmt::format("{}/v1/attachments/{}?expires={}&signature={}", options_.public_url, id.str(),
                     expires, Sign(key, kLinkDomain, id.str(), expires));
}

void Attachments::AddLinks(const crypto::DataKey& key, Message& message, TimePoint now) const {
  auto* media = std::get_if<MediaContent>(&message.content);
  if (!media) return;
  for (Attachment& a : media->attachments) {
    if (a.id) a.url = Link(key, *a.id, now);
  }
}

std::string Attachments::AddLinks(const crypto::DataKey& key, std::string text,
                                  TimePoint now) const {
  if (text.find("\"att_") == std::string::npos) return text;  // the common case: no parse
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return text;
  json::object* message = &root.get_object();
  if (json::value* data = message->if_contains("data"); data && data->is_object()) {
    message = &data->get_object();
  }
  json::value* content = message->if_contains("content");
  if (!content || !content->is_object()) return text;
  json::value* type = content->get_object().if_contains("type");
  json::value* list = content->get_object().if_contains("attachments");
  if (!type || *type != "media" || !list || !list->is_array()) return text;
  bool changed = false;
  for (json::value& item : list->get_array()) {
    if (!item.is_object()) continue;
    const json::value* id = item.get_object().if_contains("id");
    if (!id || !id->is_string()) continue;
    auto parsed = AttachmentId::Parse(id->get_string());
    if (!parsed.ok()) continue;
    item.get_object()["url"] = Link(key, *parsed, now);
    changed = true;
  }
  return changed ? json::serialize(root) : text;
}

asio::awaitable<Result<store::AttachmentRecord>> Attachments::Verify(std::string_view domain,
                                                                     std::string_view id_text,
                                                                     std::string_view expires_text,
                                                                     std::string_view signature) {
  auto id = AttachmentId::Parse(id_text);
  int64_t expires = 0;
  const auto [end, ec] =
      std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  const TimePoint now = clock_.Now();
  const auto ttl = domain == kLinkDomain ? options_.link_ttl : options_.storage_ttl;
  if (!id.ok() || ec != std::errc() || end != expires_text.data() + expires_text.size() ||
      expires < ToUnixSeconds(now) || expires > ToUnixSeconds(now + ttl) + 60 ||
      signature.size() != 64) {
    co_return LinkRefused();
  }
  const AttachmentId attachment = *id;
  std::function<Result<store::AttachmentRecord>(store::Reader&)> get =
      [attachment](store::Reader& r) { return r.GetAttachmentById(attachment); };
  auto rec = co_await store::Read<store::AttachmentRecord>(store_, std::move(get));
  if (!rec.ok()) co_return LinkRefused();
  auto key = co_await keys_.Get(rec->tenant);
  if (!key.ok()) co_return LinkRefused();
  if (!crypto::ConstantTimeEqual(Sign(**key, domain, id_text, expires), signature) ||
      rec->expires_at <= now) {
    co_return LinkRefused();
  }
  co_return std::move(*rec);
}

asio::awaitable<Result<std::string>> Attachments::Follow(std::string_view id,
                                                         std::string_view expires,
                                                         std::string_view signature) {
  PARLEY_CO_ASSIGN_OR_RETURN(store::AttachmentRecord rec,
                             co_await Verify(kLinkDomain, id, expires, signature));
  PARLEY_CO_ASSIGN_OR_RETURN(auto presigned,
                             blobs_.PresignGet(rec.tenant, rec.blob_name, options_.storage_ttl));
  if (presigned) co_return std::move(*presigned);
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await keys_.Get(rec.tenant));
  const int64_t until = ToUnixSeconds(clock_.Now() + options_.storage_ttl);
  co_return fmt::format("{}/v1/attachments/{}/content?expires={}&signature={}", options_.public_url,
                        rec.id.str(), until, Sign(*key, kContentDomain, rec.id.str(), until));
}

asio::awaitable<Result<AttachmentContent>> Attachments::OpenContent(std::string_view id,
                                                                    std::string_view expires,
                                                                    std::string_view signature) {
  PARLEY_CO_ASSIGN_OR_RETURN(store::AttachmentRecord rec,
                             co_await Verify(kContentDomain, id, expires, signature));
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await keys_.Get(rec.tenant));
  AttachmentContent out;
  if (auto meta = OpenMeta(*key, rec); meta.ok()) out.filename = std::move(meta->filename);
  PARLEY_CO_ASSIGN_OR_RETURN(out.reader, co_await blobs_.Open(rec.tenant, rec.blob_name));
  out.record = std::move(rec);
  co_return out;
}

asio::awaitable<Result<StoredAttachment>> Attachments::Describe(const TenantId& tenant,
                                                                const AttachmentId& id) {
  std::function<Result<store::AttachmentRecord>(store::Reader&)> get =
      [tenant, id](store::Reader& r) { return r.GetAttachment(tenant, id); };
  PARLEY_CO_ASSIGN_OR_RETURN(store::AttachmentRecord rec,
                             co_await store::Read<store::AttachmentRecord>(store_, std::move(get)));
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await keys_.Get(tenant));
  PARLEY_CO_ASSIGN_OR_RETURN(Meta meta, OpenMeta(*key, rec));
  StoredAttachment out;
  out.filename = std::move(meta.filename);
  out.sha256 = std::move(meta.sha256);
  const TimePoint now = clock_.Now();
  out.url = Link(*key, rec.id, now);
  out.url_expires_at = now + options_.link_ttl;
  out.record = std::move(rec);
  co_return out;
}

asio::awaitable<Status> Attachments::Delete(const store::AttachmentRecord& record) {
  // The blob first: a row without a blob is harmless, a blob without a row is never found.
  PARLEY_CO_RETURN_IF_ERROR(co_await blobs_.Delete(record.tenant, record.blob_name));
  const TenantId tenant = record.tenant;
  const AttachmentId id = record.id;
  store::Store::WriteFn remove = [tenant, id](store::Writer& w) {
    Status s = w.DeleteAttachment(tenant, id);
    return s.code() == StatusCode::kNotFound ? OkStatus() : s;
  };
  co_return co_await store::WriteRerunnable(store_, std::move(remove));
}

asio::awaitable<Result<int>> Attachments::SweepExpired(int limit) {
  const TimePoint now = clock_.Now();
  std::function<Result<std::vector<store::AttachmentRecord>>(store::Reader&)> list =
      [now, limit](store::Reader& r) { return r.ListExpiredAttachments(now, limit); };
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto expired,
      co_await store::Read<std::vector<store::AttachmentRecord>>(store_, std::move(list)));
  int deleted = 0;
  for (const store::AttachmentRecord& rec : expired) {
    PARLEY_CO_RETURN_IF_ERROR(co_await Delete(rec));
    ++deleted;
  }
  co_return deleted;
}

}  // namespace parley::delivery

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/status.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace parley::crypto {
namespace {

constexpr std::string_view kWrapLabel = "parley tenant key v1";
constexpr std::string_view kRoutingIndexInfo = "parley routing index v1";
constexpr size_t kWrappedSize = kSealOverhead + DataKey::kSize;
constexpr size_t kHexSize = 2 * MasterKey::kSize;

std::string Errno(int err) { return std::strerror(err); }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes a file descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting errors (a failed close can lose written data).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Writes all of `data`, retrying short writes and EINTR.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Makes the new directory entry durable: without this a crash after creating the key could
// lose the file but keep data sealed under it.
Status SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return FailedPrecondition("cannot fsync directory " + dir + ": " + Errno(errno));
  }
  return OkStatus();
}

// Generates a key and writes it to `path` (in `dir`). Errors: kAlreadyExists when the
// file appeared meanwhile; kFailedPrecondition when it cannot be created or written.
Result<MasterKey> CreateKeyFile(const std::string& dir, const std::string& path) {
  std::string raw = RandomBytes(MasterKey::kSize);
  std::string hex = HexEncode(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  hex += '\n';
  Result<MasterKey> parsed = MasterKey::FromHex(std::string_view(hex).substr(0, kHexSize));
  PARLEY_CHECK(parsed.ok());

  // O_EXCL: if another process created the file meanwhile, this one fails instead of
  // overwriting a key that may already protect data.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    const int err = errno;
    OPENSSL_cleanse(hex.data(), hex.size());
    if (err == EEXIST) return AlreadyExists(path);
    return FailedPrecondition("cannot create master key file " + path + ": " + Errno(err));
  }
  // The umask may have removed bits, never added them; set the mode explicitly anyway so
  // the file is exactly 0600.
  const bool written =
      ::fchmod(fd.get(), 0600) == 0 && WriteAll(fd.get(), hex) && ::fsync(fd.get()) == 0;
  const int err = errno;
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!written || fd.Close() != 0) {
    // A partial key file would make every later start fail; remove it so a retry can
    // generate again (nothing can have been sealed under this key yet).
    ::unlink(path.c_str());
    return FailedPrecondition("cannot write master key file " + path + ": " +
                              Errno(written ? errno : err));
  }
  PARLEY_RETURN_IF_ERROR(SyncDirectory(dir));
  return parsed;
}

}  // namespace

MasterKey::MasterKey(std::string_view raw) {
  PARLEY_CHECK(raw.size() == kSize);
  std::memcpy(raw_.data(), raw.data(), kSize);
}

MasterKey::MasterKey(MasterKey&& other) noexcept : raw_(other.raw_) {
  OPENSSL_cleanse(other.raw_.data(), other.raw_.size());
}

MasterKey& MasterKey::operator=(MasterKey&& other) noexcept {
  if (this != &other) {
    raw_ = other.raw_;
    OPENSSL_cleanse(other.raw_.data(), other.raw_.size());
  }
  return *this;
}

MasterKey::~MasterKey() { OPENSSL_cleanse(raw_.data(), raw_.size()); }

MasterKey MasterKey::Generate() {
  std::string raw = RandomBytes(kSize);
  MasterKey key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

Result<MasterKey> MasterKey::FromHex(std::string_view hex) {
  if (hex.size() != kHexSize) {
    return InvalidArgument("master key must be " + std::to_string(kHexSize) +
                           " hex characters, got " + std::to_string(hex.size()));
  }
  Result<std::string> raw = HexDecode(hex);
  if (!raw.ok()) return InvalidArgument("master key must be hex characters only");
  MasterKey key(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  return key;
}

Result<MasterKey> MasterKey::FromFile(const std::string& path) {
  // O_NONBLOCK: a FIFO put in place of the key must fail the S_ISREG check below, not
  // hang startup in open(). It changes nothing for a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("master key file " + path + " does not exist");
    return FailedPrecondition("cannot open master key file " + path + ": " + Errno(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return FailedPrecondition("cannot stat master key file " + path + ": " + Errno(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition("master key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("master key file " + path + " has mode " + OctalMode(st.st_mode) +
                              "; it must not be accessible by group or others (chmod 600 " + path +
                              ")");
  }
  // One byte more than the longest valid content, to detect trailing data.
  char buf[kHexSize + 2];
  size_t len = 0;
  while (len < sizeof(buf)) {
    const ssize_t n = ::read(fd.get(), buf + len, sizeof(buf) - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FailedPrecondition("cannot read master key file " + path + ": " + Errno(errno));
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  const std::string_view content(buf, len);
  const bool shape_ok = len == kHexSize || (len == kHexSize + 1 && content.back() == '\n');
  Result<MasterKey> key = FromHex(content.substr(0, shape_ok ? kHexSize : 0));
  OPENSSL_cleanse(buf, sizeof(buf));
  if (!shape_ok || !key.ok()) {
    // Never echo the content: it is (nearly) a key.
    return InvalidArgument("master key file " + path + " must hold exactly " +
                           std::to_string(kHexSize) + " hex characters and an optional newline");
  }
  return key;
}

Result<MasterKey> MasterKey::LoadOrCreate(const std::string& data_dir, bool allow_generate,
                                          bool* generated) {
  if (generated != nullptr) *generated = false;
  const std::string path = data_dir + "/master.key";
  Result<MasterKey> loaded = FromFile(path);
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  if (!allow_generate) {
    return FailedPrecondition("no master key: " + path +
                              " does not exist and generating one is not allowed");
  }
  Result<MasterKey> created = CreateKeyFile(data_dir, path);
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    // Another process created the key between our read and our create: use theirs.
    return FromFile(path);
  }
  if (created.ok() && generated != nullptr) *generated = true;
  return created;
}

std::string MasterKey::WrapDataKey(std::string_view tenant_id, const DataKey& key) const {
  std::string aad(kWrapLabel);
  aad += tenant_id;
  return AeadSeal(
      std::string_view(reinterpret_cast<const char*>(raw_.data()), raw_.size()), aad,
      std::string_view(reinterpret_cast<const char*>(key.raw_.data()), key.raw_.size()));
}

Result<DataKey> MasterKey::UnwrapDataKey(std::string_view tenant_id,
                                         std::string_view wrapped) const {
  if (wrapped.size() != kWrappedSize) {
    return InvalidArgument("wrapped data key must be " + std::to_string(kWrappedSize) +
                           " bytes, got " + std::to_string(wrapped.size()));
  }
  std::string aad(kWrapLabel);
  aad += tenant_id;
  Result<std::string> raw = AeadOpen(
      std::string_view(reinterpret_cast<const char*>(raw_.data()), raw_.size()), aad, wrapped);
  if (!raw.ok()) {
    return InvalidArgument("cannot unwrap the data key of tenant " + std::string(tenant_id) +
                           ": wrong master key, wrong tenant or corrupted value");
  }
  DataKey key(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  return key;
}

std::string MasterKey::RoutingIndex(std::string_view domain, std::string_view value) const {
  std::string key = Hkdf(std::string_view(reinterpret_cast<const char*>(raw_.data()), raw_.size()),
                         {}, kRoutingIndexInfo, kSize);
  std::string index = DomainIndex(key, domain, value);
  OPENSSL_cleanse(key.data(), key.size());
  return index;
}

}  // namespace parley::crypto

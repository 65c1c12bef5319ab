// src/blob/local_blob_store.cc
#include "blob/local_blob_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "blob/blocking.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace parley::blob {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using internal::RunBlocking;

constexpr std::string_view kMagic = "PRLBLOB1";
constexpr std::string_view kTempPrefix = ".tmp-";
// A sealed segment: length prefix + version, nonce and tag around the plaintext.
constexpr size_t kSegmentOverhead = 4 + crypto::kSealOverhead;
constexpr size_t kMaxSealedSegment = kSegmentBytes + crypto::kSealOverhead;

std::string SegmentRow(uint64_t index, bool last) {
  return std::to_string(index) + (last ? ".last" : "");
}

Status ErrnoStatus(std::string_view what) {
  return Unavailable(fmt::format("blob storage: {}: {}", what, std::strerror(errno)));
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Reads exactly `n` bytes; fewer at end of file is reported through `*got`.
Status ReadFull(int fd, char* out, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = ::read(fd, out + *got, n - *got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("read");
    if (r == 0) break;
    *got += static_cast<size_t>(r);
  }
  return OkStatus();
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? OkStatus() : ErrnoStatus("fsync directory");
}

Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return OkStatus();
  return ErrnoStatus("create directory");
}

// Plaintext size from the file size (see the format in the header): every segment but the
// last is full, and the last holds 0..kSegmentBytes.
Result<uint64_t> PlaintextSize(uint64_t file_size) {
  constexpr uint64_t kFull = kSegmentOverhead + kSegmentBytes;
  if (file_size < kMagic.size() + kSegmentOverhead) return Internal("blob file is truncated");
  const uint64_t rest = file_size - kMagic.size() - kSegmentOverhead;
  const uint64_t full = rest / kFull;
  const uint64_t last = rest - full * kFull;
  if (last > kSegmentBytes) return Internal("blob file is truncated");
  return full * kSegmentBytes + last;
}

class LocalWriter final : public BlobWriter {
 public:
  LocalWriter(asio::thread_pool& pool, std::shared_ptr<const crypto::DataKey> key, TenantId tenant,
              std::string name, std::string dir, int fd)
      : pool_(pool),
        key_(std::move(key)),
        tenant_(std::move(tenant)),
        name_(std::move(name)),
        dir_(std::move(dir)),
        fd_(fd) {}

  ~LocalWriter() override {
    if (fd_ >= 0) {  // neither committed nor aborted: discard
      ::close(fd_);
      ::unlink(TempPath().c_str());
    }
  }

  asio::awaitable<Status> Append(std::string_view bytes) override {
    if (fd_ < 0) co_return FailedPrecondition("blob writer is closed");
    pending_.append(bytes);
    size_ += bytes.size();
    if (pending_.size() <= kSegmentBytes) co_return OkStatus();
    // Keep the tail (≤ one segment) back: only Commit knows which segment is the last.
    std::function<Status()> flush = [this] {
      size_t offset = 0;
      std::string out;
      while (pending_.size() - offset > kSegmentBytes) {
        AppendSegment(std::string_view(pending_).substr(offset, kSegmentBytes), false, out);
        offset += kSegmentBytes;
      }
      pending_.erase(0, offset);
      return WriteAll(fd_, out);
    };
    Status s = co_await RunBlocking(pool_, std::move(flush));
    if (!s.ok()) co_await Abort();
    co_return s;
  }

  asio::awaitable<Status> Commit() override {
    if (fd_ < 0) co_return FailedPrecondition("blob writer is closed");
    std::function<Status()> finish = [this]() -> Status {
      std::string out;
      AppendSegment(pending_, true, out);
      pending_.clear();
      PARLEY_RETURN_IF_ERROR(WriteAll(fd_, out));
      if (::fsync(fd_) != 0) return ErrnoStatus("fsync");
      if (::close(fd_) != 0) {
        fd_ = -1;
        return ErrnoStatus("close");
      }
      fd_ = -1;
      if (::rename(TempPath().c_str(), (dir_ + "/" + name_).c_str()) != 0) {
        return ErrnoStatus("rename");
      }
      return FsyncDir(dir_);
    };
    Status s = co_await RunBlocking(pool_, std::move(finish));
    if (!s.ok()) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      ::unlink(TempPath().c_str());
    }
    co_return s;
  }

  asio::awaitable<void> Abort() override {
    if (fd_ < 0) co_return;
    std::function<bool()> discard = [this] {
      ::close(fd_);
      fd_ = -1;
      return ::unlink(TempPath().c_str()) == 0;
    };
    co_await RunBlocking(pool_, std::move(discard));  // file I/O stays off the I/O threads
    pending_.clear();
  }

  uint64_t size() const override { return size_; }

 private:
  std::string TempPath() const { return dir_ + "/" + std::string(kTempPrefix) + name_; }

  void AppendSegment(std::string_view plain, bool last, std::string& out) {
    const std::string row = SegmentRow(index_++, last);
    std::string sealed = key_->Seal(plain, {tenant_.str(), "blobs", name_, row});
    const uint32_t n = static_cast<uint32_t>(sealed.size());
    const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                            static_cast<char>(n >> 8), static_cast<char>(n)};
    out.append(length, 4);
    out.append(sealed);
  }

  asio::thread_pool& pool_;
  std::shared_ptr<const crypto::DataKey> key_;
  TenantId tenant_;
  std::string name_;
  std::string dir_;
  int fd_;
  std::string pending_;
  uint64_t size_ = 0;
  uint64_t index_ = 0;
};

class LocalReader final : public BlobReader {
 public:
  LocalReader(asio::thread_pool& pool, std::shared_ptr<const crypto::DataKey> key, TenantId tenant,
              std::string name, int fd, uint64_t size)
      : pool_(pool),
        key_(std::move(key)),
        tenant_(std::move(tenant)),
        name_(std::move(name)),
        fd_(fd),
        size_(size) {}
  ~LocalReader() override { ::close(fd_); }

  asio::awaitable<Result<std::string>> Next() override {
    if (done_) co_return std::string();
    std::function<Result<std::string>()> read = [this]() -> Result<std::string> {
      char length[4];
      size_t got = 0;
      PARLEY_RETURN_IF_ERROR(ReadFull(fd_, length, 4, &got));
      if (got != 4) return Internal("blob file is truncated");
      const uint32_t n = (uint32_t{static_cast<uint8_t>(length[0])} << 24) |
                         (uint32_t{static_cast<uint8_t>(length[1])} << 16) |
                         (uint32_t{static_cast<uint8_t>(length[2])} << 8) |
                         uint32_t{static_cast<uint8_t>(length[3])};
      if (n < crypto::kSealOverhead || n > kMaxSealedSegment) {
        return Internal("blob file is corrupt");
      }
      std::string sealed(n, '\0');
      PARLEY_RETURN_IF_ERROR(ReadFull(fd_, sealed.data(), n, &got));
      if (got != n) return Internal("blob file is truncated");
      const bool last = remaining_ <= kSegmentBytes;
      auto plain = key_->Open(sealed, {tenant_.str(), "blobs", name_, SegmentRow(index_, last)});
      if (!plain.ok()) return Internal("blob file was altered or does not belong here");
      ++index_;
      if (plain->size() != std::min<uint64_t>(remaining_, kSegmentBytes)) {
        return Internal("blob file is corrupt");
      }
      remaining_ -= plain->size();
      if (last) done_ = true;
      return std::move(*plain);
    };
    co_return co_await RunBlocking(pool_, std::move(read));
  }

  uint64_t size() const override { return size_; }

 private:
  asio::thread_pool& pool_;
  std::shared_ptr<const crypto::DataKey> key_;
  TenantId tenant_;
  std::string name_;
  int fd_;
  uint64_t size_;
  uint64_t remaining_ = size_;
  uint64_t index_ = 0;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::Open(LocalBlobOptions options) {
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec) return Unavailable("blob storage: cannot create " + options.root + ": " + ec.message());
  fs::permissions(options.root, fs::perms::owner_all, fs::perm_options::replace, ec);
  // Temporary files are uploads a crash interrupted; nobody can finish them.
  for (auto it = fs::recursive_directory_iterator(options.root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string().starts_with(kTempPrefix)) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
  return std::unique_ptr<LocalBlobStore>(new LocalBlobStore(std::move(options)));
}

LocalBlobStore::LocalBlobStore(LocalBlobOptions options)
    : options_(std::move(options)), pool_(static_cast<size_t>(std::max(1, options_.threads))) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    asio::post(pool_, [] { core::NameThisThread("blob-io"); });
  }
}

LocalBlobStore::~LocalBlobStore() { pool_.join(); }

std::string LocalBlobStore::BucketPath(const TenantId& tenant) const {
  return options_.root + "/" + tenant.str();
}

asio::awaitable<Result<std::unique_ptr<BlobWriter>>> LocalBlobStore::Create(const TenantId& tenant,
                                                                            std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await options_.keys(tenant));
  const std::string dir = BucketPath(tenant);
  std::function<Result<int>()> open = [&]() -> Result<int> {
    PARLEY_RETURN_IF_ERROR(EnsureDir(dir));
    const std::string temp = dir + "/" + std::string(kTempPrefix) + name;
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create");
    if (Status s = WriteAll(fd, kMagic); !s.ok()) {
      ::close(fd);
      ::unlink(temp.c_str());
      return s;
    }
    return fd;
  };
  PARLEY_CO_ASSIGN_OR_RETURN(int fd, co_await RunBlocking(pool_, std::move(open)));
  co_return std::unique_ptr<BlobWriter>(
      std::make_unique<LocalWriter>(pool_, std::move(key), tenant, std::move(name), dir, fd));
}

asio::awaitable<Result<std::unique_ptr<BlobReader>>> LocalBlobStore::Open(const TenantId& tenant,
                                                                          std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await options_.keys(tenant));
  const std::string path = BucketPath(tenant) + "/" + name;
  struct Opened {
    int fd;
    uint64_t size;
  };
  std::function<Result<Opened>()> open = [&]() -> Result<Opened> {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return NotFound("no such blob");
    if (fd < 0) return ErrnoStatus("open");
    struct stat st {};
    char magic[kMagic.size()];
    size_t got = 0;
    Status read = ReadFull(fd, magic, sizeof magic, &got);
    if (::fstat(fd, &st) != 0 || !read.ok() || got != sizeof magic ||
        std::string_view(magic, sizeof magic) != kMagic) {
      ::close(fd);
      return Internal("blob file is corrupt");
    }
    auto size = PlaintextSize(static_cast<uint64_t>(st.st_size));
    if (!size.ok()) {
      ::close(fd);
      return size.status();
    }
    return Opened{fd, *size};
  };
  PARLEY_CO_ASSIGN_OR_RETURN(Opened opened, co_await RunBlocking(pool_, std::move(open)));
  co_return std::unique_ptr<BlobReader>(std::make_unique<LocalReader>(
      pool_, std::move(key), tenant, std::move(name), opened.fd, opened.size));
}

asio::awaitable<Status> LocalBlobStore::Delete(const TenantId& tenant, std::string name) {
  if (!IsValidBlobName(name)) co_return InvalidArgument("invalid blob name");
  const std::string path = BucketPath(tenant) + "/" + name;
  std::function<Status()> remove = [&]() -> Status {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("delete");
    return OkStatus();
  };
  co_return co_await RunBlocking(pool_, std::move(remove));
}

asio::awaitable<Status> LocalBlobStore::DeleteTenant(const TenantId& tenant) {
  const std::string dir = BucketPath(tenant);
  std::function<Status()> remove = [&]() -> Status {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return Unavailable("blob storage: delete bucket: " + ec.message());
    return OkStatus();
  };
  co_return co_await RunBlocking(pool_, std::move(remove));
}

asio::awaitable<Result<std::vector<BlobInfo>>> LocalBlobStore::List(const TenantId& tenant,
                                                                    int limit) {
  const std::string dir = BucketPath(tenant);
  std::function<Result<std::vector<BlobInfo>>()> list = [&]() -> Result<std::vector<BlobInfo>> {
    std::vector<BlobInfo> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (!IsValidBlobName(file)) continue;  // temporary files
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out.push_back({file, static_cast<uint64_t>(st.st_size),
                     TimePoint(std::chrono::seconds(st.st_mtim.tv_sec))});
      if (static_cast<int>(out.size()) >= limit) break;
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return Unavailable("blob storage: list: " + ec.message());
    }
    return out;
  };
  co_return co_await RunBlocking(pool_, std::move(list));
}

Result<std::optional<std::string>> LocalBlobStore::PresignGet(const TenantId&,
                                                              std::string_view name,
                                                              std::chrono::seconds) const {
  if (!IsValidBlobName(name)) return InvalidArgument("invalid blob name");
  return std::optional<std::string>();
}

}  // namespace parley::blob

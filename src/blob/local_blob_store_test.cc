// src/blob/local_blob_store_test.cc
#include "blob/local_blob_store.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "http/io_runtime.h"

namespace parley::blob {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("parley-blob-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    keys_.emplace(a_.str(), std::make_shared<const crypto::DataKey>(crypto::DataKey::Generate()));
    keys_.emplace(b_.str(), std::make_shared<const crypto::DataKey>(crypto::DataKey::Generate()));
    runtime_.Start(1);
    store_ = Reopen();
  }
  void TearDown() override {
    store_.reset();
    runtime_.Stop();
    fs::remove_all(root_);
  }

  std::unique_ptr<LocalBlobStore> Reopen() {
    LocalBlobOptions options;
    options.root = root_.string();
    options.keys =
        [this](
            const TenantId& t) -> asio::awaitable<Result<std::shared_ptr<const crypto::DataKey>>> {
      auto it = keys_.find(t.str());
      if (it == keys_.end()) co_return NotFound("no such tenant");
      co_return it->second;
    };
    auto store = LocalBlobStore::Open(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().message();
    return std::move(*store);
  }

  // Runs `task` on the I/O thread and waits (Result has no default constructor, which
  // co_spawn's future needs, so the value travels through an optional).
  template <typename T>
  T Run(asio::awaitable<T> task) {
    std::optional<T> out;
    auto wrapper = [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(task)); };
    asio::co_spawn(runtime_.context(), wrapper(), asio::use_future).get();
    return std::move(*out);
  }
  void Run(asio::awaitable<void> task) {
    asio::co_spawn(runtime_.context(), std::move(task), asio::use_future).get();
  }

  Status Put(const TenantId& tenant, const std::string& name, const std::string& bytes,
             size_t chunk = 10000) {
    auto writer = Run(store_->Create(tenant, name));
    if (!writer.ok()) return writer.status();
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      PARLEY_RETURN_IF_ERROR(Run((*writer)->Append(std::string_view(bytes).substr(i, chunk))));
    }
    return Run((*writer)->Commit());
  }

  Result<std::string> Get(const TenantId& tenant, const std::string& name) {
    PARLEY_ASSIGN_OR_RETURN(auto reader, Run(store_->Open(tenant, name)));
    std::string out;
    for (;;) {
      PARLEY_ASSIGN_OR_RETURN(std::string chunk, Run(reader->Next()));
      if (chunk.empty()) break;
      out += chunk;
    }
    if (out.size() != reader->size()) return Internal("size mismatch");
    return out;
  }

  std::string PathOf(const TenantId& tenant, const std::string& name) {
    return store_->BucketPath(tenant) + "/" + name;
  }

  static std::string Pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
  }

  SystemClock clock_;
  fs::path root_;
  TenantId a_ = TenantId::New(clock_);
  TenantId b_ = TenantId::New(clock_);
  std::map<std::string, std::shared_ptr<const crypto::DataKey>> keys_;
  http::IoRuntime runtime_;
  std::unique_ptr<LocalBlobStore> store_;
};

TEST_F(LocalBlobStoreTest, RoundTripsObjectsOfEverySegmentBoundary) {
  for (size_t size : {size_t{0}, size_t{1}, kSegmentBytes - 1, kSegmentBytes, kSegmentBytes + 1,
                      3 * kSegmentBytes, 3 * kSegmentBytes + 17}) {
    const std::string name = NewBlobName();
    const std::string bytes = Pattern(size);
    ASSERT_TRUE(Put(a_, name, bytes).ok()) << size;
    auto back = Get(a_, name);
    ASSERT_TRUE(back.ok()) << size << " " << back.status().message();
    EXPECT_EQ(*back, bytes) << size;
  }
}

TEST_F(LocalBlobStoreTest, FilesAreSealedPrivateAndNamedByTheirRandomName) {
  const std::string name = NewBlobName();
  const std::string marker = "MARKER-attachment-content-7f3a";
  ASSERT_TRUE(Put(a_, name, marker + Pattern(100000) + marker).ok());
  const std::string raw = ReadFile(PathOf(a_, name));
  EXPECT_EQ(raw.find(marker), std::string::npos);
  EXPECT_EQ(raw.find("abcdefg"), std::string::npos);
  EXPECT_EQ(fs::status(store_->BucketPath(a_)).permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(fs::status(PathOf(a_, name)).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(store_->BucketPath(a_))) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{name});
}

TEST_F(LocalBlobStoreTest, AlteredTruncatedOrMovedFilesFailToOpen) {
  const std::string name = NewBlobName();
  const std::string bytes = Pattern(2 * kSegmentBytes + 5);
  ASSERT_TRUE(Put(a_, name, bytes).ok());
  const std::string raw = ReadFile(PathOf(a_, name));

  std::string flipped = raw;
  flipped[raw.size() / 2] ^= 1;
  WriteFile(PathOf(a_, name), flipped);
  EXPECT_EQ(Get(a_, name).status().code(), StatusCode::kInternal);

  // Cut off the last segment exactly: the file still parses, but no segment says "last".
  const size_t last = 4 + crypto::kSealOverhead + 5;
  WriteFile(PathOf(a_, name), raw.substr(0, raw.size() - last));
  EXPECT_FALSE(Get(a_, name).ok());

  // The same bytes under another name, or in another tenant's bucket.
  const std::string other = NewBlobName();
  WriteFile(PathOf(a_, other), raw);
  EXPECT_EQ(Get(a_, other).status().code(), StatusCode::kInternal);
  ASSERT_TRUE(Put(b_, NewBlobName(), "x").ok());
  WriteFile(PathOf(b_, name), raw);
  EXPECT_EQ(Get(b_, name).status().code(), StatusCode::kInternal);
}

TEST_F(LocalBlobStoreTest, UncommittedObjectsAreInvisibleAndAbortLeavesNothing) {
  const std::string name = NewBlobName();
  auto writer = Run(store_->Create(a_, name));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(Run((*writer)->Append(Pattern(3 * kSegmentBytes))).ok());
  EXPECT_EQ(Get(a_, name).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Run(store_->List(a_, 100))->empty());
  Run((*writer)->Abort());
  EXPECT_EQ(Run((*writer)->Commit()).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::is_empty(store_->BucketPath(a_)));

  // A writer dropped without Commit cleans up too, and so does a restart after a crash.
  {
    auto dropped = Run(store_->Create(a_, NewBlobName()));
    ASSERT_TRUE(Run((*dropped)->Append("partial")).ok());
  }
  EXPECT_TRUE(fs::is_empty(store_->BucketPath(a_)));
  WriteFile(store_->BucketPath(a_) + "/.tmp-" + NewBlobName(), "left by a crash");
  store_ = Reopen();
  EXPECT_TRUE(fs::is_empty(store_->BucketPath(a_)));
}

TEST_F(LocalBlobStoreTest, DeleteListAndDeleteTenant) {
  const std::string one = NewBlobName(), two = NewBlobName();
  ASSERT_TRUE(Put(a_, one, "one").ok());
  ASSERT_TRUE(Put(a_, two, "two").ok());
  ASSERT_TRUE(Put(b_, NewBlobName(), "b").ok());
  EXPECT_EQ(Run(store_->List(a_, 100))->size(), 2u);
  EXPECT_EQ(Run(store_->List(a_, 1))->size(), 1u);

  EXPECT_TRUE(Run(store_->Delete(a_, one)).ok());
  EXPECT_TRUE(Run(store_->Delete(a_, one)).ok());  // already gone
  EXPECT_FALSE(fs::exists(PathOf(a_, one)));
  EXPECT_EQ(Get(a_, one).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Run(store_->List(a_, 100))->size(), 1u);

  EXPECT_TRUE(Run(store_->DeleteTenant(a_)).ok());
  EXPECT_FALSE(fs::exists(store_->BucketPath(a_)));
  EXPECT_TRUE(Run(store_->List(a_, 100))->empty());
  EXPECT_EQ(Run(store_->List(b_, 100))->size(), 1u);
  EXPECT_TRUE(Run(store_->DeleteTenant(a_)).ok());
}

TEST_F(LocalBlobStoreTest, RejectsNamesThatCouldLeaveTheBucketAndUnknownTenants) {
  for (std::string bad : {"../../etc/passwd", "", "ABCDEF0123456789ABCDEF0123456789",
                          ".tmp-0123456789abcdef0123456789ab"}) {
    EXPECT_EQ(Run(store_->Create(a_, bad)).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(Run(store_->Open(a_, bad)).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(Run(store_->Delete(a_, bad)).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(Run(store_->Create(TenantId::New(clock_), NewBlobName())).status().code(),
            StatusCode::kNotFound);
  auto presigned = store_->PresignGet(a_, NewBlobName(), std::chrono::seconds(60));
  ASSERT_TRUE(presigned.ok());
  EXPECT_FALSE(presigned->has_value());
  EXPECT_TRUE(IsValidBlobName(NewBlobName()));
  EXPECT_NE(NewBlobName(), NewBlobName());
}

}  // namespace
}  // namespace parley::blob

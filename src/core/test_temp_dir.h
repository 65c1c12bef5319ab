// src/core/test_temp_dir.h
//
// For tests: a directory of their own under the system's temporary directory, removed with
// everything in it when the object goes. Declare it before what keeps files open in it.
//
//   TestTempDir tmp("parley_lookup");
//   ASSERT_TRUE(tmp.ok());
//   auto store = SqliteStore::Open({.path = tmp.path() + "/parley.db"});
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace parley {

class TestTempDir {
 public:
  explicit TestTempDir(std::string_view prefix) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "_XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
  }
  ~TestTempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestTempDir(const TestTempDir&) = delete;
  TestTempDir& operator=(const TestTempDir&) = delete;

  // False when the directory could not be made (path() is then empty).
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace parley

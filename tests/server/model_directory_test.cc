// Listing a --models directory (server/model_directory.h) when reading the directory fails
// part-way: readdir is interposed below so that a listing can be made to fail with EIO after
// some entries, as it does on a failing disk or a stale NFS handle.
#include "server/model_directory.h"

#include <dirent.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

// Armed (>= 0) on one thread only: after this many entries other than "." and "..", the next
// readdir of that thread fails with EIO once and disarms. Every other call passes through.
thread_local int entries_before_failure = -1;
thread_local int interposed_calls = 0;

}  // namespace

// Interposes glibc's readdir for this test binary (libstdc++'s directory_iterator calls it).
extern "C" struct dirent* readdir(DIR* dir) {
  using Readdir = struct dirent* (*)(DIR*);
  static const Readdir real = reinterpret_cast<Readdir>(::dlsym(RTLD_NEXT, "readdir"));
  if (entries_before_failure < 0) return real(dir);
  ++interposed_calls;
  if (entries_before_failure == 0) {
    entries_before_failure = -1;
    errno = EIO;
    return nullptr;
  }
  struct dirent* entry = real(dir);
  if (entry != nullptr && std::strcmp(entry->d_name, ".") != 0 &&
      std::strcmp(entry->d_name, "..") != 0) {
    --entries_before_failure;
  }
  return entry;
}

namespace hnet::server {
namespace {

namespace fs = std::filesystem;

class ModelDirectoryReadErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "hnet_model_dir_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    entries_before_failure = -1;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Touch(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "x";
  }

  // ScanModelDirectory(dir_) with readdir failing after `entries` entries (on this thread).
  absl::StatusOr<DirectoryScan> ScanFailingAfter(int entries) {
    interposed_calls = 0;
    entries_before_failure = entries;
    absl::StatusOr<DirectoryScan> scan = ScanModelDirectory(dir_.string());
    entries_before_failure = -1;
    return scan;
  }

  fs::path dir_;
};

TEST_F(ModelDirectoryReadErrorTest, ReaddirFailingInTheModelsDirIsUnavailableNamingIt) {
  Touch(dir_ / "a.hnet");
  Touch(dir_ / "b.hnet");
  ASSERT_TRUE(ScanModelDirectory(dir_.string()).ok());
  absl::StatusOr<DirectoryScan> scan = ScanFailingAfter(1);
  if (interposed_calls == 0) GTEST_SKIP() << "readdir is not interposable in this build";
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kUnavailable) << scan.status();
  EXPECT_NE(scan.status().message().find(dir_.string()), std::string::npos) << scan.status();
  EXPECT_NE(scan.status().message().find(std::strerror(EIO)), std::string::npos) << scan.status();
}

TEST_F(ModelDirectoryReadErrorTest, ReaddirFailingInAVersionFolderLeavesThatModelUnreadable) {
  Touch(dir_ / "m" / "1.hnet");
  Touch(dir_ / "m" / "2.hnet");
  // The models dir's one entry ("m"), then the first of m/: the next read of m/ fails.
  absl::StatusOr<DirectoryScan> scan = ScanFailingAfter(2);
  if (interposed_calls == 0) GTEST_SKIP() << "readdir is not interposable in this build";
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->unreadable.count("m"), 1u);
  EXPECT_TRUE(scan->files.empty());
  ASSERT_EQ(scan->skipped.size(), 1u);
  EXPECT_NE(scan->skipped[0].find((dir_ / "m").string()), std::string::npos) << scan->skipped[0];
}

TEST_F(ModelDirectoryReadErrorTest, ListsSingleAndVersionedModelsHighestVersionFirst) {
  Touch(dir_ / "a.hnet");
  Touch(dir_ / "m" / "1.hnet");
  Touch(dir_ / "m" / "3.hnet");
  absl::StatusOr<DirectoryScan> scan = ScanModelDirectory(dir_.string());
  ASSERT_TRUE(scan.ok()) << scan.status();
  ASSERT_EQ(scan->files.size(), 3u);
  EXPECT_EQ(scan->files[0].name, "a");
  EXPECT_EQ(scan->files[1].version, 3);
  EXPECT_EQ(scan->files[2].version, 1);
  EXPECT_TRUE(scan->unreadable.empty());
}

}  // namespace
}  // namespace hnet::server

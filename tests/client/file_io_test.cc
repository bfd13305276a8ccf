#include "client/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace hnet::client {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("file_io_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Names in the test directory.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename());
    return out;
  }

  fs::path dir_;
};

TEST_F(FileIoTest, WriteReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = dir_ / "w.npy";
  ASSERT_TRUE(WriteFile(path, "first").ok());
  ASSERT_TRUE(WriteFile(path, std::string("se\0cond", 7)).ok());
  absl::StatusOr<std::string> back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, std::string("se\0cond", 7));
  EXPECT_EQ(Entries(), std::vector<std::string>{"w.npy"});
}

TEST_F(FileIoTest, WrittenFileHasOrdinaryPermissions) {
  const std::string path = dir_ / "p.csv";
  const mode_t old = ::umask(022);
  const absl::Status s = WriteFile(path, "x");
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(FileIoTest, ConcurrentWritersEachLeaveAWholeFile) {
  const std::string path = dir_ / "c.bin";
  const std::string a(1 << 20, 'a');
  const std::string b(1 << 20, 'b');
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] { EXPECT_TRUE(WriteFile(path, i % 2 ? a : b).ok()); });
  }
  for (std::thread& t : writers) t.join();
  absl::StatusOr<std::string> back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == a || *back == b);
  EXPECT_EQ(Entries(), std::vector<std::string>{"c.bin"});
}

TEST_F(FileIoTest, WriteIntoAMissingDirectoryFailsNamingIt) {
  const absl::Status s = WriteFile(dir_ / "no" / "x.npy", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("no/x.npy"), std::string::npos) << s;
}

TEST_F(FileIoTest, ReadingADirectoryIsAnError) {
  const absl::StatusOr<std::string> r = ReadFile(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(dir_.string()), std::string::npos) << r.status();
}

TEST_F(FileIoTest, ReadingAMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(dir_ / "absent").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hnet::client

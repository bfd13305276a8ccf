#include "trainer/output_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hnet::trainer {
namespace {

namespace fs = std::filesystem;

class OutputPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hnet_output_path_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OutputPathTest, ANewFileInAWritableDirectoryIsFineAndLeavesNothingBehind) {
  EXPECT_TRUE(CheckOutputPath("--out", (dir_ / "new.hnet").string(), false).ok());
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(OutputPathTest, AnExistingFileNeedsOverwriteOrToBeTheResumedRun) {
  const fs::path out = dir_ / "done.hnet";
  std::ofstream(out) << "trained";
  absl::Status s = CheckOutputPath("--out", out.string(), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("--out " + out.string()), std::string::npos) << s;
  EXPECT_NE(s.message().find("--overwrite"), std::string::npos) << s;
  EXPECT_TRUE(CheckOutputPath("--out", out.string(), true).ok());
  // The same file under another spelling is still the run continuing in place.
  EXPECT_TRUE(
      CheckOutputPath("--out", out.string(), false, (dir_ / "." / "done.hnet").string()).ok());
  std::ofstream(dir_ / "other.hnet") << "another run";
  EXPECT_EQ(CheckOutputPath("--out", out.string(), false, (dir_ / "other.hnet").string()).code(),
            absl::StatusCode::kAlreadyExists);
  std::ifstream in(out);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "trained");
}

TEST_F(OutputPathTest, DirectoriesAndMissingParentsAreRefusedNamingTheFlag) {
  absl::Status s = CheckOutputPath("--out", dir_.string(), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is a directory"), std::string::npos) << s;
  s = CheckOutputPath("--out", (dir_ / "no" / "such" / "x.hnet").string(), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("--out"), std::string::npos) << s;
  EXPECT_EQ(CheckOutputPath("--out", "", false).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OutputPathTest, AnUnwritableDirectoryIsRefusedBeforeTraining) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into any directory";
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  absl::Status s = CheckOutputPath("--out", (dir_ / "x.hnet").string(), false);
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("cannot create files"), std::string::npos) << s;
}

}  // namespace
}  // namespace hnet::trainer

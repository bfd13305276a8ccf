#include "trainer/output_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/as_nobody.h"

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

// Root writes into any directory, so under root the check runs as "nobody".
TEST_F(OutputPathTest, AnUnwritableDirectoryIsRefusedBeforeTraining) {
  // Anyone may search and list it; no one may create files in it.
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  const std::string out = (dir_ / "x.hnet").string();
  if (::geteuid() != 0) {
    absl::Status s = CheckOutputPath("--out", out, false);
    fs::permissions(dir_, fs::perms::owner_all);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(s.message().find("cannot create files"), std::string::npos) << s;
    return;
  }
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody([&out] {
    const absl::Status s = CheckOutputPath("--out", out, false);
    return s.code() == absl::StatusCode::kPermissionDenied &&
           s.message().find("cannot create files") != absl::string_view::npos;
  });
  fs::permissions(dir_, fs::perms::owner_all);
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed)
      << "not PERMISSION_DENIED \"cannot create files\"";
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace hnet::trainer

// The `hnet` CLI's signal handling: a write killed by SIGTERM leaves no temporary file.
#include "client/cli/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/file_io.h"
#include "tests/client/python_util.h"

namespace hnet::cli {
namespace {

namespace fs = std::filesystem;

TEST(SignalsDeathTest, SigtermDuringAWriteLeavesNoTemporaryFile) {
  // "fast": the child is a fork of this process, so it writes into the same `dir` (the
  // "threadsafe" style re-runs the test from the start, with another temporary directory).
  GTEST_FLAG_SET(death_test_style, "fast");
  const fs::path dir = client::testing::UniqueTempPath("signals");
  fs::create_directories(dir);
  const std::string path = dir / "big.npz";
  EXPECT_EXIT(
      {
        InstallTemporaryFileCleanup();
        (void)io::WriteFileFrom(path, [&dir](io::ByteSink sink) {
          (void)sink(std::string(1 << 20, 'x'));  // the temporary file exists and has data
          std::ofstream(dir / "child_was_here") << "1";
          ::raise(SIGTERM);
          return sink("never");
        });
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir)) left.push_back(entry.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"child_was_here"});  // The temporary file is gone.
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hnet::cli
